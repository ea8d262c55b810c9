"""Scheduled reports: due after the period ends, written atomically, once, caught up after a stop, e-mailed."""

from __future__ import annotations

import email
import os
import ssl
from collections.abc import Iterator
from datetime import UTC, date, datetime
from email.message import Message
from pathlib import Path

import pytest
from openpyxl import load_workbook

from infra_monitor.config import Settings, load_settings
from infra_monitor.db import make_engine
from infra_monitor.reports.scheduled import due, run_due
from infra_monitor.status.notify.email import EmailSender
from tests.reports.intervals import Day
from tests.status.receivers import SmtpServer, self_signed_cert

# 01/04/2026 06:30 local = 2026-03-31T23:30Z: the month of March and the first quarter have ended.
AFTER = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)


def _settings(tmp_path: Path, url: str, *, email_channel: bool = False, port: int = 25) -> Settings:
    toml = tmp_path / "c.toml"
    mail = (f'[[notifications.email]]\nname = "so-tttt"\nhost = "127.0.0.1"\nport = {port}\nusername = "monitor"\n'
            f'password = "mail-pass"\nsender = "monitor@tinh.gov.vn"\nrecipients = ["lanhdao@tinh.gov.vn"]\n'
            if email_channel else "")
    toml.write_text(
        f'[database]\nurl = "{url}"\n[reports]\noutput_dir = "{tmp_path / "out"}"\nrun_at_hour = 6\n'
        '[[reports.schedules]]\nkind = "coverage"\nevery = "month"\nformats = ["pdf", "xlsx"]\n'
        + ('email = ["so-tttt"]\n' if email_channel else "")
        + '[[reports.schedules]]\nkind = "availability"\nevery = "quarter"\nformats = ["json"]\nlanguage = "en"\n'
        + mail, encoding="utf-8")
    return load_settings(toml, environ={})


@pytest.fixture
def sqlite_day(tmp_path: Path) -> Iterator[tuple[Day, str]]:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    engine = make_engine(url)
    yield Day(engine), url
    engine.dispose()


def test_a_period_is_due_only_after_run_at_hour_on_the_day_after_it(tmp_path: Path, sqlite_day: tuple[Day, str]
                                                                    ) -> None:
    settings = _settings(tmp_path, sqlite_day[1])
    before = datetime(2026, 3, 31, 22, 30, tzinfo=UTC)    # 05:30 local on 01/04
    assert [(d.schedule.kind, d.start, d.end) for d in due(settings, before)] == [
        ("coverage", date(2026, 2, 1), date(2026, 3, 1)), ("availability", date(2025, 10, 1), date(2026, 1, 1))]
    assert [(d.schedule.kind, d.start, d.end) for d in due(settings, AFTER)] == [
        ("coverage", date(2026, 3, 1), date(2026, 4, 1)), ("availability", date(2026, 1, 1), date(2026, 4, 1))]


def test_due_reports_are_written_atomically_once_and_caught_up(tmp_path: Path, sqlite_day: tuple[Day, str]) -> None:
    day, url = sqlite_day
    settings = _settings(tmp_path, url)
    files = run_due(day.engine, settings, AFTER)
    out = tmp_path / "out"
    names = sorted(p.name for p in files)
    assert names == ["bao-cao-availability-2026-01-01_2026-04-01-en.json",
                     "bao-cao-coverage-2026-03-01_2026-04-01.pdf", "bao-cao-coverage-2026-03-01_2026-04-01.xlsx"]
    assert all(p.parent == out and p.stat().st_size > 0 for p in files)
    assert all(oct(p.stat().st_mode & 0o777) == "0o640" for p in files)
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]      # no temporary left behind
    assert (out / "bao-cao-coverage-2026-03-01_2026-04-01.pdf").read_bytes().startswith(b"%PDF")
    wb = load_workbook(out / "bao-cao-coverage-2026-03-01_2026-04-01.xlsx")
    assert wb.sheetnames[0] and len(wb.sheetnames) > 3
    # A second run (the hourly job, a restart) writes nothing again.
    mtime = os.stat(files[0]).st_mtime_ns
    assert run_due(day.engine, settings, AFTER) == []
    assert os.stat(files[0]).st_mtime_ns == mtime
    # A server that was down for weeks writes the due report when it comes back (catch-up), one per schedule.
    later = datetime(2026, 5, 20, 3, 0, tzinfo=UTC)
    caught = run_due(day.engine, settings, later)
    assert sorted(p.name for p in caught) == ["bao-cao-coverage-2026-04-01_2026-05-01.pdf",
                                              "bao-cao-coverage-2026-04-01_2026-05-01.xlsx"]


def test_an_unwritable_folder_fails_that_report_and_leaves_no_marker(tmp_path: Path, sqlite_day: tuple[Day, str]
                                                                     ) -> None:
    day, url = sqlite_day
    settings = _settings(tmp_path, url)
    (tmp_path / "out").write_text("a file where the folder should be", encoding="utf-8")
    assert run_due(day.engine, settings, AFTER) == []
    (tmp_path / "out").unlink()
    assert len(run_due(day.engine, settings, AFTER)) == 3             # retried on the next run


@pytest.fixture(scope="module")
def smtp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SmtpServer, ssl.SSLContext]]:
    cert, key = self_signed_cert(tmp_path_factory.mktemp("smtp"))
    with SmtpServer(cert, key, user="monitor", password="mail-pass") as server:
        yield server, ssl.create_default_context(cafile=str(cert))


def test_scheduled_report_is_emailed_with_its_files_attached(tmp_path: Path, sqlite_day: tuple[Day, str],
                                                            smtp: tuple[SmtpServer, ssl.SSLContext]) -> None:
    server, ctx = smtp
    day, url = sqlite_day
    settings = _settings(tmp_path, url, email_channel=True, port=server.port)
    mailer = EmailSender(name="so-tttt", host="127.0.0.1", port=server.port, sender="monitor@tinh.gov.vn",
                         recipients=("lanhdao@tinh.gov.vn",), username="monitor", password="mail-pass",
                         ssl_context=ctx)
    before = len(server.inbox.messages)
    run_due(day.engine, settings, AFTER, senders={"so-tttt": mailer})
    assert len(server.inbox.messages) == before + 1
    envelope = server.inbox.messages[before]
    msg: Message = email.message_from_bytes(envelope.content)
    assert envelope.rcpt_tos == ["lanhdao@tinh.gov.vn"]
    subject = str(email.header.make_header(email.header.decode_header(msg["Subject"])))
    assert "Báo cáo độ phủ" in subject and "01/03/2026–31/03/2026" in subject
    attachments = {part.get_filename(): part.get_content_type() for part in msg.walk() if part.get_filename()}
    assert attachments == {
        "bao-cao-coverage-2026-03-01_2026-04-01.pdf": "application/pdf",
        "bao-cao-coverage-2026-03-01_2026-04-01.xlsx":
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
    # Sent once: the next run neither rewrites nor re-sends.
    run_due(day.engine, settings, AFTER, senders={"so-tttt": mailer})
    assert len(server.inbox.messages) == before + 1


def test_a_schedule_naming_an_unknown_channel_is_a_config_error(tmp_path: Path) -> None:
    from infra_monitor.config import ConfigError

    toml = tmp_path / "c.toml"
    toml.write_text('[[reports.schedules]]\nkind = "coverage"\nemail = ["nobody"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="nobody"):
        load_settings(toml, environ={})

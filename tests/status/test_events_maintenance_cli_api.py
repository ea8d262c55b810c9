"""Events and maintenance windows through the command line (``infra-monitor events``, ``maintenance …``).

Windows are typed in local time (Asia/Ho_Chi_Minh, GMT+7), so expected times come from the real clock in that
zone. The REST API side is in test_events_maintenance_http_api.py; the database in tests/status/windows_db.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from infra_monitor.cli import app as cli_app
from infra_monitor.status.store.listing import list_windows
from tests.status.inventory import Province
from tests.status.windows_db import (
    HCM,
    T0,
    Db,
    build_template,
    changes,
    copy_of,
    insert_events,
    local,
    minute,
    typed,
    windows,
)

runner = CliRunner()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Province]:
    path = tmp_path_factory.mktemp("template") / "template.db"
    return path, build_template(path)


@pytest.fixture
def db(template: tuple[Path, Province], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Db]:
    """A fresh copy of the database, which the CLI finds through INFRA_MONITOR_DATABASE__URL."""
    copy = copy_of(*template, tmp_path)
    monkeypatch.setenv("INFRA_MONITOR_DATABASE__URL", copy.url)
    monkeypatch.delenv("INFRA_MONITOR_CONFIG", raising=False)
    yield copy
    copy.engine.dispose()


def cli(*args: str) -> Any:
    return runner.invoke(cli_app, ["--lang", "en", *args])


def row_line(output: str, name: str) -> str:
    [line] = [ln for ln in output.splitlines() if f"\t{name}\t" in ln]
    return line


# ---------------------------------------------------------------- maintenance --------------------------------


def test_one_off_window_typed_in_local_time_is_stored_utc_and_listed_active(db: Db) -> None:
    now = minute(datetime.now(HCM))
    start, end = now - timedelta(hours=1), now + timedelta(hours=2)
    added = cli("maintenance", "add", "--name", "Thay switch", "--site", "yen-the", "--start", typed(start),
                "--end", typed(end), "--comment", "VNPT")
    assert added.exit_code == 0, added.output
    assert "active now: yes" in added.stdout

    [row] = windows(db)
    assert (row.kind, row.scope_type, row.scope_id) == ("one_off", "site", db.province.district_site)
    assert row.start == start.astimezone(UTC) and row.start.utcoffset() == timedelta(0)
    assert row.end == end.astimezone(UTC)
    assert (row.created_by, row.comment) == ("cli", "VNPT")

    listed = cli("maintenance", "list")
    assert listed.exit_code == 0, listed.output
    line = row_line(listed.stdout, "Thay switch")
    assert "site yen-the" in line and f"yes, until {local(end)}" in line
    assert "Thay switch" in cli("maintenance", "list", "--active").stdout


def test_future_one_off_window_is_inactive_and_its_start_is_the_next_occurrence(db: Db) -> None:
    start = minute(datetime.now(HCM)) + timedelta(days=2)
    added = cli("maintenance", "add", "--name", "Nâng cấp router", "--device", "yen-the/yt-router",
                "--start", typed(start), "--end", typed(start + timedelta(hours=3)))
    assert added.exit_code == 0, added.output
    assert [(w.scope_type, w.scope_id) for w in windows(db)] == [("device", db.province.district)]

    line = row_line(cli("maintenance", "list").stdout, "Nâng cấp router")
    assert "device yen-the/yt-router" in line and "\tno\t" in line and line.endswith(local(start))
    assert "no maintenance windows active now" in cli("maintenance", "list", "--active").stdout


def test_weekly_window_lists_its_next_occurrence_in_local_time(db: Db) -> None:
    nxt = minute(datetime.now(HCM) + timedelta(hours=3))
    day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[nxt.weekday()]
    added = cli("maintenance", "add", "--name", "Bảo trì tuần", "--region", "213", "--weekly", day,
                "--at", nxt.strftime("%H:%M"), "--duration", "120")
    assert added.exit_code == 0, added.output

    [row] = windows(db)
    assert (row.kind, row.days, row.duration_min, row.tz) == ("weekly", [nxt.weekday()], 120, "Asia/Ho_Chi_Minh")
    assert (row.scope_type, row.scope_id) == ("region", db.province.district_region)
    line = row_line(cli("maintenance", "list").stdout, "Bảo trì tuần")
    assert f"weekly {day} at {nxt:%H:%M} for 120 min" in line
    assert "\tno\t" in line and line.endswith(local(nxt))


def test_weekdays_may_be_given_the_vietnamese_way(db: Db) -> None:
    added = cli("maintenance", "add", "--name", "Cuối tuần", "--all", "--weekly", "t2,cn", "--at", "22:00",
                "--duration", "60")
    assert added.exit_code == 0, added.output
    assert windows(db)[0].days == [0, 6]


def test_cron_window_lists_its_next_occurrence_in_local_time(db: Db) -> None:
    nxt = minute(datetime.now(HCM) + timedelta(hours=5))
    added = cli("maintenance", "add", "--name", "Sao lưu", "--all", "--cron", f"{nxt.minute} {nxt.hour} * * *",
                "--duration", "180")
    assert added.exit_code == 0, added.output
    [row] = windows(db)
    assert (row.kind, row.scope_type, row.scope_id, row.duration_min) == ("cron", "all", None, 180)

    line = row_line(cli("maintenance", "list").stdout, "Sao lưu")
    assert "\tall\t" in line and "\tno\t" in line and line.endswith(local(nxt))
    [shown] = json.loads(cli("maintenance", "list", "--json").stdout)
    assert datetime.fromisoformat(shown["next_start"]) == nxt


def test_remove_deletes_the_window_and_every_write_is_logged_with_actor_cli(db: Db) -> None:
    start = minute(datetime.now(HCM)) + timedelta(days=1)
    added = cli("maintenance", "add", "--name", "Tạm", "--site", "xa-0", "--start", typed(start),
                "--end", typed(start + timedelta(hours=1)))
    assert "event=maintenance_window_added" in added.stderr and "actor=cli" in added.stderr
    [row] = windows(db)

    removed = cli("maintenance", "remove", str(row.id))
    assert removed.exit_code == 0, removed.output
    assert "event=maintenance_window_removed" in removed.stderr and "actor=cli" in removed.stderr
    assert windows(db) == []
    assert changes(db) == [("cli", "create", row.id), ("cli", "delete", row.id)]
    assert cli("maintenance", "remove", str(row.id)).exit_code == 2


GOOD_ONE_OFF = ["--start", "01/12/2026 22:00", "--end", "02/12/2026 02:00"]


@pytest.mark.parametrize(("args", "option", "says"), [
    (["--site", "khong-co", *GOOD_ONE_OFF], "--site", "no site with slug 'khong-co'"),
    (["--region", "99999", *GOOD_ONE_OFF], "--region", "no region with code '99999'"),
    (["--device", "yen-the/khong-co", *GOOD_ONE_OFF], "--device", "no device 'khong-co' at site 'yen-the'"),
    (["--site", "yen-the", "--start", "02/12/2026 02:00", "--end", "01/12/2026 22:00"], "--end",
     "end must be after start"),
    (["--site", "yen-the", "--start", "31/02/2026 02:00", "--end", "01/12/2026 22:00"], "--start",
     "DD/MM/YYYY HH:MM"),
    (["--all", "--cron", "0 22 * *", "--duration", "60"], "--cron", "five fields"),
    (["--all", "--cron", "0 25 * * sat", "--duration", "60"], "--cron", "invalid cron expression"),
    (["--all", "--weekly", "mon,thu7", "--at", "22:00", "--duration", "60"], "--weekly", "unknown weekday 'thu7'"),
    (["--all", "--weekly", "mon", "--at", "22:00"], "--duration", "positive"),
    (["--all", "--weekly", "mon", "--at", "22:00", "--duration", "60", "--tz", "Asia/Ha_Noi"], "--tz",
     "Asia/Ho_Chi_Minh"),
    (["--site", "yen-the", "--all", *GOOD_ONE_OFF], "--all", "exactly one scope"),
    (["--all", "--weekly", "mon", "--cron", "0 1 * * *", "--duration", "5"], "--cron", "exclude each other"),
    (["--all", "--start", "01/12/2026 22:00"], "--end", "needs --start and --end"),
])
def test_bad_input_exits_2_naming_the_option_and_writes_nothing(db: Db, args: list[str], option: str,
                                                                says: str) -> None:
    result = cli("maintenance", "add", "--name", "Sai", *args)
    assert result.exit_code == 2, result.output
    assert option in result.stderr and says in result.stderr, result.stderr
    assert windows(db) == [] and changes(db) == []


def test_listing_windows_costs_one_query_per_scope_type_not_per_window(db: Db) -> None:
    for i in range(6):
        scope = ("--site", "xa-0") if i % 2 else ("--device", f"xa-{i % 3 % 2}/xa-{i % 3 % 2}-router")
        assert cli("maintenance", "add", "--name", f"w{i}", *scope, "--weekly", "sat", "--at", "22:00",
                   "--duration", "30").exit_code == 0
    selects: list[str] = []
    event.listen(db.engine, "before_cursor_execute",
                 lambda _c, _cur, statement, *_a: selects.append(statement) if statement.startswith("SELECT") else None)
    with Session(db.engine) as session:
        listed = list_windows(session, datetime.now(UTC))
    assert [w.scope for w in listed] == ["xa-0/xa-0-router", "xa-0", "xa-0/xa-0-router", "xa-0",
                                         "xa-1/xa-1-router", "xa-0"]
    assert len(selects) == 3  # the windows, the devices' names, the sites' names


# ---------------------------------------------------------------- events -------------------------------------


def names(output: str) -> list[str]:
    return re.findall(r"\bE\d\b", output)


def test_events_are_listed_newest_first_in_local_time(db: Db) -> None:
    insert_events(db)
    result = cli("events")
    assert result.exit_code == 0, result.output
    assert names(result.stdout) == ["E5", "E4", "E3", "E2", "E1"]
    assert "TIME (GMT+7)" in result.stdout
    assert re.search(r"01/01/2026 08:00\s+critical\s+state_change\s+yen-the/yt-router\s+E1", result.stdout)

    [first, *_] = json.loads(cli("events", "--json").stdout)
    assert (first["message"], first["device"], first["site"]) == ("E5 state_change", "yen-the/yt-router", "yen-the")
    assert datetime.fromisoformat(first["time"]) == T0 + timedelta(minutes=40)


@pytest.mark.parametrize(("args", "expected"), [
    (["--site", "yen-the"], ["E5", "E3", "E1"]),
    (["--site", "xa-1"], ["E4"]),
    (["--device", "yen-the/yt-router"], ["E5", "E1"]),
    (["--kind", "state_change"], ["E5", "E2", "E1"]),
    (["--severity", "warning"], ["E3", "E2"]),
    (["--since", "01/01/2026 08:25"], ["E5", "E4"]),
    (["--site", "yen-the", "--kind", "state_change", "--severity", "critical"], ["E1"]),
    (["--since", "02/01/2026"], []),
])
def test_events_filters(db: Db, args: list[str], expected: list[str]) -> None:
    insert_events(db)
    result = cli("events", *args)
    assert result.exit_code == 0, result.output
    assert names(result.stdout) == expected


def test_events_limit_says_how_many_more_there_are(db: Db) -> None:
    insert_events(db)
    result = cli("events", "--limit", "2")
    assert names(result.stdout) == ["E5", "E4"] and "(2 of 5 shown" in result.stderr


@pytest.mark.parametrize(("args", "option"), [(["--site", "nope"], "--site"), (["--kind", "reboot"], "--kind"),
                                              (["--since", "yesterday"], "--since"),
                                              (["--device", "yt-router"], "--device")])
def test_events_bad_filter_exits_2_naming_the_option(db: Db, args: list[str], option: str) -> None:
    result = cli("events", *args)
    assert result.exit_code == 2 and option in result.output

"""Scheduled reports: monthly and quarterly documents written to a folder and optionally e-mailed.

Each ``[[reports.schedules]]`` entry names a kind, ``every = "month" | "quarter"``, formats, a language and
e-mail channels. :func:`run_due` is idempotent and catches up: for every schedule, the last *completed*
period (previous month or quarter, local time) is due once ``run_at_hour`` has passed on the first day after
it, and is produced unless its marker ``.done-…`` exists in ``output_dir``. So a server that was down on the
1st writes the report when it comes back, and a restart never writes it twice. Files are written
atomically (:func:`~infra_monitor.reports.render.write_atomic`): no half-written file ever has its final
name; the marker is written last, after the e-mails went out. The poller runs it every hour.
"""

from __future__ import annotations

import logging
import mimetypes
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from infra_monitor.config import ReportSchedule, Settings
from infra_monitor.reports.document import ReportDocument
from infra_monitor.reports.engine import build_report, params_from_config
from infra_monitor.reports.formatting import format_value
from infra_monitor.reports.params import params_for, previous_month, previous_quarter
from infra_monitor.reports.render import file_name, media_type, render, write_atomic
from infra_monitor.status.notify.base import DeliveryError, Sender
from infra_monitor.status.notify.worker import senders_from_settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Due:
    schedule: ReportSchedule
    start: date
    end: date

    @property
    def marker(self) -> str:
        return f".done-{self.schedule.kind}-{self.start}_{self.end}-{self.schedule.language}"


def due(settings: Settings, now: datetime) -> list[Due]:
    """Per schedule, the latest completed period that is ready at ``now`` (markers not checked)."""
    local = now.astimezone(ZoneInfo(settings.general.timezone))
    out = []
    for sch in settings.reports.schedules:
        step = previous_month if sch.every == "month" else previous_quarter
        start, end = step(local.date())
        ready_at = datetime(end.year, end.month, end.day, settings.reports.run_at_hour,
                            tzinfo=ZoneInfo(settings.general.timezone))
        if local < ready_at:             # the last period is not ready yet: the one before it is
            start, end = step(start)
        out.append(Due(sch, start, end))
    return out


def output_name(doc: ReportDocument, fmt: str, lang: str) -> str:
    name = file_name(doc, fmt)
    if lang == "vi":
        return name
    stem, dot, ext = name.rpartition(".")
    return f"{stem}-{lang}{dot}{ext}"


def run_due(engine: Engine, settings: Settings, now: datetime | None = None,
            senders: Mapping[str, Sender] | None = None) -> list[Path]:
    """Produce every due report not yet produced; returns the files written. ``senders`` (by channel name)
    default to the configured e-mail channels."""
    now = now or datetime.now(UTC)
    folder = Path(settings.reports.output_dir)
    written: list[Path] = []
    for item in due(settings, now):
        if (folder / item.marker).exists():
            continue
        try:
            written += _produce(engine, settings, item, folder, now, senders)
        except DeliveryError as exc:
            log.warning("event=report_email_failed kind=%s period=%s_%s error=%r (retried next run)",
                        item.schedule.kind, item.start, item.end, str(exc))
        except Exception:
            log.exception("event=report_failed kind=%s period=%s_%s", item.schedule.kind, item.start, item.end)
    return written


def _produce(engine: Engine, settings: Settings, item: Due, folder: Path, now: datetime,
             senders: Mapping[str, Sender] | None) -> list[Path]:
    sch = item.schedule
    params = params_for(sch.kind, item.start, item.end, timezone=settings.general.timezone,
                        **params_from_config(settings.reports))
    doc = build_report(engine, params, settings.reports, province_name=settings.general.province_name, now=now)
    files = []
    for fmt in sch.formats:
        path = folder / output_name(doc, fmt, sch.language)
        write_atomic(path, render(doc, fmt, sch.language))
        files.append(path)
    if sch.email:
        _email(settings, sch, doc, files, senders or senders_from_settings(settings))
    write_atomic(folder / item.marker, now.isoformat().encode())
    log.info("event=report_written kind=%s period=%s_%s files=%d emailed=%d", sch.kind, item.start, item.end,
             len(files), len(sch.email))
    return files


def _email(settings: Settings, sch: ReportSchedule, doc: ReportDocument, files: list[Path],
           senders: Mapping[str, Sender]) -> None:
    title = doc.header.title.get(sch.language)
    tz = ZoneInfo(doc.header.timezone)
    start = doc.header.period_start.astimezone(tz).date()
    last = (doc.header.period_end.astimezone(tz) - timedelta(days=1)).date()
    for name in sch.email:
        sender = senders[name]
        channel = next(c for c in settings.notifications.email if c.name == name)
        msg = EmailMessage()
        msg["Subject"] = f"[infra-monitor] {title} {start:%d/%m/%Y}–{last:%d/%m/%Y}"
        msg["From"] = channel.sender
        msg["To"] = ", ".join(channel.recipients)
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = make_msgid(domain="infra-monitor")
        lines = [title, f"{start:%d/%m/%Y} – {last:%d/%m/%Y}", ""]
        lines += [f"- {s.label.get(sch.language)}: {format_value(s.value, s.type, sch.language, tz, s.choices)}"
                  for s in doc.summary]
        msg.set_content("\n".join(lines), charset="utf-8")
        for path in files:
            fmt = path.suffix.lstrip(".")
            ctype = media_type("csv" if fmt == "zip" else fmt) if fmt in ("pdf", "xlsx", "json", "zip") else (
                mimetypes.guess_type(path.name)[0] or "application/octet-stream")
            maintype, _, subtype = ctype.partition("/")
            msg.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype.split(";")[0],
                               filename=path.name)
        sender.deliver(msg)  # type: ignore[attr-defined]

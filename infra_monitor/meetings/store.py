"""A readiness check from start to end: resolve the rooms, plan and run the probes, read the path facts,
evaluate (:mod:`infra_monitor.meetings.readiness`), store ``meeting_check`` + ``meeting_room_result``, and put
a notification listing the rooms not ready into the outbox for every channel that takes warnings.

:func:`run_check` is what the poller and ``infra-monitor meeting check`` call; the database work runs in a
worker thread, the probes on the caller's event loop.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlmodel import col

from infra_monitor.config import Settings
from infra_monitor.db import write_session
from infra_monitor.i18n import translator
from infra_monitor.meetings import probing
from infra_monitor.meetings.facts import mcu_state, uplinks_and_loads
from infra_monitor.meetings.models import Meeting, MeetingCheck, MeetingRoomResult
from infra_monitor.meetings.participants import Room, resolve
from infra_monitor.meetings.readiness import RECOVERED, Board, LinkLoad, RoomFacts, Uplink, changes, evaluate
from infra_monitor.meetings.texts import reasons_text
from infra_monitor.status.store.models import NotificationRow
from probes.base import ProbeContext, ProbeResult

log = logging.getLogger(__name__)
MAX_LISTED = 50


class MeetingNotFound(LookupError):
    pass


@dataclass
class Prepared:
    meeting: Meeting
    rooms: list[Room]
    plan: probing.ProbePlan
    uplinks: dict[int, Uplink]
    loads: dict[int, list[LinkLoad]]
    previous: dict[int, bool] | None


def previous_results(session: Session, meeting_id: int) -> dict[int, bool] | None:
    """Endpoint id → ready at the meeting's latest check (None when never checked)."""
    last = session.execute(select(col(MeetingCheck.id)).where(col(MeetingCheck.meeting_id) == meeting_id)
                           .order_by(col(MeetingCheck.at).desc(), col(MeetingCheck.id).desc()).limit(1)).scalar()
    if last is None:
        return None
    rows = session.execute(select(col(MeetingRoomResult.endpoint_id), col(MeetingRoomResult.ready))
                           .where(col(MeetingRoomResult.check_id) == last))
    return {ep: ready for ep, ready in rows if ep is not None}


def prepare(session: Session, settings: Settings, meeting_id: int, now: datetime) -> Prepared:
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise MeetingNotFound(f"no meeting #{meeting_id}")
    session.expunge(meeting)
    zone = ZoneInfo(settings.general.timezone)
    rooms = resolve(session, meeting_id, now.astimezone(zone).date())
    window = timedelta(minutes=settings.meetings.utilisation_window_min)
    uplinks, loads = uplinks_and_loads(session, [(r.site_id, r.device_id, r.parent_device_id) for r in rooms],
                                       now, window)
    return Prepared(meeting, rooms, probing.plan(session, settings, rooms, meeting.mcu_device_id), uplinks, loads,
                    previous_results(session, meeting_id))


def board_of(session: Session, settings: Settings, prep: Prepared, results: dict[str, ProbeResult]) -> Board:
    facts = []
    for r in prep.rooms:
        code, answered, error = probing.call_result(results, r)
        facts.append(RoomFacts(r.endpoint_id, r.device_name, r.room, r.site_name, r.protocol,
                               probing.icmp_answered(results, r.device_id), code, answered, error,
                               prep.uplinks.get(r.site_id), tuple(prep.loads.get(r.site_id, ()))))
    mcu = mcu_state(session, prep.meeting.mcu_device_id, probing.icmp_answered(results, prep.meeting.mcu_device_id))
    return evaluate(facts, mcu, settings.meetings.saturation_pct, prep.previous)


def _notify(session: Session, settings: Settings, meeting: Meeting, board: Board, check: MeetingCheck,
            now: datetime) -> int:
    recovered = changes(board)[RECOVERED]
    if not board.not_ready and not recovered:
        return 0
    severity = "warning" if board.not_ready else "info"
    rank = {"info": 0, "warning": 1, "critical": 2}
    specs: list[Any] = [*settings.notifications.webhooks, *settings.notifications.email]
    channels = [c.name for c in specs if rank[c.min_severity] <= rank[severity]]
    if not channels:
        return 0
    t = translator(settings.general.language)
    local = meeting.start.astimezone(ZoneInfo(settings.general.timezone))
    title = t("mt_notify_title", title=meeting.title, when=local.strftime("%d/%m/%Y %H:%M"),
              not_ready=board.not_ready, total=len(board.verdicts))
    listed = [v for v in board.verdicts if not v.ready][:MAX_LISTED]
    lang = settings.general.language
    lines = [title] + [f"- {v.room or v.device_name} ({v.site_name}): {reasons_text(t, v.reasons, lang)}"
                       for v in listed]
    if recovered:
        lines.append(t("mt_notify_recovered", rooms=", ".join(v.room or v.device_name for v in recovered)))
    payload: dict[str, Any] = {
        "kind": "meeting_readiness", "severity": severity, "time": now.isoformat(), "title": title,
        "meeting": {"id": meeting.id, "title": meeting.title, "start": meeting.start.isoformat()},
        "check_id": check.id, "ready": board.ready, "not_ready_count": board.not_ready,
        "not_ready": [{"endpoint_id": v.endpoint_id, "device": v.device_name, "room": v.room, "site": v.site_name,
                       "reasons": list(v.reasons), "change": v.change} for v in listed],
        "recovered": [{"endpoint_id": v.endpoint_id, "room": v.room, "site": v.site_name} for v in recovered],
        "text": "\n".join(lines)}
    for ch in channels:
        session.add(NotificationRow(channel=ch, payload=payload, next_attempt_at=now, created_at=now))
    return len(channels)


def store(session: Session, settings: Settings, prep: Prepared, results: dict[str, ProbeResult], now: datetime, *,
          trigger: str, lead_min: int | None = None, requested_by: str = "") -> MeetingCheck:
    """Evaluate and write one check (the caller commits)."""
    board = board_of(session, settings, prep, results)
    check = MeetingCheck(meeting_id=int(prep.meeting.id or 0), at=now, lead_min=lead_min, trigger=trigger,
                         requested_by=requested_by, ready=board.ready, not_ready=board.not_ready,
                         mcu_ok=not board.mcu.down)
    session.add(check)
    session.flush()
    for v in board.verdicts:
        session.add(MeetingRoomResult(check_id=int(check.id or 0), endpoint_id=v.endpoint_id, device_name=v.device_name,
                                      room=v.room, site_name=v.site_name, ready=v.ready, reasons=list(v.reasons),
                                      change=v.change))
    sent = _notify(session, settings, prep.meeting, board, check, now)
    session.flush()
    log.info("event=meeting_check meeting=%s check=%s trigger=%s lead_min=%s rooms=%d ready=%d not_ready=%d "
             "notifications=%d", prep.meeting.id, check.id, trigger, lead_min, len(board.verdicts), board.ready,
             board.not_ready, sent)
    return check


async def run_check(engine: Engine, settings: Settings, meeting_id: int, ctx: ProbeContext, *, trigger: str,
                    lead_min: int | None = None, requested_by: str = "", now: datetime | None = None) -> int:
    """One readiness check of ``meeting_id``, stored; returns the check id."""
    from infra_monitor.meetings.schedule import utcnow

    def _prepare() -> Prepared:
        with Session(engine) as session:
            return prepare(session, settings, meeting_id, now or utcnow())

    prep = await asyncio.to_thread(_prepare)
    results = await probing.probe(prep.plan, ctx)

    def _store() -> int:
        with write_session(engine) as session:
            check = store(session, settings, prep, results, now or utcnow(), trigger=trigger, lead_min=lead_min,
                          requested_by=requested_by)
            check_id = int(check.id or 0)
            session.commit()
            return check_id

    return await asyncio.to_thread(_store)

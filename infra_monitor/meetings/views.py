"""Meetings and readiness boards as the API, the pages and the CLI show them (pydantic models, UTC times).

:func:`board` reads a meeting's latest check (or the one asked for) with its rooms, not-ready rooms first,
and the changes since the previous check; :func:`ready_at_start` is what the videoconference report uses:
for each meeting held in a period, the rooms ready at the last check before its start.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from infra_monitor.meetings.manage import participant_specs
from infra_monitor.meetings.models import Meeting, MeetingCheck, MeetingCheckRequest, MeetingRoomResult
from inventory.models import Device


class MeetingOut(BaseModel):
    id: int
    title: str
    start: datetime
    duration_min: int
    mcu: dict[str, Any]
    participants: list[dict[str, Any]]
    notes: str
    created_by: str
    created_at: datetime
    updated_at: datetime


class RoomOut(BaseModel):
    endpoint_id: int | None
    device: str
    room: str
    site: str
    ready: bool
    reasons: list[dict[str, Any]]
    change: str


class BoardOut(BaseModel):
    meeting: MeetingOut
    check_id: int | None
    checked_at: datetime | None
    trigger: str | None
    lead_min: int | None
    ready: int
    not_ready: int
    mcu_ok: bool | None
    rooms: list[RoomOut]
    newly_not_ready: list[str]
    recovered: list[str]
    pending_request: bool


def meeting_out(session: Session, m: Meeting) -> MeetingOut:
    mcu_name = session.execute(select(col(Device.name)).where(col(Device.id) == m.mcu_device_id)).scalar_one_or_none()
    return MeetingOut(id=int(m.id or 0), title=m.title, start=m.start, duration_min=m.duration_min,
                      mcu={"id": m.mcu_device_id, "name": mcu_name or ""},
                      participants=participant_specs(session, int(m.id or 0)), notes=m.notes,
                      created_by=m.created_by, created_at=m.created_at, updated_at=m.updated_at)


def board(session: Session, m: Meeting, check_id: int | None = None) -> BoardOut:
    stmt = select(MeetingCheck).where(col(MeetingCheck.meeting_id) == m.id)
    if check_id is not None:
        stmt = stmt.where(col(MeetingCheck.id) == check_id)
    check = session.execute(stmt.order_by(col(MeetingCheck.at).desc(), col(MeetingCheck.id).desc()).limit(1)
                            ).scalars().first()
    rooms: list[RoomOut] = []
    if check is not None:
        rows = session.execute(select(MeetingRoomResult).where(col(MeetingRoomResult.check_id) == check.id)
                               .order_by(col(MeetingRoomResult.ready), col(MeetingRoomResult.site_name),
                                         col(MeetingRoomResult.room), col(MeetingRoomResult.id))).scalars()
        rooms = [RoomOut(endpoint_id=r.endpoint_id, device=r.device_name, room=r.room, site=r.site_name,
                         ready=r.ready, reasons=list(r.reasons or []), change=r.change) for r in rows]
    pending = session.execute(select(col(MeetingCheckRequest.id)).where(
        col(MeetingCheckRequest.meeting_id) == m.id, col(MeetingCheckRequest.done_at).is_(None)).limit(1)).first()
    return BoardOut(meeting=meeting_out(session, m), check_id=check.id if check else None,
                    checked_at=check.at if check else None, trigger=check.trigger if check else None,
                    lead_min=check.lead_min if check else None,
                    ready=sum(1 for r in rooms if r.ready), not_ready=sum(1 for r in rooms if not r.ready),
                    mcu_ok=check.mcu_ok if check else None, rooms=rooms,
                    newly_not_ready=[r.room or r.device for r in rooms if r.change == "newly_not_ready"],
                    recovered=[r.room or r.device for r in rooms if r.change == "recovered"],
                    pending_request=pending is not None)


class SummaryOut(BaseModel):
    """A meeting in a list: its facts and the counters of its latest check (None: never checked)."""

    meeting: dict[str, Any]
    check_id: int | None
    checked_at: datetime | None
    ready: int | None
    not_ready: int | None


def summaries(session: Session, meetings: list[Meeting]) -> dict[int, SummaryOut]:
    """Meeting id → summary, for a whole list in two queries (MCU names, checks), whatever its length."""
    ids = [int(m.id or 0) for m in meetings]
    if not ids:
        return {}
    mcus = {int(r[0] or 0): r[1] for r in session.execute(select(col(Device.id), col(Device.name)).where(
        col(Device.id).in_({m.mcu_device_id for m in meetings})))}
    latest: dict[int, MeetingCheck] = {}
    for check in session.execute(select(MeetingCheck).where(col(MeetingCheck.meeting_id).in_(ids))
                                 .order_by(col(MeetingCheck.at), col(MeetingCheck.id))).scalars():
        latest[check.meeting_id] = check
    out = {}
    for m in meetings:
        c = latest.get(int(m.id or 0))
        out[int(m.id or 0)] = SummaryOut(
            meeting={"id": m.id, "title": m.title, "start": m.start, "duration_min": m.duration_min,
                     "mcu": {"id": m.mcu_device_id, "name": mcus.get(m.mcu_device_id, "")}},
            check_id=c.id if c else None, checked_at=c.at if c else None, ready=c.ready if c else None,
            not_ready=c.not_ready if c else None)
    return out


def ready_at_start(session: Session, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Meetings that started in [start, end): per meeting, rooms ready / checked at its last check before the
    start, and the rooms not ready then (three queries)."""
    meetings = list(session.execute(select(Meeting).where(col(Meeting.start) >= start, col(Meeting.start) < end)
                                    .order_by(col(Meeting.start), col(Meeting.id))).scalars())
    if not meetings:
        return []
    ids = [m.id for m in meetings]
    starts = {m.id: m.start for m in meetings}
    last: dict[int, MeetingCheck] = {}
    for c in session.execute(select(MeetingCheck).where(col(MeetingCheck.meeting_id).in_(ids))
                             .order_by(col(MeetingCheck.at), col(MeetingCheck.id))).scalars():
        if c.at < starts[c.meeting_id]:
            last[c.meeting_id] = c
    not_ready: dict[int, list[str]] = {}
    if last:
        for r in session.execute(select(MeetingRoomResult).where(
                col(MeetingRoomResult.check_id).in_([c.id for c in last.values()]),
                col(MeetingRoomResult.ready).is_(False))).scalars():
            not_ready.setdefault(r.check_id, []).append(r.room or r.device_name)
    out = []
    for m in meetings:
        found = last.get(int(m.id or 0))
        out.append({"id": m.id, "title": m.title, "start": m.start,
                    "checked": (found.ready + found.not_ready) if found else None,
                    "ready": found.ready if found else None,
                    "not_ready_rooms": ", ".join(not_ready.get(int(found.id or 0), [])) if found else ""})
    return out

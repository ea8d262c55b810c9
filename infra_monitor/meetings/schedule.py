"""When readiness checks run: the scheduled sweeps at each lead time (``[meetings] lead_times_min``, default
60 and 15 minutes before the start) and the operators' "check now" requests.

A meeting is due for lead time L when ``start - L <= now < start`` and no check of lead L exists yet; when
the poller was not running at an earlier lead time, only the shortest lead time already passed is run (one
check, not a burst). The unique index on ``(meeting_id, lead_min)`` keeps two pollers from storing the same
sweep twice. :func:`poller_running` tells the web whether a request will be picked up.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col

from infra_monitor.config import Settings
from infra_monitor.db import write_session
from infra_monitor.meetings.models import Meeting, MeetingCheck, MeetingCheckRequest
from infra_monitor.status.store.models import PollerHeartbeatRow
from probes.base import ProbeContext

log = logging.getLogger(__name__)
POLLER_SILENT_AFTER = timedelta(minutes=3)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Due:
    meeting_id: int
    lead_min: int


def due_sweeps(session: Session, lead_times_min: list[int], now: datetime) -> list[Due]:
    """The scheduled readiness sweeps due at ``now`` (two queries)."""
    if not lead_times_min:
        return []
    longest = max(lead_times_min)
    meetings = list(session.execute(select(col(Meeting.id), col(Meeting.start)).where(
        col(Meeting.start) > now, col(Meeting.start) <= now + timedelta(minutes=longest))))
    if not meetings:
        return []
    done = set(session.execute(select(col(MeetingCheck.meeting_id), col(MeetingCheck.lead_min)).where(
        col(MeetingCheck.meeting_id).in_([m for m, _s in meetings]),
        col(MeetingCheck.lead_min).is_not(None))))
    out = []
    for meeting_id, start in meetings:
        passed = [lead for lead in lead_times_min if start - timedelta(minutes=lead) <= now]
        if not passed:
            continue
        lead = min(passed)
        if (meeting_id, lead) not in done:
            out.append(Due(int(meeting_id or 0), lead))
    return out


def pending_requests(session: Session) -> list[MeetingCheckRequest]:
    return list(session.execute(select(MeetingCheckRequest).where(col(MeetingCheckRequest.done_at).is_(None))
                                .order_by(col(MeetingCheckRequest.id))).scalars())


def poller_running(session: Session, now: datetime) -> bool:
    """Whether some poller finished a sweep recently (it will pick up a check request within seconds)."""
    last = session.execute(select(func.max(col(PollerHeartbeatRow.last_sweep_finished)))).scalar()
    if last is None:
        return False
    if last.tzinfo is None:
        last = last.replace(tzinfo=UTC)
    return bool(now - last <= POLLER_SILENT_AFTER)


def request_check(session: Session, meeting_id: int, requested_by: str, now: datetime) -> MeetingCheckRequest:
    """Record an operator's "check now" (the caller commits); one pending request per meeting is enough."""
    existing = session.execute(select(MeetingCheckRequest).where(
        col(MeetingCheckRequest.meeting_id) == meeting_id, col(MeetingCheckRequest.done_at).is_(None))
        .limit(1)).scalars().first()
    if existing is not None:
        return existing
    req = MeetingCheckRequest(meeting_id=meeting_id, requested_by=requested_by, requested_at=now)
    session.add(req)
    session.flush()
    return req


async def run_due(engine: Engine, settings: Settings, ctx: ProbeContext) -> int:
    """Run every due lead-time sweep and pending request (the poller's ``readiness`` job); returns how many."""
    import asyncio

    from infra_monitor.meetings.store import MeetingNotFound, run_check

    def _load() -> tuple[list[Due], list[tuple[int, int, str]]]:
        with Session(engine) as session:
            now = utcnow()
            reqs = [(int(r.id or 0), r.meeting_id, r.requested_by) for r in pending_requests(session)]
            return due_sweeps(session, settings.meetings.lead_times_min, now), reqs

    due, reqs = await asyncio.to_thread(_load)
    ran = 0
    for d in due:
        try:
            await run_check(engine, settings, d.meeting_id, ctx, trigger="lead", lead_min=d.lead_min)
            ran += 1
        except IntegrityError:  # another poller stored this sweep first
            log.info("event=meeting_check_taken meeting=%s lead_min=%s", d.meeting_id, d.lead_min)
    for req_id, meeting_id, who in reqs:
        if not await asyncio.to_thread(_claim, engine, req_id):
            continue  # another poller process of the group took it
        check_id: int | None = None
        try:
            check_id = await run_check(engine, settings, meeting_id, ctx, trigger="request", requested_by=who)
            ran += 1
        except MeetingNotFound:
            pass

        def _done(req_id: int = req_id, check_id: int | None = check_id) -> None:
            with write_session(engine) as session:
                req = session.get(MeetingCheckRequest, req_id)
                if req is not None:
                    req.check_id = check_id
                    session.commit()

        await asyncio.to_thread(_done)
    return ran


def _claim(engine: Engine, req_id: int) -> bool:
    """Take a pending request for this process: ``done_at`` set where it is still empty, so of several poller
    processes (one group shares its devices across machines) exactly one runs it."""
    with write_session(engine) as session:
        taken = session.connection().execute(update(MeetingCheckRequest).where(
            col(MeetingCheckRequest.id) == req_id, col(MeetingCheckRequest.done_at).is_(None))
            .values(done_at=utcnow())).rowcount
        session.commit()
    return bool(taken)

"""A meeting with one stored readiness check for page tests: evaluated from the state in the database (the
province's statuses and rollups), with probe results given by the caller (none: nothing was probed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from infra_monitor.config import Settings
from infra_monitor.meetings import store
from infra_monitor.meetings.manage import MeetingIn, create
from probes.base import ProbeResult
from tests.web.builders import Province


def meeting_with_check(province: Province, settings: Settings, *, minutes: int = 15,
                       results: dict[str, ProbeResult] | None = None, title: str = "Họp trực tuyến") -> int:
    """Meeting (every commune, MCU the core router) starting in ``minutes``, checked once now; its id."""
    now = datetime.now(UTC)
    with Session(province.engine) as session:
        m = create(session, MeetingIn(title=title, start=now + timedelta(minutes=minutes), duration_min=60,
                                      mcu="dc-core-01", participants=[{"level": "commune"}]), "test", now)
        session.commit()
        meeting_id = int(m.id or 0)
    check_now(province, settings, meeting_id, results)
    return meeting_id


def check_now(province: Province, settings: Settings, meeting_id: int,
              results: dict[str, ProbeResult] | None = None) -> int:
    now = datetime.now(UTC)
    with Session(province.engine) as session:
        prep = store.prepare(session, settings, meeting_id, now)
        check = store.store(session, settings, prep, results or {}, now, trigger="request")
        session.commit()
        return int(check.id or 0)

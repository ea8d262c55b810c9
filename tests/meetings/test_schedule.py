"""When the poller checks readiness: at each lead time before the start (once each, the shortest passed one
when it was not running earlier), and an operator's "check now" request within its next run."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from infra_monitor.config import load_settings
from infra_monitor.meetings.manage import MeetingIn, create
from infra_monitor.meetings.models import MeetingCheck, MeetingCheckRequest
from infra_monitor.meetings.schedule import Due, due_sweeps, request_check, run_due
from infra_monitor.scheduler import Poller
from probes.base import ProbeContext
from tests.web.builders import Province


@pytest.fixture
def province(migrated_engine: Engine) -> Province:
    return Province.build(migrated_engine, communes=2)


def add(p: Province, start_in_min: float) -> int:
    now = datetime.now(UTC)
    with Session(p.engine) as s:
        m = create(s, MeetingIn(title=f"in {start_in_min}", start=now + timedelta(minutes=start_in_min),
                                duration_min=30, mcu="dc-core-01", participants=[{"site": "xa-000"}]), "t", now)
        s.commit()
        return int(m.id or 0)


def test_lead_times_pick_the_shortest_passed_one_once(province: Province) -> None:
    far, hour, soon, near = add(province, 120), add(province, 50), add(province, 10), add(province, 14)
    now = datetime.now(UTC)
    with Session(province.engine) as s:
        due = due_sweeps(s, [60, 15], now)
    assert sorted(due, key=lambda d: d.meeting_id) == [Due(hour, 60), Due(soon, 15), Due(near, 15)]
    assert far not in {d.meeting_id for d in due}


def test_the_readiness_job_runs_due_sweeps_once_and_picks_up_requests(province: Province, db_url: str) -> None:
    settings = load_settings(None, environ={"INFRA_MONITOR_DATABASE__URL": db_url,
                                            "INFRA_MONITOR_PROBES__SIP__TIMEOUT_S": "1"})
    mid = add(province, 10)

    async def run() -> tuple[int, int]:
        async with ProbeContext() as ctx:
            return (await run_due(province.engine, settings, ctx), await run_due(province.engine, settings, ctx))

    assert asyncio.run(run()) == (1, 0)   # the 15-minute sweep, then nothing more is due
    with Session(province.engine) as s:
        checks = list(s.execute(select(MeetingCheck)).scalars())
        assert [(c.meeting_id, c.lead_min, c.trigger) for c in checks] == [(mid, 15, "lead")]
        request_check(s, mid, "truc-ca", datetime.now(UTC))
        assert request_check(s, mid, "truc-ca", datetime.now(UTC)).id == 1   # one pending request is enough
        s.commit()

    async def poller_job() -> None:   # the poller's own "readiness" job, as the scheduler runs it
        async with Poller(settings, province.engine, kinds=("icmp",)) as poller:
            await poller._guarded_job("readiness")

    asyncio.run(poller_job())
    with Session(province.engine) as s:
        req = s.execute(select(MeetingCheckRequest)).scalars().one()
        assert req.done_at is not None and req.check_id is not None
        check = s.get(MeetingCheck, req.check_id)
        assert check is not None and (check.trigger, check.requested_by, check.lead_min) == ("request", "truc-ca", None)

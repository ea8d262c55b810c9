"""Problems through real sweeps on a real database (SQLite file and PostgreSQL): opened, membership with
since/until and peak, resolved with a reason, a new problem after a relapse, history, and the first start
recorded as one "monitoring started" event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from infra_monitor.status.engine.config import ChannelSpec, StatusConfig
from infra_monitor.status.store.models import (
    DeviceStatusRow,
    EventRow,
    NotificationRow,
    ProblemActionRow,
    ProblemMemberRow,
    ProblemRow,
)
from infra_monitor.status.store.problems import acknowledge, add_comment, assign
from infra_monitor.status.store.sweeps import apply_sweep
from tests.status.inventory import Province

T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)
CONFIG = StatusConfig(retries=1, channels=(ChannelSpec("ops", min_severity="info"),))


def at(n: int) -> datetime:
    return T0 + n * timedelta(minutes=1)


def observe(p: Province, *failing: int) -> dict[int, bool | None]:
    obs: dict[int, bool | None] = {d: True for d in [p.core, p.district, p.district_codec, *p.communes]}
    obs.update(dict.fromkeys(failing, False))
    return obs


def sweep(engine: Engine, obs: dict[int, bool | None], now: datetime) -> None:
    with Session(engine) as session, session.begin():
        apply_sweep(session, obs, now, CONFIG)


def all_rows(engine: Engine, model: type) -> list:
    with Session(engine) as session:
        return list(session.scalars(select(model).order_by(model.id)))  # type: ignore[attr-defined]


def test_a_district_outage_is_one_problem_with_its_cut_off_devices_until_it_recovers(
    status_db: Engine, province: Province
) -> None:
    p = province
    sweep(status_db, observe(p), at(0))
    sweep(status_db, observe(p, p.district, *p.behind_district), at(1))
    [problem] = all_rows(status_db, ProblemRow)
    assert (problem.root_device_id, problem.device_name, problem.site_id) == (p.district, "yt-router", p.district_site)
    assert (problem.opened_at, problem.resolved_at, problem.peak_members) == (at(1), None, 21)
    members = all_rows(status_db, ProblemMemberRow)
    assert sorted(m.device_id for m in members) == sorted(p.behind_district)
    assert {(m.since, m.until) for m in members} == {(at(1), None)}

    # five communes come back on their own backup link while the district router stays down
    sweep(status_db, observe(p, p.district, p.district_codec, *p.communes[5:]), at(2))
    members = all_rows(status_db, ProblemMemberRow)
    assert {m.device_id for m in members if m.until == at(2)} == set(p.communes[:5])
    assert len([m for m in members if m.until is None]) == 16
    assert all_rows(status_db, ProblemRow)[0].peak_members == 21

    sweep(status_db, observe(p), at(3))
    [problem] = all_rows(status_db, ProblemRow)
    assert (problem.resolved_at, problem.resolve_reason) == (at(3), "recovered")
    assert all(m.until is not None for m in all_rows(status_db, ProblemMemberRow))
    assert [(a.action, a.actor) for a in all_rows(status_db, ProblemActionRow)] == [
        ("opened", "system"), ("resolved", "system")]

    sweep(status_db, observe(p, p.district), at(4))
    problems = all_rows(status_db, ProblemRow)
    assert len(problems) == 2 and problems[1].resolved_at is None and problems[1].opened_at == at(4)


def test_unreachable_soft_and_maintenance_failures_open_no_problem(status_db: Engine, province: Province) -> None:
    p = province
    soft = StatusConfig(retries=3)
    with Session(status_db) as session, session.begin():
        apply_sweep(session, observe(p), at(0), soft)
        apply_sweep(session, observe(p, p.communes[0]), at(1), soft)
    assert all_rows(status_db, ProblemRow) == []


def test_a_commune_still_down_after_its_district_recovers_opens_its_own_problem(
    status_db: Engine, province: Province
) -> None:
    p = province
    sweep(status_db, observe(p), at(0))
    sweep(status_db, observe(p, p.district, *p.behind_district), at(1))
    sweep(status_db, observe(p, p.communes[0]), at(2))
    problems = all_rows(status_db, ProblemRow)
    assert [(x.root_device_id, x.resolve_reason) for x in problems] == [(p.district, "recovered"),
                                                                         (p.communes[0], None)]
    assert problems[1].opened_at == at(2)


def test_removing_the_root_device_from_monitoring_resolves_its_problem_with_the_reason(
    status_db: Engine, province: Province
) -> None:
    from inventory.models import Device

    p = province
    sweep(status_db, observe(p), at(0))
    sweep(status_db, observe(p, p.communes[3]), at(1))
    with Session(status_db) as session, session.begin():
        session.get(Device, p.communes[3]).monitoring_enabled = False  # type: ignore[union-attr]
    sweep(status_db, observe(p), at(2))
    [problem] = all_rows(status_db, ProblemRow)
    assert (problem.resolved_at, problem.resolve_reason) == (at(2), "removed")


def test_acknowledge_assign_and_comment_are_history_with_their_actor(status_db: Engine, province: Province) -> None:
    from tests.users import ensure_user

    p = province
    ensure_user(status_db, "lan", "operator")
    sweep(status_db, observe(p), at(0))
    sweep(status_db, observe(p, p.district, *p.behind_district), at(1))
    [problem] = all_rows(status_db, ProblemRow)
    with Session(status_db) as session, session.begin():
        acknowledge(session, problem.id, "lan", at(2), "  VNPT called, fibre cut  ")
        assign(session, problem.id, "LAN", "lan", at(3))
        add_comment(session, problem.id, "crew on site", "lan", at(4))
    [problem] = all_rows(status_db, ProblemRow)
    assert (problem.acknowledged, problem.ack_by, problem.ack_at, problem.ack_comment, problem.assignee) == (
        True, "lan", at(2), "VNPT called, fibre cut", "lan")
    history = [(a.action, a.actor, a.at, a.comment) for a in all_rows(status_db, ProblemActionRow)]
    assert history == [("opened", "system", at(1), ""), ("acknowledged", "lan", at(2), "VNPT called, fibre cut"),
                       ("assigned", "lan", at(3), ""), ("commented", "lan", at(4), "crew on site")]
    sweep(status_db, observe(p), at(5))  # recovered: resolved
    from infra_monitor.status.store.problems import ProblemInputError

    for act in (lambda s: acknowledge(s, problem.id, "lan", at(6)), lambda s: assign(s, problem.id, "", "lan", at(6)),
                lambda s: add_comment(s, problem.id, "x\x00y", "lan", at(6))):
        with Session(status_db) as session, session.begin(), pytest.raises(ProblemInputError):
            act(session)
    with Session(status_db) as session, session.begin():
        add_comment(session, problem.id, "post-mortem: splice redone", "lan", at(7))  # comments stay possible
    assert [a.action for a in all_rows(status_db, ProblemActionRow)][-2:] == ["resolved", "commented"]


def test_the_first_start_is_one_info_event_and_notifies_nobody(status_db: Engine, province: Province) -> None:
    p = province
    with Session(status_db) as session, session.begin():   # a sweep of another kind: devices seen, no data yet
        apply_sweep(session, {}, at(0), CONFIG)
    sweep(status_db, observe(p), at(1))
    events = all_rows(status_db, EventRow)
    started = [e for e in events if e.kind == "monitoring_started"]
    assert len(started) == 1
    assert (started[0].severity, started[0].message) == ("info", "monitoring started for 23 devices")
    assert started[0].details["count"] == 23 and started[0].device_id is None
    assert not [e for e in events if e.kind == "state_change" and e.new_state == "up"]
    assert all_rows(status_db, NotificationRow) == []
    with Session(status_db) as session:
        assert {s.state for s in session.scalars(select(DeviceStatusRow))} == {"up"}


def test_a_device_back_after_silence_is_still_a_state_change_not_a_start(
    status_db: Engine, province: Province
) -> None:
    p = province
    sweep(status_db, observe(p), at(0))
    with Session(status_db) as session, session.begin():
        apply_sweep(session, {}, at(30), CONFIG)   # the poller was silent: no data
    sweep(status_db, observe(p), at(31))
    kinds = [(e.kind, e.old_state, e.new_state) for e in all_rows(status_db, EventRow)]
    assert ("state_change", "unknown", "up") in kinds
    assert [k for k in kinds if k[0] == "monitoring_started"] == [("monitoring_started", None, "up")]


def test_listing_filters_and_one_problem_read_the_same_on_both_databases(
    status_db: Engine, province: Province
) -> None:
    from infra_monitor.status.store.problem_listing import ProblemFilter, get_problem, list_problems

    p = province
    sweep(status_db, observe(p), at(0))
    sweep(status_db, observe(p, p.district, *p.behind_district), at(1))
    sweep(status_db, observe(p), at(6))
    sweep(status_db, observe(p, p.communes[0]), at(10))
    now = at(12)
    with Session(status_db) as session:
        count, rows = list_problems(session, ProblemFilter(state="all"), 10, 0, now)
        assert count == 2 and [(r.state, r.device, r.duration_s) for r in rows] == [
            ("open", p_name(session, p.communes[0]), 120.0), ("resolved", "yt-router", 300.0)]
        assert rows[1].district == "Huyện Yên Thế" and rows[1].level == "district"
        assert rows[1].peak_members == 21 and rows[1].members_now == 0
        assert list_problems(session, ProblemFilter(state="all", district="yen-the"), 10, 0, now)[0] == 2
        assert list_problems(session, ProblemFilter(state="all", level="commune"), 10, 0, now)[0] == 1
        assert list_problems(session, ProblemFilter(state="all", since=at(7)), 10, 0, now)[0] == 1
        assert list_problems(session, ProblemFilter(state="all", until=at(5)), 10, 0, now)[0] == 1
        assert list_problems(session, ProblemFilter(acknowledged=False), 10, 0, now)[0] == 1
        one = get_problem(session, rows[1].id, now)
    assert one is not None and one.history is not None and one.members is not None
    assert [h.action for h in one.history] == ["opened", "resolved"] and one.history[1].details == {
        "reason": "recovered"}
    assert len(one.members) == 21 and {(m.since, m.until) for m in one.members} == {(at(1), at(6))}


def p_name(session: Session, device_id: int) -> str:
    from inventory.models import Device

    device = session.get(Device, device_id)
    assert device is not None
    return device.name

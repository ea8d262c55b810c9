"""Specification of the pure problem planner: statuses after a sweep + open problems → open/update/resolve."""

from __future__ import annotations

from infra_monitor.status.engine.problems import OpenProblem, ResolveReason, plan
from infra_monitor.status.engine.states import Cause, DeviceStatus, State
from tests.status.builders import CORE, DISTRICT, Sim, at, province

COMMUNES = [100, 101, 102]


def status(d: int, state: State, *, root: int | None = None, hard: bool = True, cause: Cause | None = None
           ) -> DeviceStatus:
    causes = {State.UP: Cause.NONE, State.DOWN: Cause.OWN_FAILURE, State.UNREACHABLE: Cause.PARENT_UNREACHABLE,
              State.MAINTENANCE: Cause.MAINTENANCE, State.UNKNOWN: Cause.NO_DATA}
    return DeviceStatus(device_id=d, state=state, hard=hard, since=at(1), cause=cause or causes[state],
                        root_cause_device_id=root, hard_state=state if hard else State.UP, hard_since=at(0))


def cut(root: int = DISTRICT, members: list[int] = COMMUNES) -> dict[int, DeviceStatus]:
    out = {CORE: status(CORE, State.UP), root: status(root, State.DOWN)}
    out.update({d: status(d, State.UNREACHABLE, root=root) for d in members})
    return out


def test_a_hard_down_root_cause_opens_a_problem_holding_the_devices_behind_it() -> None:
    todo = plan([], cut())
    assert [(o.root_device_id, o.opened_at, o.members) for o in todo.opens] == [(DISTRICT, at(1), tuple(COMMUNES))]
    assert todo.resolves == [] and todo.changes == []


def test_unreachable_soft_and_maintenance_devices_open_nothing() -> None:
    statuses = {DISTRICT: status(DISTRICT, State.DOWN, hard=False), 100: status(100, State.UNREACHABLE, root=CORE),
                101: status(101, State.MAINTENANCE), CORE: status(CORE, State.UP)}
    assert not plan([], statuses)


def test_an_open_problem_is_not_opened_twice_and_tracks_members_joining_and_leaving_with_its_peak() -> None:
    statuses = cut(members=[100, 103])
    statuses[101] = status(101, State.UP)
    todo = plan([OpenProblem(7, DISTRICT, frozenset({100, 101, 102}), peak=3)], statuses)
    assert todo.opens == [] and todo.resolves == []
    [change] = todo.changes
    assert (change.problem_id, change.joined, change.left, change.peak) == (7, (103,), (101, 102), 3)


def test_the_problem_resolves_when_the_root_recovers_is_removed_or_is_cut_off_behind_another() -> None:
    up = {CORE: status(CORE, State.UP), DISTRICT: status(DISTRICT, State.UP)}
    assert plan([OpenProblem(1, DISTRICT)], up).resolves[0].reason is ResolveReason.RECOVERED
    assert plan([OpenProblem(1, DISTRICT)], {CORE: status(CORE, State.UP)}).resolves[0].reason \
        is ResolveReason.REMOVED
    behind_core = {CORE: status(CORE, State.DOWN), DISTRICT: status(DISTRICT, State.UNREACHABLE, root=CORE)}
    todo = plan([OpenProblem(1, DISTRICT)], behind_core)
    assert todo.resolves[0].reason is ResolveReason.CUT_OFF
    assert [(o.root_device_id, o.members) for o in todo.opens] == [(CORE, (DISTRICT,))]


def test_no_data_keeps_the_problem_open() -> None:
    statuses = {CORE: status(CORE, State.UP), DISTRICT: status(DISTRICT, State.UNKNOWN)}
    todo = plan([OpenProblem(1, DISTRICT, frozenset({100}), peak=1)], statuses)
    assert todo.resolves == [] and todo.opens == []
    assert todo.changes[0].left == (100,)


def test_devices_cut_off_by_maintenance_are_not_members() -> None:
    statuses = cut(members=[100])
    statuses[101] = status(101, State.UNREACHABLE, root=DISTRICT, cause=Cause.MAINTENANCE)
    assert plan([], statuses).opens[0].members == (100,)


def test_through_the_engine_a_member_whose_parent_recovers_while_it_does_not_becomes_its_own_root() -> None:
    sim = Sim(province(communes=3))
    sim.sweep(sim.failing())
    sim.sweep(sim.failing(DISTRICT, *COMMUNES))
    [opened] = plan([], sim.statuses).opens
    assert (opened.root_device_id, opened.members) == (DISTRICT, tuple(COMMUNES))
    sim.sweep(sim.failing(COMMUNES[0]))
    todo = plan([OpenProblem(1, DISTRICT, frozenset(COMMUNES), 3)], sim.statuses)
    assert [r.reason for r in todo.resolves] == [ResolveReason.RECOVERED]
    assert [o.root_device_id for o in todo.opens] == [COMMUNES[0]]


def test_a_duplicate_open_problem_for_one_root_is_resolved() -> None:
    statuses = cut()
    todo = plan([OpenProblem(1, DISTRICT, frozenset(COMMUNES), 3), OpenProblem(2, DISTRICT)], statuses)
    assert [r.problem_id for r in todo.resolves] == [2] and todo.opens == []
    assert todo.changes == []

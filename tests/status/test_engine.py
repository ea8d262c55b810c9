"""Specification of the state engine: DOWN vs UNREACHABLE, soft/hard, maintenance, stale pollers."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from infra_monitor.status.engine.config import StatusConfig
from infra_monitor.status.engine.rules import evaluate, stale_devices
from infra_monitor.status.engine.states import Cause, EventKind, State, hard_view
from infra_monitor.status.engine.topology import CircuitLink, DeviceNode, build_topology
from tests.status.builders import COMMUNES, CORE, DISTRICT, DISTRICT_SWITCH, Sim, all_up, at, province


def test_first_sweep_with_everything_answering_is_up_without_notifications() -> None:
    sim = Sim(province())
    transitions = sim.sweep(all_up(sim.topology))
    assert {st.state for st in sim.statuses.values()} == {State.UP}
    assert all(t.old_state is None and not t.notify for t in transitions)


def test_district_router_down_makes_communes_behind_it_unreachable() -> None:
    sim = Sim(province())
    sim.sweep(all_up(sim.topology))
    sim.sweep(sim.failing(DISTRICT))
    assert sim.state(DISTRICT) is State.DOWN
    transitions = sim.sweep(sim.failing(DISTRICT, DISTRICT_SWITCH, *COMMUNES))
    for d in [DISTRICT_SWITCH, *COMMUNES]:
        st = sim.statuses[d]
        assert (st.state, st.cause, st.root_cause_device_id) == (State.UNREACHABLE, Cause.PARENT_UNREACHABLE, DISTRICT)
    assert sim.statuses[DISTRICT].cause is Cause.OWN_FAILURE
    assert {t.group_root for t in transitions} == {DISTRICT}


def test_commune_failing_in_the_same_sweep_as_its_district_is_unreachable() -> None:
    sim = Sim(province())
    sim.sweep(all_up(sim.topology))
    transitions = sim.sweep(sim.failing(DISTRICT, DISTRICT_SWITCH, *COMMUNES))
    assert sim.state(DISTRICT) is State.DOWN
    assert {sim.state(d) for d in COMMUNES} == {State.UNREACHABLE}
    assert {sim.statuses[d].root_cause_device_id for d in COMMUNES} == {DISTRICT}
    down = [t for t in transitions if t.new_state is State.DOWN]
    assert [t.device_id for t in down] == [DISTRICT]


def test_same_sweep_classification_holds_with_soft_states_too() -> None:
    sim = Sim(province(), StatusConfig(retries=3))
    sim.sweep(all_up(sim.topology))
    sim.sweep(sim.failing(DISTRICT, *COMMUNES))
    assert not sim.statuses[DISTRICT].hard
    assert {(sim.state(d), sim.statuses[d].hard) for d in COMMUNES} == {(State.UNREACHABLE, False)}


def test_root_cause_follows_the_chain_to_the_nearest_down_ancestor() -> None:
    sim = Sim(province())
    sim.sweep(all_up(sim.topology))
    sim.sweep(sim.failing(CORE, DISTRICT, *COMMUNES))
    assert sim.state(CORE) is State.DOWN
    assert sim.statuses[DISTRICT].root_cause_device_id == CORE
    assert {sim.statuses[d].root_cause_device_id for d in COMMUNES} == {CORE}


def test_hard_down_commune_turns_unreachable_at_once_when_its_district_fails_later() -> None:
    sim = Sim(province())
    sim.sweep(all_up(sim.topology))
    sim.sweep(sim.failing(COMMUNES[0]))
    assert sim.state(COMMUNES[0]) is State.DOWN
    transitions = sim.sweep(sim.failing(DISTRICT, COMMUNES[0]))
    t = next(t for t in transitions if t.device_id == COMMUNES[0])
    assert (t.old_state, t.new_state, t.root_cause_device_id) == (State.DOWN, State.UNREACHABLE, DISTRICT)


def _two_uplinks():
    devices = [DeviceNode(1, site_id=1), DeviceNode(2, site_id=2), DeviceNode(3, site_id=3)]
    circuits = [CircuitLink(1, "active", a_device_id=1, z_device_id=3),
                CircuitLink(2, "active", a_device_id=2, z_device_id=3)]
    return build_topology(devices, circuits)


def test_commune_with_two_uplinks_stays_up_when_one_parent_fails() -> None:
    sim = Sim(_two_uplinks())
    sim.sweep(all_up(sim.topology))
    sim.sweep(sim.failing(1))
    assert (sim.state(1), sim.state(3)) == (State.DOWN, State.UP)


def test_commune_with_one_live_uplink_that_fails_is_down_not_unreachable() -> None:
    sim = Sim(_two_uplinks())
    sim.sweep(all_up(sim.topology))
    sim.sweep(sim.failing(1, 3))
    assert sim.statuses[3].state is State.DOWN
    assert sim.statuses[3].cause is Cause.OWN_FAILURE


def test_commune_with_two_uplinks_is_unreachable_when_both_parents_fail() -> None:
    sim = Sim(_two_uplinks())
    sim.sweep(all_up(sim.topology))
    sim.sweep(sim.failing(1, 2, 3))
    st = sim.statuses[3]
    assert (st.state, st.cause, st.root_cause_device_id) == (State.UNREACHABLE, Cause.PARENT_UNREACHABLE, 1)


def test_failure_becomes_hard_after_retries_and_dates_from_the_first_failed_check() -> None:
    sim = Sim(province(communes=1), StatusConfig(retries=3))
    sim.sweep(all_up(sim.topology))
    first = sim.sweep(sim.failing(COMMUNES[0]))
    second = sim.sweep(sim.failing(COMMUNES[0]))
    st = sim.statuses[COMMUNES[0]]
    assert (st.state, st.hard, st.attempts) == (State.DOWN, False, 2)
    assert hard_view(st).state is State.UP
    assert first == [] and second == []
    third = sim.sweep(sim.failing(COMMUNES[0]))
    st = sim.statuses[COMMUNES[0]]
    assert (st.state, st.hard, st.attempts) == (State.DOWN, True, 3)
    assert [(t.old_state, t.new_state, t.notify) for t in third] == [(State.UP, State.DOWN, True)]
    assert third[0].since == at(2) and st.since == at(2)


def test_per_kind_retries_use_the_largest_value_of_the_devices_kinds() -> None:
    config = StatusConfig(retries=5, retries_by_kind={"icmp": 2, "snmp": 3})
    assert config.retries_for(["icmp"]) == 2
    assert config.retries_for(["icmp", "snmp"]) == 3
    assert config.retries_for(["http"]) == 5
    topo = province(communes=1)
    statuses, _ = evaluate({}, all_up(topo), at(1), topo, config)
    obs = {**all_up(topo), COMMUNES[0]: False}
    kinds = {COMMUNES[0]: ["icmp"]}
    statuses, _ = evaluate(statuses, obs, at(2), topo, config, kinds=kinds)
    statuses, transitions = evaluate(statuses, obs, at(3), topo, config, kinds=kinds)
    assert statuses[COMMUNES[0]].hard and [t.new_state for t in transitions] == [State.DOWN]


def test_soft_failure_that_recovers_raises_nothing_and_keeps_the_up_since() -> None:
    sim = Sim(province(communes=1), StatusConfig(retries=3))
    sim.sweep(all_up(sim.topology))
    sim.sweep(sim.failing(COMMUNES[0]))
    transitions = sim.sweep(all_up(sim.topology))
    st = sim.statuses[COMMUNES[0]]
    assert transitions == []
    assert (st.state, st.hard, st.since, st.attempts) == (State.UP, True, at(1), 0)


def test_recovery_is_immediate_and_hard() -> None:
    sim = Sim(province(communes=1), StatusConfig(retries=3))
    sim.sweep(all_up(sim.topology))
    for _ in range(3):
        sim.sweep(sim.failing(DISTRICT))
    transitions = sim.sweep(all_up(sim.topology))
    assert [(t.device_id, t.old_state, t.new_state, t.notify) for t in transitions] == [
        (DISTRICT, State.DOWN, State.UP, True)]
    assert sim.statuses[DISTRICT].hard


def test_unreachable_commune_recovery_is_grouped_under_its_old_root() -> None:
    sim = Sim(province(communes=2))
    sim.sweep(all_up(sim.topology))
    sim.sweep(sim.failing(DISTRICT, *COMMUNES[:2]))
    transitions = sim.sweep(all_up(sim.topology))
    commune = next(t for t in transitions if t.device_id == COMMUNES[0])
    assert (commune.old_state, commune.new_state, commune.group_root) == (State.UNREACHABLE, State.UP, DISTRICT)


def test_device_in_maintenance_is_maintenance_and_raises_no_notification() -> None:
    sim = Sim(province(communes=2))
    sim.sweep(all_up(sim.topology))
    transitions = sim.sweep(sim.failing(DISTRICT), maintenance=frozenset({DISTRICT}))
    st = sim.statuses[DISTRICT]
    assert (st.state, st.cause) == (State.MAINTENANCE, Cause.MAINTENANCE)
    assert [(t.device_id, t.new_state, t.notify) for t in transitions] == [(DISTRICT, State.MAINTENANCE, False)]


def test_communes_behind_a_district_in_maintenance_are_unreachable_for_maintenance_silently() -> None:
    sim = Sim(province(communes=3))
    sim.sweep(all_up(sim.topology))
    transitions = sim.sweep(sim.failing(DISTRICT, *COMMUNES[:3]), maintenance=frozenset({DISTRICT}))
    for d in COMMUNES[:3]:
        st = sim.statuses[d]
        assert (st.state, st.cause, st.root_cause_device_id) == (State.UNREACHABLE, Cause.MAINTENANCE, DISTRICT)
    assert not any(t.notify for t in transitions)
    back = sim.sweep(all_up(sim.topology))
    assert back and not any(t.notify for t in back)


def test_device_still_failing_when_its_window_ends_is_hard_down_at_once() -> None:
    sim = Sim(province(communes=1), StatusConfig(retries=3))
    sim.sweep(all_up(sim.topology))
    for _ in range(3):
        sim.sweep(sim.failing(DISTRICT, COMMUNES[0]), maintenance=frozenset({DISTRICT}))
    transitions = sim.sweep(sim.failing(DISTRICT, COMMUNES[0]))
    district = next(t for t in transitions if t.device_id == DISTRICT)
    commune = next(t for t in transitions if t.device_id == COMMUNES[0])
    assert (district.old_state, district.new_state, district.notify) == (State.MAINTENANCE, State.DOWN, True)
    assert district.since == sim.now
    assert (commune.old_cause, commune.cause, commune.notify) == (Cause.MAINTENANCE, Cause.PARENT_UNREACHABLE, True)


def test_device_starting_to_fail_as_its_window_ends_goes_through_soft_states() -> None:
    sim = Sim(province(communes=1), StatusConfig(retries=3))
    sim.sweep(all_up(sim.topology))
    sim.sweep(all_up(sim.topology), maintenance=frozenset({DISTRICT}))
    transitions = sim.sweep(sim.failing(DISTRICT))
    st = sim.statuses[DISTRICT]
    assert (st.state, st.hard, hard_view(st).state) == (State.DOWN, False, State.UP)
    assert [(t.old_state, t.new_state, t.notify) for t in transitions] == [(State.MAINTENANCE, State.UP, False)]


def test_window_ending_between_checks_restores_the_last_checked_state() -> None:
    sim = Sim(province(communes=1))
    sim.sweep(all_up(sim.topology))
    sim.sweep(all_up(sim.topology), maintenance=frozenset({DISTRICT}))
    sim.sweep({}, maintenance=frozenset())
    assert sim.state(DISTRICT) is State.UP


def test_silent_poller_makes_its_devices_unknown_not_down() -> None:
    sim = Sim(province(communes=2))
    sim.sweep(all_up(sim.topology))
    obs = all_up(sim.topology)
    for d in COMMUNES[:2]:
        obs[d] = None
    transitions = sim.sweep(obs, stale=frozenset(COMMUNES[:2]))
    for d in COMMUNES[:2]:
        st = sim.statuses[d]
        assert (st.state, st.cause, st.hard) == (State.UNKNOWN, Cause.NO_DATA, True)
    assert {(t.new_state, t.cause) for t in transitions} == {(State.UNKNOWN, Cause.NO_DATA)}


def test_device_not_checked_in_a_sweep_keeps_its_status() -> None:
    sim = Sim(province(communes=1))
    sim.sweep(all_up(sim.topology))
    sim.sweep(sim.failing(COMMUNES[0]))
    before = sim.statuses[COMMUNES[0]]
    assert sim.sweep({COMMUNES[0]: None}) == []
    assert sim.statuses[COMMUNES[0]] == before


def test_stale_devices_are_those_unchecked_for_more_than_n_intervals() -> None:
    sim = Sim(province(communes=2), StatusConfig(interval_s=60, stale_after_intervals=3))
    sim.sweep(all_up(sim.topology))
    later = sim.now + timedelta(minutes=3, seconds=1)
    sim.statuses[COMMUNES[0]] = replace(sim.statuses[COMMUNES[0]], last_check_at=later - timedelta(seconds=30))
    assert stale_devices(sim.statuses, later, sim.config) == sim.topology.device_ids - {COMMUNES[0]}


def test_device_absent_from_the_topology_is_dropped_even_if_observed() -> None:
    topo = province(communes=1)
    statuses, _ = evaluate({}, {999: False}, at(1), topo, StatusConfig(retries=1))
    assert 999 not in statuses and set(statuses) == topo.device_ids


def test_flap_start_is_its_own_event_kind() -> None:
    sim = Sim(province(communes=1))
    sim.sweep(all_up(sim.topology))
    kinds: list[EventKind] = []
    for i in range(12):
        kinds += [t.kind for t in sim.sweep(sim.failing(COMMUNES[0]) if i % 2 == 0 else all_up(sim.topology))]
    assert kinds.count(EventKind.FLAP_START) == 1

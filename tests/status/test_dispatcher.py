"""Specification of notification grouping and channel filters (pure)."""

from __future__ import annotations

from datetime import timedelta

from infra_monitor.status.engine.config import ChannelSpec, StatusConfig
from infra_monitor.status.engine.states import EventKind
from infra_monitor.status.notify.dispatcher import (
    DeviceInfo,
    NotifyContext,
    backoff_delay,
    group_transitions,
    plan_notifications,
)
from tests.status.builders import COMMUNES, CORE, DISTRICT, DISTRICT_SWITCH, Sim, all_up, province

EVERYONE = ChannelSpec("ops", min_severity="info")


def _context(sim: Sim) -> NotifyContext:
    devices = {d: DeviceInfo(d, name=sim.topology.device_name[d], level="commune", region_keys=frozenset({"xa"}))
               for d in COMMUNES if d in sim.topology.device_name}
    devices[DISTRICT] = DeviceInfo(DISTRICT, name="district", site_name="UBND huyện", level="district",
                                   region_keys=frozenset({"yen-the", "bac-giang"}))
    devices[CORE] = DeviceInfo(CORE, name="core", level="province", region_keys=frozenset({"bac-giang"}))
    return NotifyContext(devices=devices, statuses=sim.statuses)


def _district_failure(sim: Sim):
    sim.sweep(all_up(sim.topology))
    return sim.sweep(sim.failing(DISTRICT, DISTRICT_SWITCH, *COMMUNES))


def test_one_root_cause_makes_one_notification_naming_it_and_the_count() -> None:
    sim = Sim(province())
    planned = plan_notifications(_district_failure(sim), _context(sim), [EVERYONE], sim.now)
    assert len(planned) == 1
    channel, payload = planned[0]
    assert channel == "ops"
    assert payload["title"] == "DOWN: district (UBND huyện) — 21 device(s) unreachable behind it"
    assert payload["severity"] == "critical"
    assert payload["affected_count"] == 21
    assert payload["root_cause"]["device_id"] == DISTRICT


def test_devices_cut_off_later_are_grouped_under_their_root_already_down() -> None:
    sim = Sim(province())
    sim.sweep(all_up(sim.topology))
    sim.sweep(sim.failing(DISTRICT))
    transitions = sim.sweep(sim.failing(DISTRICT, *COMMUNES[:5]))
    [(_, payload)] = plan_notifications(transitions, _context(sim), [EVERYONE], sim.now)
    assert payload["device"] is None
    assert payload["title"] == "5 device(s) unreachable behind it (root cause: district (UBND huyện), DOWN)"


def test_recovery_of_the_root_and_the_devices_behind_it_is_one_notification() -> None:
    sim = Sim(province())
    _district_failure(sim)
    [(_, payload)] = plan_notifications(sim.sweep(all_up(sim.topology)), _context(sim), [EVERYONE], sim.now)
    assert payload["title"] == "UP: district (UBND huyện) — 21 device(s) reachable again"
    assert payload["severity"] == "critical"


def test_channel_with_a_severity_threshold_gets_down_but_not_a_lone_unreachable() -> None:
    critical = ChannelSpec("sms", min_severity="critical")
    sim = Sim(province())
    assert len(plan_notifications(_district_failure(sim), _context(sim), [critical], sim.now)) == 1
    sim2 = Sim(province())
    sim2.sweep(all_up(sim2.topology))
    sim2.sweep(sim2.failing(DISTRICT))
    later = sim2.sweep(sim2.failing(DISTRICT, COMMUNES[0]))
    assert plan_notifications(later, _context(sim2), [critical], sim2.now) == []
    assert len(plan_notifications(later, _context(sim2), [EVERYONE], sim2.now)) == 1


def test_region_and_level_filters_match_any_device_of_the_group() -> None:
    sim = Sim(province())
    transitions = _district_failure(sim)
    ctx = _context(sim)
    channels = [ChannelSpec("yen-the", min_severity="info", regions=frozenset({"yen-the"})),
                ChannelSpec("elsewhere", min_severity="info", regions=frozenset({"luc-nam"})),
                ChannelSpec("communes", min_severity="info", levels=frozenset({"commune"})),
                ChannelSpec("province", min_severity="info", levels=frozenset({"province"}))]
    assert [ch for ch, _ in plan_notifications(transitions, ctx, channels, sim.now)] == ["yen-the", "communes"]


def test_silent_pollers_make_one_no_data_notification() -> None:
    sim = Sim(province())
    sim.sweep(all_up(sim.topology))
    transitions = sim.sweep({}, stale=frozenset(COMMUNES))
    [(_, payload)] = plan_notifications(transitions, _context(sim), [EVERYONE], sim.now)
    assert (payload["kind"], payload["affected_count"]) == ("no_data", 20)


def test_nothing_is_notified_for_maintenance() -> None:
    sim = Sim(province())
    sim.sweep(all_up(sim.topology))
    transitions = sim.sweep(sim.failing(DISTRICT, *COMMUNES), maintenance=frozenset({DISTRICT}))
    assert transitions
    assert group_transitions(transitions) == []


def test_flapping_device_notifies_start_and_stop_only() -> None:
    sim = Sim(province(communes=1))
    sim.sweep(all_up(sim.topology))
    kinds = []
    for i in range(40):
        flaky = i < 20 and i % 2 == 0
        transitions = sim.sweep(sim.failing(COMMUNES[0]) if flaky else all_up(sim.topology))
        kinds += [p["kind"] for _, p in plan_notifications(transitions, _context(sim), [EVERYONE], sim.now)]
    first_flap = kinds.index(EventKind.FLAP_START.value)
    assert kinds[first_flap:] == [EventKind.FLAP_START.value, EventKind.FLAP_STOP.value]


def test_backoff_doubles_up_to_the_cap() -> None:
    config = StatusConfig(notify_backoff_initial_s=5, notify_backoff_max_s=60)
    delays = [backoff_delay(n, config.notify_backoff_initial_s, config.notify_backoff_max_s) for n in range(1, 7)]
    assert delays == [timedelta(seconds=s) for s in (5, 10, 20, 40, 60, 60)]

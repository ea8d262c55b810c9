"""Specification of flap detection (Nagios weighted percent state change) and its effect on notifications."""

from __future__ import annotations

import pytest

from infra_monitor.status.engine.flapping import is_flapping, percent_state_change
from infra_monitor.status.engine.states import EventKind, State
from tests.status.builders import COMMUNES, Sim, all_up, province

U, D = State.UP, State.DOWN


def test_steady_history_has_no_state_change() -> None:
    assert percent_state_change([U] * 21) == 0.0
    assert percent_state_change([]) == 0.0


def test_history_alternating_every_check_is_one_hundred_percent() -> None:
    assert percent_state_change([U, D] * 10 + [U]) == pytest.approx(100.0)


def test_newest_change_weighs_1_2_and_oldest_0_8() -> None:
    assert percent_state_change([U] * 20 + [D]) == pytest.approx(1.2 * 100 / 20)
    assert percent_state_change([U] + [D] * 20) == pytest.approx(0.8 * 100 / 20)


def test_weights_are_linear_between_oldest_and_newest() -> None:
    middle = [U] * 11 + [D] * 10  # change between positions 10 and 11: weight 0.8 + 0.4 * 10 / 19
    assert percent_state_change(middle) == pytest.approx((0.8 + 0.4 * 10 / 19) * 5)


def test_only_the_last_21_checks_count() -> None:
    assert percent_state_change([D, U] + [U] * 20) == 0.0


def test_short_history_is_padded_with_its_first_state() -> None:
    assert percent_state_change([U, D]) == pytest.approx(1.2 * 100 / 20)


def test_flapping_has_hysteresis_between_the_thresholds() -> None:
    assert is_flapping(False, 25.1, 25.0, 20.0)
    assert not is_flapping(False, 25.0, 25.0, 20.0)
    assert is_flapping(True, 22.0, 25.0, 20.0)
    assert not is_flapping(True, 19.9, 25.0, 20.0)


def test_alternating_device_is_marked_flapping_and_stops_notifying() -> None:
    sim = Sim(province(communes=1))
    commune = COMMUNES[0]
    sim.sweep(all_up(sim.topology))
    events = []
    for i in range(20):
        events += sim.sweep(sim.failing(commune) if i % 2 == 0 else all_up(sim.topology))
    assert sim.statuses[commune].flapping
    starts = [i for i, t in enumerate(events) if t.kind is EventKind.FLAP_START]
    assert len(starts) == 1 and events[starts[0]].notify
    flap_sweep = events[starts[0]].at
    changes = [t for t in events if t.kind is EventKind.STATE_CHANGE]
    assert all(t.notify for t in changes if t.at < flap_sweep)
    while_flapping = [t for t in changes if t.at >= flap_sweep]
    assert len(while_flapping) > 10
    assert not any(t.notify for t in while_flapping)

    quiet = []
    for _ in range(21):
        quiet += sim.sweep(all_up(sim.topology))
    stops = [t for t in quiet if t.kind is EventKind.FLAP_STOP]
    assert len(stops) == 1 and stops[0].notify
    assert not sim.statuses[commune].flapping

    again = sim.sweep(sim.failing(commune))
    assert [(t.new_state, t.notify) for t in again] == [(State.DOWN, True)]

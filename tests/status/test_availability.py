"""Specification of time-based availability from hand-built state intervals, to the second."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from infra_monitor.status.engine.availability import (
    Availability,
    StateInterval,
    aggregate,
    device_availability,
    downtime_by_root,
)
from infra_monitor.status.engine.states import Cause, State

H = timedelta(hours=1)
DAY_START = datetime(2025, 3, 1, tzinfo=UTC)
DAY_END = DAY_START + 24 * H


def t(hours: float) -> datetime:
    """Time ``hours`` after the start of the reported day (negative = the day before)."""
    return DAY_START + hours * H


def iv(
    device: int, state: State, cause: Cause, start: float, end: float | None, root: int | None = None
) -> StateInterval:
    return StateInterval(device, state, cause, root, t(start), None if end is None else t(end))


UP, DOWN, UNREACH = State.UP, State.DOWN, State.UNREACHABLE
DISTRICT, COMMUNE, NEW_COMMUNE, OTHER = 10, 100, 101, 102

INTERVALS = [
    # District router: interval from the day before clipped at the period start, open interval at the end.
    iv(DISTRICT, UP, Cause.NONE, -12, 2),
    iv(DISTRICT, DOWN, Cause.OWN_FAILURE, 2, 3),
    iv(DISTRICT, UP, Cause.NONE, 3, 10),
    iv(DISTRICT, State.MAINTENANCE, Cause.MAINTENANCE, 10, 12),
    iv(DISTRICT, UP, Cause.NONE, 12, None),
    # Commune behind it: cut off by the failure, then by the maintenance, then fails on its own.
    iv(COMMUNE, UP, Cause.NONE, -30, 2),
    iv(COMMUNE, UNREACH, Cause.PARENT_UNREACHABLE, 2, 3, root=DISTRICT),
    iv(COMMUNE, UP, Cause.NONE, 3, 10),
    iv(COMMUNE, UNREACH, Cause.MAINTENANCE, 10, 12, root=DISTRICT),
    iv(COMMUNE, DOWN, Cause.OWN_FAILURE, 12, 12.5),
    iv(COMMUNE, UP, Cause.NONE, 12.5, None),
    # Commune inventoried at 06:00 whose poller went silent for an hour.
    iv(NEW_COMMUNE, UP, Cause.NONE, 6, 18),
    iv(NEW_COMMUNE, State.UNKNOWN, Cause.NO_DATA, 18, 19),
    iv(NEW_COMMUNE, UP, Cause.NONE, 19, None),
    # Down 04:00-08:00; a maintenance window 07:00-09:00 is recorded after the fact.
    iv(OTHER, UP, Cause.NONE, -1, 4),
    iv(OTHER, DOWN, Cause.OWN_FAILURE, 4, 8),
    iv(OTHER, UP, Cause.NONE, 8, None),
]
LATE_WINDOW = {OTHER: [(t(7), t(9))]}


def test_district_downtime_counts_and_its_maintenance_is_excluded_from_the_denominator() -> None:
    av = device_availability(INTERVALS, DAY_START, DAY_END)[DISTRICT]
    assert av == Availability(up=21 * H, down_own=1 * H, maintenance=2 * H)
    assert av.uptime_pct == pytest.approx(100 * 21 / 22)


def test_commune_downtime_is_attributed_to_its_parent_and_to_itself() -> None:
    av = device_availability(INTERVALS, DAY_START, DAY_END)[COMMUNE]
    assert av == Availability(up=20.5 * H, down_own=0.5 * H, down_parent=1 * H, maintenance=2 * H)
    assert av.uptime_pct == pytest.approx(100 * 20.5 / 22)
    assert av.own_uptime_pct == pytest.approx(100 * 21.5 / 22)


def test_time_without_data_is_reported_apart_and_not_counted() -> None:
    av = device_availability(INTERVALS, DAY_START, DAY_END)[NEW_COMMUNE]
    assert av == Availability(up=17 * H, no_data=7 * H)
    assert av.uptime_pct == 100.0


def test_maintenance_window_recorded_later_is_excluded_where_it_overlaps() -> None:
    av = device_availability(INTERVALS, DAY_START, DAY_END, maintenance=LATE_WINDOW)[OTHER]
    assert av == Availability(up=19 * H, down_own=3 * H, maintenance=2 * H)
    assert av.uptime_pct == pytest.approx(100 * 19 / 22)


def test_open_intervals_stop_at_now_when_the_period_is_not_over() -> None:
    av = device_availability(INTERVALS, DAY_START, DAY_END, now=t(18))[DISTRICT]
    assert av == Availability(up=15 * H, down_own=1 * H, maintenance=2 * H)
    assert av.total == 18 * H


def test_every_instant_of_the_period_is_in_exactly_one_bucket() -> None:
    for av in device_availability(INTERVALS, DAY_START, DAY_END, maintenance=LATE_WINDOW).values():
        assert av.total == 24 * H


def test_overlapping_intervals_end_where_the_next_begins() -> None:
    intervals = [iv(1, UP, Cause.NONE, 0, 6), iv(1, DOWN, Cause.OWN_FAILURE, 4, None)]
    assert device_availability(intervals, DAY_START, DAY_END)[1] == Availability(up=4 * H, down_own=20 * H)


def test_device_without_intervals_has_no_data_and_no_percentage() -> None:
    av = device_availability([], DAY_START, DAY_END, device_ids=[7])[7]
    assert av == Availability(no_data=24 * H)
    assert av.uptime_pct is None


def test_aggregate_per_site_is_time_weighted() -> None:
    per_device = device_availability(INTERVALS, DAY_START, DAY_END, maintenance=LATE_WINDOW)
    sites = aggregate(per_device, {COMMUNE: "commune-site", OTHER: "commune-site", DISTRICT: "district-site"})
    site = sites["commune-site"]
    assert site == Availability(up=39.5 * H, down_own=3.5 * H, down_parent=1 * H, maintenance=4 * H)
    assert site.uptime_pct == pytest.approx(100 * 39.5 / 44)
    assert set(sites) == {"commune-site", "district-site"}


def test_downtime_by_root_cause_excludes_planned_work() -> None:
    assert downtime_by_root(INTERVALS, DAY_START, DAY_END) == {DISTRICT: 1 * H}

"""Specification of maintenance windows: one-off, weekly and cron, in a time zone, scoped to the inventory."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from infra_monitor.status.maintenance.windows import (
    MaintenanceWindow,
    ScopeIndex,
    ScopeType,
    WindowKind,
    active_windows,
    devices_in_maintenance,
    is_active,
    maintenance_by_device,
    window_intervals,
)

SUNDAY, SATURDAY, MONDAY = 6, 5, 0


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def one_off(start: datetime, end: datetime, **kw: object) -> MaintenanceWindow:
    return MaintenanceWindow(name="power cut", kind=WindowKind.ONE_OFF, start=start, end=end, **kw)  # type: ignore[arg-type]


def test_one_off_window_is_active_from_start_inclusive_to_end_exclusive() -> None:
    w = one_off(utc(2025, 3, 1, 1), utc(2025, 3, 1, 3))
    assert not is_active(w, utc(2025, 3, 1, 0, 59, 59))
    assert is_active(w, utc(2025, 3, 1, 1))
    assert is_active(w, utc(2025, 3, 1, 2, 59, 59))
    assert not is_active(w, utc(2025, 3, 1, 3))


def test_weekly_window_is_read_in_hanoi_time_by_default() -> None:
    # Sunday 22:00 (GMT+7) for two hours = Sunday 15:00-17:00 UTC.
    w = MaintenanceWindow(name="weekly", kind=WindowKind.WEEKLY, days=(SUNDAY,), start_time=time(22, 0),
                          duration_min=120)
    sunday = datetime(2025, 3, 2)  # a Sunday
    assert sunday.weekday() == SUNDAY
    assert is_active(w, utc(2025, 3, 2, 15, 30))
    assert not is_active(w, utc(2025, 3, 2, 22, 30))
    assert window_intervals(w, utc(2025, 3, 1), utc(2025, 3, 10)) == [
        (utc(2025, 3, 2, 15), utc(2025, 3, 2, 17)), (utc(2025, 3, 9, 15), utc(2025, 3, 9, 17))]


def test_weekly_window_crossing_midnight_covers_the_next_morning() -> None:
    w = MaintenanceWindow(name="night", kind=WindowKind.WEEKLY, days=(SATURDAY,), start_time=time(23, 0),
                          duration_min=180, tz="UTC")
    assert is_active(w, utc(2025, 3, 2, 1, 30))  # Sunday 01:30, started Saturday 23:00
    assert not is_active(w, utc(2025, 3, 2, 2, 0))


def test_cron_window_uses_crontab_syntax_in_the_windows_zone() -> None:
    w = MaintenanceWindow(name="backup", kind=WindowKind.CRON, cron="0 2 * * *", duration_min=30)
    spans = window_intervals(w, utc(2025, 3, 1), utc(2025, 3, 4))
    # 02:00 GMT+7 is 19:00 UTC the day before.
    assert spans == [(utc(2025, 3, d, 19), utc(2025, 3, d, 19, 30)) for d in (1, 2, 3)]


def test_cron_window_in_progress_at_the_period_start_is_clipped_to_it() -> None:
    w = MaintenanceWindow(name="backup", kind=WindowKind.CRON, cron="0 2 * * *", duration_min=60, tz="UTC")
    assert window_intervals(w, utc(2025, 3, 1, 2, 15), utc(2025, 3, 1, 2, 45)) == [
        (utc(2025, 3, 1, 2, 15), utc(2025, 3, 1, 2, 45))]


def test_recurring_window_only_occurs_within_its_validity_bounds() -> None:
    w = MaintenanceWindow(name="campaign", kind=WindowKind.WEEKLY, days=(MONDAY,), start_time=time(8),
                          duration_min=60, tz="UTC", start=utc(2025, 3, 10), end=utc(2025, 3, 20))
    spans = window_intervals(w, utc(2025, 3, 1), utc(2025, 4, 1))
    assert spans == [(utc(2025, 3, 10, 8), utc(2025, 3, 10, 9)), (utc(2025, 3, 17, 8), utc(2025, 3, 17, 9))]


def test_one_off_intervals_are_clipped_to_the_requested_period() -> None:
    w = one_off(utc(2025, 3, 1, 1), utc(2025, 3, 1, 3))
    assert window_intervals(w, utc(2025, 3, 1, 2), utc(2025, 3, 2)) == [(utc(2025, 3, 1, 2), utc(2025, 3, 1, 3))]
    assert window_intervals(w, utc(2025, 3, 2), utc(2025, 3, 3)) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": WindowKind.ONE_OFF, "start": utc(2025, 1, 2), "end": utc(2025, 1, 1)}, "end must be after start"),
        ({"kind": WindowKind.ONE_OFF, "start": datetime(2025, 1, 1), "end": utc(2025, 1, 2)}, "timezone-aware"),
        ({"kind": WindowKind.WEEKLY, "days": (7,), "start_time": time(1), "duration_min": 5}, "days must be"),
        ({"kind": WindowKind.CRON, "cron": "not a cron", "duration_min": 5}, "invalid cron expression"),
        ({"kind": WindowKind.CRON, "cron": "0 2 * * *"}, "positive duration_min"),
        ({"kind": WindowKind.CRON, "cron": "0 2 * * *", "duration_min": 5, "tz": "Mars/Base"}, "unknown time zone"),
        ({"kind": WindowKind.ONE_OFF, "start": utc(2025, 1, 1), "end": utc(2025, 1, 2),
          "scope_type": ScopeType.SITE}, "needs scope_id"),
    ],
)
def test_invalid_windows_are_rejected_with_a_reason(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MaintenanceWindow(name="bad", **kwargs)  # type: ignore[arg-type]


# Province region 1 > district region 2 > commune region 3; region 4 elsewhere.
SCOPE = ScopeIndex(
    device_site={10: 100, 11: 100, 20: 200, 30: 300, 40: 400},
    site_region={100: 1, 200: 2, 300: 3, 400: 4},
    region_descendants={1: {2, 3}, 2: {3}, 3: set(), 4: set()},
)
NOW = utc(2025, 3, 1, 2)


def _scoped(scope_type: ScopeType, scope_id: int | None) -> MaintenanceWindow:
    return one_off(utc(2025, 3, 1, 1), utc(2025, 3, 1, 3), scope_type=scope_type, scope_id=scope_id)


def test_region_window_covers_everything_below_the_region() -> None:
    assert devices_in_maintenance([_scoped(ScopeType.REGION, 2)], NOW, SCOPE) == {20, 30}
    assert devices_in_maintenance([_scoped(ScopeType.REGION, 1)], NOW, SCOPE) == {10, 11, 20, 30}


def test_site_device_and_global_windows_cover_their_scope() -> None:
    assert devices_in_maintenance([_scoped(ScopeType.SITE, 100)], NOW, SCOPE) == {10, 11}
    assert devices_in_maintenance([_scoped(ScopeType.DEVICE, 40)], NOW, SCOPE) == {40}
    assert devices_in_maintenance([_scoped(ScopeType.ALL, None)], NOW, SCOPE) == {10, 11, 20, 30, 40}


def test_inactive_window_covers_nothing() -> None:
    windows = [_scoped(ScopeType.ALL, None)]
    assert devices_in_maintenance(windows, NOW + timedelta(hours=5), SCOPE) == set()
    assert active_windows(windows, NOW) == windows


def test_maintenance_by_device_merges_overlapping_windows() -> None:
    windows = [_scoped(ScopeType.SITE, 100), one_off(utc(2025, 3, 1, 2), utc(2025, 3, 1, 4),
                                                     scope_type=ScopeType.DEVICE, scope_id=10)]
    spans = maintenance_by_device(windows, utc(2025, 3, 1), utc(2025, 3, 2), SCOPE)
    assert spans == {10: [(utc(2025, 3, 1, 1), utc(2025, 3, 1, 4))], 11: [(utc(2025, 3, 1, 1), utc(2025, 3, 1, 3))]}


@pytest.mark.parametrize(("expr", "weekday"), [("0 22 * * 6", "Sat"), ("0 22 * * 0", "Sun"), ("0 22 * * 7", "Sun"),
                                               ("0 22 * * 1", "Mon"), ("0 22 * * sat", "Sat")])
def test_cron_weekdays_follow_standard_crontab_numbering(expr: str, weekday: str) -> None:
    from infra_monitor.status.maintenance.windows import cron_trigger

    nxt = cron_trigger(expr, "Asia/Ho_Chi_Minh").get_next_fire_time(None, datetime(2026, 11, 23, tzinfo=UTC))
    assert nxt is not None and nxt.strftime("%a %H:%M") == f"{weekday} 22:00"

"""Maintenance windows: when they are active and which devices they cover (pure, plain inputs).

A window is one-off (``start``..``end``), weekly (``days`` 0=Monday…6=Sunday, ``start_time`` local,
``duration_min``) or cron (``cron`` five-field expression evaluated by APScheduler's ``CronTrigger``, plus
``duration_min``). Recurring windows are read in the window's time zone (default Asia/Ho_Chi_Minh) and may
be bounded by ``start``/``end`` (occurrences must begin inside those bounds). A window's scope is one device,
one site, one region with everything below it, or everything. All datetimes in and out are timezone-aware.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

log = logging.getLogger(__name__)

DEFAULT_TZ = "Asia/Ho_Chi_Minh"
MAX_OCCURRENCES = 100_000


class ScopeType(StrEnum):
    DEVICE = "device"
    SITE = "site"
    REGION = "region"
    ALL = "all"


class WindowKind(StrEnum):
    ONE_OFF = "one_off"
    WEEKLY = "weekly"
    CRON = "cron"


@dataclass(frozen=True)
class MaintenanceWindow:
    """A planned maintenance; see the module docstring for the meaning of the fields per kind."""

    name: str
    kind: WindowKind
    scope_type: ScopeType = ScopeType.ALL
    scope_id: int | None = None
    start: datetime | None = None
    end: datetime | None = None
    days: tuple[int, ...] = ()
    start_time: time | None = None
    duration_min: int | None = None
    cron: str | None = None
    tz: str = DEFAULT_TZ
    id: int | None = None

    def __post_init__(self) -> None:
        problems = validate_window(self)
        if problems:
            raise ValueError(f"maintenance window {self.name!r}: " + "; ".join(problems))


def validate_window(w: MaintenanceWindow) -> list[str]:
    """Human-readable problems with ``w`` (empty when valid)."""
    problems = [f"{label} must be timezone-aware" for label, value in (("start", w.start), ("end", w.end))
                if value is not None and value.tzinfo is None]
    if problems:
        return problems
    if w.kind is WindowKind.ONE_OFF:
        if w.start is None or w.end is None:
            problems.append("a one-off window needs start and end")
        elif w.end <= w.start:
            problems.append("end must be after start")
    else:
        if not w.duration_min or w.duration_min <= 0:
            problems.append("a recurring window needs a positive duration_min")
        if w.kind is WindowKind.WEEKLY:
            if not w.days or any(d not in range(7) for d in w.days):
                problems.append("days must be a non-empty list of 0 (Monday) … 6 (Sunday)")
            if w.start_time is None:
                problems.append("a weekly window needs start_time")
        elif w.kind is WindowKind.CRON:
            try:
                cron_trigger(w.cron or "", w.tz)
            except (ValueError, KeyError) as exc:
                problems.append(f"invalid cron expression {w.cron!r}: {exc}")
    if w.scope_type is not ScopeType.ALL and w.scope_id is None:
        problems.append(f"scope {w.scope_type} needs scope_id")
    try:
        _zone(w.tz)
    except (KeyError, ValueError):
        problems.append(f"unknown time zone {w.tz!r}")
    return problems


def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def window_intervals(window: MaintenanceWindow, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """Occurrences of ``window`` overlapping [start, end), clipped to it, merged, in order."""
    if end <= start:
        return []
    if window.kind is WindowKind.ONE_OFF:
        assert window.start is not None and window.end is not None
        raw = [(window.start.astimezone(UTC), window.end.astimezone(UTC))]
    else:
        duration = timedelta(minutes=window.duration_min or 0)
        lo = start - duration
        if window.start is not None:
            lo = max(lo, window.start)
        hi = end if window.end is None else min(end, window.end)
        starts = _weekly_starts(window, lo, hi) if window.kind is WindowKind.WEEKLY else _cron_starts(window, lo, hi)
        utc_starts = [s.astimezone(UTC) for s in starts]
        raw = [(s, s + duration) for s in utc_starts]
    clipped = [(max(s, start), min(e, end)) for s, e in raw if s < end and e > start]
    return _merge(clipped)


def _weekly_starts(w: MaintenanceWindow, lo: datetime, hi: datetime) -> Iterable[datetime]:
    """Occurrence starts in [lo, hi) of a weekly window (local wall-clock time in its zone)."""
    assert w.start_time is not None
    tz = _zone(w.tz)
    day: date = lo.astimezone(tz).date() - timedelta(days=1)
    last: date = hi.astimezone(tz).date()
    while day <= last:
        if day.weekday() in w.days:
            s = datetime.combine(day, w.start_time, tzinfo=tz)
            if lo <= s < hi:
                yield s
        day += timedelta(days=1)


_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _standard_dow(field: str) -> str:
    """Standard cron day-of-week (0 or 7 = Sunday, 1 = Monday) → APScheduler names (APScheduler counts
    0 = Monday, so numbers must not be passed through)."""

    def one(token: str) -> str:
        return _CRON_DAYS[int(token)] if token.isdigit() and int(token) <= 7 else token

    parts = []
    for item in field.split(","):
        rng, _, step = item.partition("/")
        lo, dash, hi = rng.partition("-")
        if lo.isdigit() and hi.isdigit() and dash and int(hi) == 7 and int(lo) > 0:
            hi = "6"
            parts.append(f"{one(lo)}-{one(hi)}" + (f"/{step}" if step else "") + ",sun")
            continue
        text = one(lo) + (f"-{one(hi)}" if dash else "")
        parts.append(text + (f"/{step}" if step else ""))
    return ",".join(parts)


def cron_trigger(expr: str, tz: str) -> CronTrigger:
    """A CronTrigger for a standard five-field crontab line (minute hour day month day-of-week)."""
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"a cron expression has 5 fields (minute hour day month weekday), got {len(fields)}")
    minute, hour, day, month, dow = fields
    return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=_standard_dow(dow),
                       timezone=_zone(tz))


def _cron_starts(w: MaintenanceWindow, lo: datetime, hi: datetime) -> Iterable[datetime]:
    trigger = cron_trigger(w.cron or "", w.tz)
    fire = trigger.get_next_fire_time(None, lo)
    count = 0
    while fire is not None and fire < hi:
        yield fire
        count += 1
        if count >= MAX_OCCURRENCES:
            log.warning("maintenance_cron_truncated window=%r occurrences=%d", w.name, count)
            return
        fire = trigger.get_next_fire_time(fire, fire)


def _merge(intervals: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    out: list[tuple[datetime, datetime]] = []
    for s, e in sorted(intervals):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def is_active(window: MaintenanceWindow, now: datetime) -> bool:
    """True when an occurrence of ``window`` contains ``now`` (start inclusive, end exclusive)."""
    return bool(window_intervals(window, now, now + timedelta(microseconds=1)))


def active_windows(windows: Iterable[MaintenanceWindow], now: datetime) -> list[MaintenanceWindow]:
    """The windows active at ``now``."""
    return [w for w in windows if is_active(w, now)]


@dataclass(frozen=True)
class ScopeIndex:
    """Where devices are: device→site, site→region, region→all regions below it (itself excluded or not)."""

    device_site: Mapping[int, int | None]
    site_region: Mapping[int, int | None] = field(default_factory=dict)
    region_descendants: Mapping[int, Set[int]] = field(default_factory=dict)

    def devices_in_scope(self, scope_type: ScopeType, scope_id: int | None) -> set[int]:
        if scope_type is ScopeType.ALL:
            return set(self.device_site)
        if scope_type is ScopeType.DEVICE:
            return {scope_id} if scope_id is not None and scope_id in self.device_site else set()
        if scope_type is ScopeType.SITE:
            return {d for d, s in self.device_site.items() if s == scope_id}
        assert scope_id is not None
        regions = {scope_id, *self.region_descendants.get(scope_id, ())}
        sites = {s for s, r in self.site_region.items() if r in regions}
        return {d for d, s in self.device_site.items() if s in sites}


def devices_in_maintenance(windows: Iterable[MaintenanceWindow], now: datetime, scope: ScopeIndex) -> set[int]:
    """Every device covered by a window active at ``now``."""
    out: set[int] = set()
    for w in active_windows(windows, now):
        out |= scope.devices_in_scope(w.scope_type, w.scope_id)
    return out


def maintenance_by_device(
    windows: Iterable[MaintenanceWindow], start: datetime, end: datetime, scope: ScopeIndex
) -> dict[int, list[tuple[datetime, datetime]]]:
    """Per device, the merged maintenance intervals within [start, end): the input availability needs to
    exclude planned work, including windows recorded after the fact."""
    acc: dict[int, list[tuple[datetime, datetime]]] = {}
    for w in windows:
        spans = window_intervals(w, start, end)
        if not spans:
            continue
        for d in scope.devices_in_scope(w.scope_type, w.scope_id):
            acc.setdefault(d, []).extend(spans)
    return {d: _merge(spans) for d, spans in acc.items()}

"""Availability for the status page: time-based, from ``state_interval`` rows, summed in SQL.

One grouped query adds up, per group (a site category, ``vc``, or one site) and per bucket, the seconds each
hard-state interval of a monitored device overlaps the last 24 hours and the last 30 days. Buckets follow
:mod:`infra_monitor.status.engine.availability`: UP counts as up; DOWN and UNREACHABLE as downtime; MAINTENANCE
(or cut off by maintenance) and UNKNOWN/no data are left out of the denominator. A group's figure is
device-time weighted: ``up / (up + down)``. Each figure carries how much of its window it stands on
(:class:`Figure`), so "100 % after one minute of data" reads as what it is.

Maintenance windows recorded after the fact do not show in the intervals; when windows overlap the period,
the devices they cover are recomputed with :func:`~infra_monitor.status.engine.availability.device_availability`
(with and without the windows) and the difference is applied: one more query, for those devices only.
Intervals of one device are assumed not to overlap (the status engine closes one before opening the next).
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Float, case, cast, distinct, func, literal, or_, select
from sqlalchemy.engine import Connection

from infra_monitor.readmodel.frame import DEV, SITE, monitored
from infra_monitor.status.engine.availability import StateInterval, device_availability
from infra_monitor.status.engine.states import Cause, State
from infra_monitor.status.maintenance.windows import (
    MaintenanceWindow,
    ScopeIndex,
    ScopeType,
    WindowKind,
    maintenance_by_device,
    window_intervals,
)
from infra_monitor.status.store.models import MaintenanceWindowRow, StateIntervalRow
from inventory.dated import Regions
from inventory.models import Device, Site, VideoconferenceEndpoint

log = logging.getLogger(__name__)
K = TypeVar("K", bound=Hashable)
SI = StateIntervalRow.__table__.c  # type: ignore[attr-defined]
VC = VideoconferenceEndpoint.__table__.c  # type: ignore[attr-defined]

PERIODS = {"24h": timedelta(hours=24), "30d": timedelta(days=30)}
BUCKETS = ("up", "down_own", "down_parent", "maintenance", "no_data")


def window_of(row: Any) -> MaintenanceWindow | None:
    """The pure window for a ``maintenance_window`` row, or None (logged) when the row is invalid."""
    try:
        return MaintenanceWindow(
            name=row.name, kind=WindowKind(row.kind), scope_type=ScopeType(row.scope_type), scope_id=row.scope_id,
            start=row.start, end=row.end, days=tuple(row.days or ()), start_time=row.start_time,
            duration_min=row.duration_min, cron=row.cron, tz=row.tz, id=row.id)
    except ValueError as exc:
        log.warning("event=maintenance_window_skipped id=%s reason=%r", row.id, str(exc))
        return None


def load_windows(conn: Connection) -> list[tuple[Any, MaintenanceWindow]]:
    """Every maintenance window row with its pure form (invalid rows skipped)."""
    out = []
    for row in conn.execute(select(MaintenanceWindowRow.__table__)):  # type: ignore[attr-defined]
        w = window_of(row)
        if w is not None:
            out.append((row, w))
    return out


def _bucket_expr() -> Any:
    maint = or_(SI.state == State.MAINTENANCE.value, SI.cause == Cause.MAINTENANCE.value)
    no_data = or_(SI.state == State.UNKNOWN.value, SI.cause == Cause.NO_DATA.value)
    return case((maint, "maintenance"), (no_data, "no_data"), (SI.state == State.UP.value, "up"),
                (SI.state == State.UNREACHABLE.value, "down_parent"), else_="down_own")


def _overlap_seconds(conn: Connection, start: datetime, now: datetime) -> Any:
    """Seconds of [interval.start, interval.end or now) inside [start, now), per dialect (0 when apart)."""
    lo_b = literal(start, SI.start.type)
    hi_b = literal(now, SI.start.type)
    end = func.coalesce(SI.end, hi_b)
    lo: Any
    hi: Any
    if conn.dialect.name == "sqlite":
        lo, hi = func.max(SI.start, lo_b), func.min(end, hi_b)
        seconds: Any = (func.julianday(hi) - func.julianday(lo)) * 86400.0
    else:
        lo, hi = func.greatest(SI.start, lo_b), func.least(end, hi_b)
        seconds = cast(func.extract("epoch", hi - lo), Float)
    return case((hi > lo, seconds), else_=0.0)


def _source() -> Any:
    """Intervals joined to their device, its site, and its videoconference endpoint if it is a codec."""
    return (StateIntervalRow.__table__  # type: ignore[attr-defined]
            .join(Device, DEV.id == SI.device_id)
            .join(Site, SITE.id == DEV.site_id)
            .outerjoin(VideoconferenceEndpoint, VC.device_id == DEV.id))


def level_group() -> Any:
    """Group expression: ``vc`` for videoconference codecs, otherwise the site's category."""
    return case((VC.id.is_not(None), "vc"), else_=SITE.category)


Seconds = dict[str, dict[Any, dict[str, float]]]


def _totals(conn: Connection, now: datetime, group: Any, where: Any,
            periods: Mapping[str, timedelta]) -> tuple[Seconds, dict[str, dict[Any, int]]]:
    """Seconds per (period, group, bucket), and per (period, group) how many devices have intervals in it."""
    longest = max(periods.values())
    seconds = [_overlap_seconds(conn, now - length, now).label(f"p_{name}") for name, length in periods.items()]
    inner = (select(group.label("g"), _bucket_expr().label("b"), SI.device_id.label("d"), *seconds)
             .select_from(_source())
             .where(monitored(), SI.start < now, or_(SI.end.is_(None), SI.end > now - longest)))
    if where is not None:
        inner = inner.where(where)
    sub = inner.subquery()
    stmt = (select(sub.c.g, sub.c.b, *(func.sum(sub.c[f"p_{name}"]).label(f"p_{name}") for name in periods))
            .group_by(sub.c.g, sub.c.b))
    out: dict[str, dict[Any, dict[str, float]]] = {name: {} for name in periods}
    for r in conn.execute(stmt):
        if r.g is None:
            continue
        for name in periods:
            per_group = out[name].setdefault(r.g, dict.fromkeys(BUCKETS, 0.0))
            per_group[r.b] += float(getattr(r, f"p_{name}") or 0.0)
    devices_stmt = (select(sub.c.g, *(func.count(distinct(case((sub.c[f"p_{name}"] > 0, sub.c.d)))).label(name)
                                      for name in periods)).group_by(sub.c.g))
    devices: dict[str, dict[Any, int]] = {name: {} for name in periods}
    for r in conn.execute(devices_stmt):
        if r.g is not None:
            for name in periods:
                devices[name][r.g] = int(getattr(r, name) or 0)
    return out, devices


def _window_corrections(conn: Connection, now: datetime, group: Any, where: Any, periods: Mapping[str, timedelta],
                        windows: list[MaintenanceWindow], regions: Regions,
                        totals: dict[str, dict[Any, dict[str, float]]]) -> None:
    """Move the time inside maintenance windows (recorded after the fact or not) into ``maintenance``."""
    site_region: dict[int, int | None] = {}
    if any(w.scope_type is ScopeType.REGION for w in windows):
        site_region = {r.id: regions.resolve(r.region_id) for r in conn.execute(select(SITE.id, SITE.region_id))}
    tree = regions.tree
    longest = max(periods.values())
    stmt = (select(SI.device_id, SI.state, SI.cause, SI.root_cause_device_id, SI.start, SI.end, DEV.site_id,
                   group.label("g"))
            .select_from(_source())
            .where(monitored(), SI.start < now, or_(SI.end.is_(None), SI.end > now - longest)))
    scope = ScopeIndex(device_site={}, site_region=site_region, region_descendants=tree.descendants())
    if not any(w.scope_type is ScopeType.ALL for w in windows):
        sites = {w.scope_id for w in windows if w.scope_type is ScopeType.SITE}
        devices = {w.scope_id for w in windows if w.scope_type is ScopeType.DEVICE}
        scoped: set[int] = set()
        for w in windows:
            if w.scope_type is ScopeType.REGION and w.scope_id is not None:
                scoped |= {w.scope_id, *scope.region_descendants.get(w.scope_id, ())}
        region_sites = {s for s, r in site_region.items() if r in scoped}
        stmt = stmt.where(or_(DEV.site_id.in_(sites | region_sites), DEV.id.in_(devices)))
    if where is not None:
        stmt = stmt.where(where)
    rows = list(conn.execute(stmt))
    if not rows:
        return
    device_site = {r.device_id: r.site_id for r in rows}
    group_of = {r.device_id: r.g for r in rows}
    scope = ScopeIndex(device_site=device_site, site_region=site_region, region_descendants=scope.region_descendants)
    intervals = [StateInterval(r.device_id, State(r.state), Cause(r.cause), r.root_cause_device_id, r.start, r.end)
                 for r in rows]
    for name, length in periods.items():
        start = now - length
        planned = maintenance_by_device(windows, start, now, scope)
        if not planned:
            continue
        plain = device_availability(intervals, start, now, now=now)
        with_windows = device_availability(intervals, start, now, now=now, maintenance=planned)
        for d, av in with_windows.items():
            g = group_of.get(d)
            if g is None or d not in planned:
                continue
            per_group = totals[name].setdefault(g, dict.fromkeys(BUCKETS, 0.0))
            for b in BUCKETS:
                per_group[b] += (getattr(av, b) - getattr(plain[d], b)).total_seconds()


@dataclass(frozen=True)
class Figure:
    """An availability figure and how much of its window it stands on.

    ``data_s`` is the counted time (UP + DOWN + UNREACHABLE; maintenance and no data left out) per device
    with intervals in the window, on average: for one device, exactly the part of the window it was watched
    outside maintenance. ``pct`` is None when nothing was counted."""

    pct: float | None
    data_s: float
    window_s: float


def availability_figures(
    conn: Connection,
    now: datetime,
    group: Any,
    *,
    regions: Regions,
    where: Any = None,
    periods: Mapping[str, timedelta] = PERIODS,
) -> dict[str, dict[Any, Figure]]:
    """``{period: {group: Figure}}`` where ``group`` is a SQL expression over ``device``/``site`` columns
    (rows where it is NULL are skipped). Three queries, four when maintenance windows overlap the period."""
    totals, devices = _totals(conn, now, group, where, periods)
    longest = max(periods.values())
    windows = [w for _row, w in load_windows(conn) if window_intervals(w, now - longest, now)]
    if windows:
        _window_corrections(conn, now, group, where, periods, windows, regions, totals)
    out: dict[str, dict[Any, Figure]] = {}
    for name, per_group in totals.items():
        out[name] = {}
        window_s = periods[name].total_seconds()
        for g, b in per_group.items():
            counted = b["up"] + b["down_own"] + b["down_parent"]
            n = devices[name].get(g, 0)
            out[name][g] = Figure(100.0 * b["up"] / counted if counted > 0 else None,
                                  min(window_s, counted / n) if n else 0.0, window_s)
    return out


def figure_fields(figures: Mapping[str, Mapping[Any, Figure]], group: Any) -> dict[str, Any]:
    """``availability_<period>`` and ``availability_<period>_data_s`` of ``group``: the read model's fields."""
    out: dict[str, Any] = {}
    for period, per_group in figures.items():
        fig = per_group.get(group)
        out[f"availability_{period}"] = fig.pct if fig else None
        out[f"availability_{period}_data_s"] = fig.data_s if fig else 0.0
    return out


def availability(
    conn: Connection,
    now: datetime,
    group: Any,
    *,
    regions: Regions,
    where: Any = None,
    periods: Mapping[str, timedelta] = PERIODS,
) -> dict[str, dict[Any, float | None]]:
    """``{period: {group: uptime %}}``: :func:`availability_figures` without the coverage."""
    figures = availability_figures(conn, now, group, regions=regions, where=where, periods=periods)
    return {name: {g: f.pct for g, f in per_group.items()} for name, per_group in figures.items()}

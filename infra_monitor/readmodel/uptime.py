"""Availability for the status page: time-based, from ``state_interval`` rows, one query per call.

Loads the hard-state intervals of monitored devices overlapping the longest period asked for (one query,
joined to ``device`` for the site) and the maintenance windows (one query), then computes each period with
:mod:`infra_monitor.status.availability`: downtime is time DOWN or UNREACHABLE, maintenance (live or
recorded after the fact) and time without data are left out of the denominator. A group's figure is
device-time weighted: the share of its devices' counted time they were UP.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Mapping
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import or_, select
from sqlalchemy.engine import Connection

from infra_monitor.readmodel.frame import DEV, monitored
from infra_monitor.status.availability import Availability, StateInterval, aggregate, device_availability
from infra_monitor.status.maintenance import (
    MaintenanceWindow,
    ScopeIndex,
    ScopeType,
    WindowKind,
    maintenance_by_device,
)
from infra_monitor.status.models import MaintenanceWindowRow, StateIntervalRow
from infra_monitor.status.regions import RegionTree
from infra_monitor.status.states import Cause, State
from inventory.models import Device

log = logging.getLogger(__name__)
K = TypeVar("K", bound=Hashable)
SI = StateIntervalRow.__table__.c  # type: ignore[attr-defined]
MW = MaintenanceWindowRow.__table__.c  # type: ignore[attr-defined]

PERIODS = {"24h": timedelta(hours=24), "30d": timedelta(days=30)}


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


def load_intervals(
    conn: Connection, start: datetime, now: datetime, where: Any = None
) -> list[tuple[StateInterval, int]]:
    """Intervals of monitored devices overlapping [start, now), each with the device's site id."""
    stmt = (select(SI.device_id, SI.state, SI.cause, SI.root_cause_device_id, SI.start, SI.end, DEV.site_id)
            .join(Device, DEV.id == SI.device_id)
            .where(monitored(), SI.start < now, or_(SI.end.is_(None), SI.end > start)))
    if where is not None:
        stmt = stmt.where(where)
    out = []
    for r in conn.execute(stmt):
        try:
            iv = StateInterval(r.device_id, State(r.state), Cause(r.cause), r.root_cause_device_id, r.start, r.end)
        except ValueError:
            log.warning("event=state_interval_skipped device_id=%s state=%r cause=%r", r.device_id, r.state, r.cause)
            continue
        out.append((iv, r.site_id))
    return out


def availability(
    conn: Connection,
    now: datetime,
    group_of: Callable[[int, int], K | None],
    *,
    tree: RegionTree,
    site_region: Mapping[int, int | None],
    where: Any = None,
    periods: Mapping[str, timedelta] = PERIODS,
) -> dict[str, dict[K, float | None]]:
    """``{period: {group: uptime %}}``; ``group_of(device_id, site_id)`` names a device's group (None: skip).

    Two queries (intervals, windows) whatever the number of devices.
    """
    longest = max(periods.values())
    rows = load_intervals(conn, now - longest, now, where)
    windows = [w for _row, w in load_windows(conn)]
    device_site = {iv.device_id: site for iv, site in rows}
    groups = {d: g for d, s in device_site.items() if (g := group_of(d, s)) is not None}
    scope = ScopeIndex(device_site=device_site, site_region=site_region,
                       region_descendants=tree.descendants()) if windows else None
    out: dict[str, dict[K, float | None]] = {}
    for name, length in periods.items():
        start = now - length
        planned = maintenance_by_device(windows, start, now, scope) if scope is not None else None
        per_device: dict[int, Availability] = device_availability(
            (iv for iv, _s in rows), start, now, now=now, maintenance=planned)
        out[name] = {g: av.uptime_pct for g, av in aggregate(per_device, groups).items()}
    return out

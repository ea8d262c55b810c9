"""Availability of services over time, from their checks' state intervals (``check_state_interval``), never
from sample counts.

**Definition.** A service's *checks* are its current checks: the checks its latest results name
(``latest_result.service_id``: a port, the URL, the DNS query). Over a window [start, end) (cut at now), each
instant of a service falls in one bucket, the way :func:`~infra_monitor.readmodel.services.service_state` reads
the checks now:

* ``down``     any of its checks was down (a service with one check down is down);
* ``up``       every one of its checks had data and was up;
* ``no data``  otherwise: a check without an interval then (not yet checked, the poller silent beyond the
  staleness window, see :mod:`infra_monitor.storage.check_intervals`) and none down.

``availability = up / (up + down)``, None when nothing was counted; ``data_s = up + down`` is how much of the
window it stands on (:class:`~infra_monitor.readmodel.uptime.Figure`). Several services together (the hosted
systems) are service-time weighted: ``Σ up / Σ (up + down)``, with ``data_s`` the counted time per service
asked for, on average (a monitored service never measured lowers it). Maintenance windows are not taken out
of service time (checks have no maintenance state): time in maintenance counts as measured.

One query whatever the number of services: their current checks LEFT JOINed to the intervals overlapping the
longest window; the buckets are added up in Python per service (intervals change only when a state does).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.engine import Connection

from infra_monitor.readmodel.uptime import PERIODS, Figure
from infra_monitor.storage.check_intervals import CSI, DEFAULT_GAP, CheckStateIntervalRow, effective_end
from infra_monitor.storage.models import LatestResult

LR = LatestResult.__table__.c  # type: ignore[attr-defined]
Span = tuple[datetime, datetime, str]


@dataclass(frozen=True)
class ServiceTime:
    """Seconds of one service (or several, added up) in a window."""

    up_s: float = 0.0
    down_s: float = 0.0
    window_s: float = 0.0

    @property
    def counted_s(self) -> float:
        return self.up_s + self.down_s

    @property
    def pct(self) -> float | None:
        return 100.0 * (self.up_s / self.counted_s) if self.counted_s > 0 else None

    def figure(self) -> Figure:
        return Figure(self.pct, min(self.window_s, self.counted_s), self.window_s)


def _rows(conn: Connection, service_ids: list[int] | None, start: datetime, end: datetime) -> list[Any]:
    on = and_(CSI.device_id == LR.device_id, CSI.check_key == LR.check_key, CSI.start < end,
              or_(CSI.end.is_(None), CSI.end > start))
    stmt = (select(LR.service_id, LR.device_id, LR.check_key, CSI.state, CSI.start, CSI.end, CSI.last_seen)
            .select_from(LatestResult.__table__  # type: ignore[attr-defined]
                         .outerjoin(CheckStateIntervalRow.__table__, on))  # type: ignore[attr-defined]
            .where(LR.service_id.in_(service_ids) if service_ids is not None else LR.service_id.is_not(None)))
    return list(conn.execute(stmt))


def _checks(rows: Iterable[Any], now: datetime, max_gap: timedelta) -> dict[int, dict[tuple[int, str], list[Span]]]:
    """Per service, per check, its intervals as (start, effective end, state), oldest first."""
    out: dict[int, dict[tuple[int, str], list[Span]]] = {}
    for r in rows:
        spans = out.setdefault(r.service_id, {}).setdefault((r.device_id, r.check_key), [])
        if r.state is not None:
            spans.append((r.start, effective_end(r.end, r.last_seen, now, max_gap), r.state))
    for per_check in out.values():
        for spans in per_check.values():
            spans.sort()
    return out


def _service_time(checks: Mapping[Any, list[Span]], start: datetime, end: datetime) -> ServiceTime:
    """Bucket the window [start, end) of one service whose checks have these intervals (see the module doc)."""
    window_s = max(0.0, (end - start).total_seconds())
    if not checks or end <= start:
        return ServiceTime(window_s=window_s)
    points = {start, end}
    for spans in checks.values():
        for s, e, _state in spans:
            if start < s < end:
                points.add(s)
            if start < e < end:
                points.add(e)
    cuts = sorted(points)
    pos = dict.fromkeys(checks, 0)
    up = down = 0.0
    for a, b in pairwise(cuts):
        states = []
        for key, spans in checks.items():
            i = pos[key]
            while i < len(spans) and spans[i][1] <= a:
                i += 1
            pos[key] = i
            states.append(spans[i][2] if i < len(spans) and spans[i][0] <= a else None)
        seconds = (b - a).total_seconds()
        if "down" in states:
            down += seconds
        elif all(s == "up" for s in states):
            up += seconds
    return ServiceTime(up, down, window_s)


def service_times(conn: Connection, service_ids: list[int] | None, start: datetime, end: datetime, *,
                  now: datetime, max_gap: timedelta = DEFAULT_GAP) -> dict[int, ServiceTime]:
    """Per service (``service_ids``, or every service with checks when None): its time up and down in
    [start, min(end, now)). One query."""
    stop = min(end, now)
    per_service = _checks(_rows(conn, service_ids, start, stop), now, max_gap)
    ids = service_ids if service_ids is not None else list(per_service)
    return {i: _service_time(per_service.get(i, {}), start, stop) for i in ids}


def service_figures(conn: Connection, service_ids: list[int] | None, now: datetime, *,
                    max_gap: timedelta = DEFAULT_GAP, periods: Mapping[str, timedelta] = PERIODS
                    ) -> dict[str, dict[int, Figure]]:
    """``{period: {service id: Figure}}`` over the last 24 hours and 30 days (``periods``). One query."""
    if service_ids is not None and not service_ids:
        return {name: {} for name in periods}
    longest = max(periods.values())
    per_service = _checks(_rows(conn, service_ids, now - longest, now), now, max_gap)
    ids = service_ids if service_ids is not None else list(per_service)
    return {name: {i: _service_time(per_service.get(i, {}), now - length, now).figure() for i in ids}
            for name, length in periods.items()}


def combined(times: Iterable[ServiceTime], services: int, window_s: float) -> Figure:
    """Several services as one figure: service-time weighted, ``data_s`` averaged over ``services``."""
    up = down = 0.0
    for t in times:
        up += t.up_s
        down += t.down_s
    counted = up + down
    return Figure(100.0 * (up / counted) if counted > 0 else None,
                  min(window_s, counted / services) if services else 0.0, window_s)


def combined_figures(conn: Connection, service_ids: list[int], now: datetime, *,
                     max_gap: timedelta = DEFAULT_GAP, periods: Mapping[str, timedelta] = PERIODS
                     ) -> dict[str, Figure]:
    """``{period: Figure}`` of ``service_ids`` together (the hosted systems). One query (none without ids)."""
    if not service_ids:
        return {name: Figure(None, 0.0, length.total_seconds()) for name, length in periods.items()}
    longest = max(periods.values())
    per_service = _checks(_rows(conn, service_ids, now - longest, now), now, max_gap)
    return {name: combined((_service_time(per_service.get(i, {}), now - length, now) for i in service_ids),
                           len(service_ids), length.total_seconds())
            for name, length in periods.items()}

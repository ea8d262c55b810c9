"""Heartbeat bars of the sites table: each site's state over the last 24 hours in half-hour cells.

One query, whatever the number of sites: the hard-state intervals (``state_interval``) of the monitored
devices of the listed sites that overlap the last 24 hours. A cell's state is the site rule
(:func:`~infra_monitor.readmodel.sitestate.site_state`) over the states its devices were in at any moment of
the cell: one device DOWN for a minute makes the half hour DOWN (a bar is for spotting trouble), a device
UNREACHABLE only because of planned work counts as MAINTENANCE, and a cell no interval covers is UNKNOWN.
Counting samples would need the raw results; intervals are what the status engine decided.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.engine import Connection

from infra_monitor.readmodel.frame import DEV, monitored
from infra_monitor.readmodel.sitestate import Tally, site_state
from infra_monitor.status.engine.states import Cause, State
from infra_monitor.status.store.models import StateIntervalRow
from inventory.models import Device

SI = StateIntervalRow.__table__.c  # type: ignore[attr-defined]
CELL = timedelta(minutes=30)
CELLS = 48  # 24 hours


@dataclass(frozen=True)
class Beat:
    """One site's bar: ``states[i]`` is the state in ``[start + i * step, start + (i + 1) * step)``."""

    start: datetime
    step: timedelta
    states: tuple[str, ...]

    def runs(self) -> list[tuple[int, int, str, datetime, datetime]]:
        """Consecutive cells of one state: (first cell, number of cells, state, from, to)."""
        out: list[tuple[int, int, str, datetime, datetime]] = []
        for i, s in enumerate(self.states):
            if out and out[-1][2] == s:
                first, n, _s, frm, _to = out[-1]
                out[-1] = (first, n + 1, s, frm, self.start + self.step * (i + 1))
            else:
                out.append((i, 1, s, self.start + self.step * i, self.start + self.step * (i + 1)))
        return out


def grid_start(now: datetime) -> datetime:
    """The first cell's start: cells end at the half hour after ``now`` (the last one is partly future)."""
    epoch = int(now.timestamp())
    step = int(CELL.total_seconds())
    end = epoch // step * step + step
    return datetime.fromtimestamp(end - step * CELLS, UTC)


def _state_of(state: str, cause: str) -> str:
    if state == State.UNREACHABLE.value and cause == Cause.MAINTENANCE.value:
        return State.MAINTENANCE.value
    return state


def site_heartbeats(conn: Connection, site_ids: Iterable[int], now: datetime) -> dict[int, Beat]:
    """The bar of every site in ``site_ids`` (one query); a site without intervals is all UNKNOWN."""
    ids = sorted(set(site_ids))
    start = grid_start(now)
    step_s = CELL.total_seconds()
    present: dict[int, list[dict[int, set[str]]]] = {s: [{} for _ in range(CELLS)] for s in ids}
    if ids:
        stmt = (select(DEV.site_id, SI.device_id, SI.state, SI.cause, SI.start, SI.end)
                .join(Device, DEV.id == SI.device_id)
                .where(DEV.site_id.in_(ids), monitored(), SI.start < now, or_(SI.end.is_(None), SI.end > start)))
        for r in conn.execute(stmt):
            lo = max(r.start, start)
            hi = min(r.end or now, now)
            if hi <= lo:
                continue
            first = int((lo - start).total_seconds() // step_s)
            last = int(((hi - start).total_seconds() - 1e-6) // step_s)
            state = _state_of(r.state, r.cause)
            cells = present[r.site_id]
            for i in range(max(first, 0), min(last, CELLS - 1) + 1):
                cells[i].setdefault(r.device_id, set()).add(state)
    out: dict[int, Beat] = {}
    for site, cells in present.items():
        states = []
        for devices in cells:
            counts = {s.value: 0 for s in State}
            for seen in devices.values():
                for s in seen:
                    counts[s] = counts.get(s, 0) + 1
            tally = Tally(up=counts["up"], down=counts["down"], unreachable=counts["unreachable"],
                          maintenance=counts["maintenance"], unknown=counts["unknown"])
            states.append(site_state(tally).value)
        out[site] = Beat(start, CELL, tuple(states))
    return out

"""Time-based availability from state intervals (never sample counting), with downtime attributed to causes.

Input: hard-state intervals ``(device_id, state, cause, root_cause_device_id, start, end | None)`` as stored
in ``state_interval``, a period [start, end) and optionally per-device maintenance intervals (windows,
including ones recorded after the fact). Each instant of the period falls in exactly one bucket:

* ``up``          state UP;
* ``down_own``    DOWN (the device's own failure);
* ``down_parent`` UNREACHABLE behind a failed parent;
* ``maintenance`` MAINTENANCE, UNREACHABLE because of an ancestor's maintenance, or any time inside a
  maintenance interval given for the device — excluded from the denominator;
* ``no_data``     UNKNOWN, or not covered by any interval — excluded from the denominator, reported apart.

``uptime_pct = up / (up + down_own + down_parent)``; ``own_uptime_pct`` counts parent outages as up (the
availability the device itself is answerable for). Open intervals run to the period end, or to ``now`` when
given and earlier (the future is not part of the period). Overlapping intervals of one device are resolved
by letting each interval end where the next one starts.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import TypeVar

from infra_monitor.status.engine.states import Cause, State

K = TypeVar("K", bound=Hashable)
ZERO = timedelta(0)
Span = tuple[datetime, datetime]


@dataclass(frozen=True)
class StateInterval:
    device_id: int
    state: State
    cause: Cause
    root_cause_device_id: int | None
    start: datetime
    end: datetime | None


@dataclass(frozen=True)
class Availability:
    """Durations per bucket over a period; add two to aggregate (time-weighted)."""

    up: timedelta = ZERO
    down_own: timedelta = ZERO
    down_parent: timedelta = ZERO
    maintenance: timedelta = ZERO
    no_data: timedelta = ZERO

    def __add__(self, other: Availability) -> Availability:
        return Availability(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    @property
    def total(self) -> timedelta:
        return self.up + self.down_own + self.down_parent + self.maintenance + self.no_data

    @property
    def counted(self) -> timedelta:
        """The denominator: time with data, outside maintenance."""
        return self.up + self.down_own + self.down_parent

    @property
    def downtime(self) -> timedelta:
        return self.down_own + self.down_parent

    @property
    def uptime_pct(self) -> float | None:
        """Percent of counted time UP; None when nothing was counted."""
        return None if self.counted == ZERO else 100.0 * (self.up / self.counted)

    @property
    def own_uptime_pct(self) -> float | None:
        """Like ``uptime_pct`` but time cut off by a parent counts as up."""
        if self.counted == ZERO:
            return None
        return 100.0 * ((self.up + self.down_parent) / self.counted)


def bucket(state: State, cause: Cause) -> str:
    """The availability bucket of a hard state and its cause (see the module docstring)."""
    if state is State.MAINTENANCE or cause is Cause.MAINTENANCE:
        return "maintenance"
    if state is State.UNKNOWN or cause is Cause.NO_DATA:
        return "no_data"
    if state is State.UP:
        return "up"
    if state is State.UNREACHABLE:
        return "down_parent"
    return "down_own"


def _overlap(span: Span, others: Sequence[Span]) -> timedelta:
    s, e = span
    total = ZERO
    for os_, oe in others:
        lo, hi = max(s, os_), min(e, oe)
        if hi > lo:
            total += hi - lo
    return total


def _merge(spans: Iterable[Span]) -> list[Span]:
    out: list[Span] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def clipped_spans(
    intervals: Iterable[StateInterval], start: datetime, end: datetime, now: datetime | None = None
) -> dict[int, list[tuple[StateInterval, Span]]]:
    """Per device, each interval with the part of it that lies in the period (empty parts dropped)."""
    stop = end if now is None else max(start, min(end, now))
    by_device: dict[int, list[StateInterval]] = {}
    for iv in intervals:
        by_device.setdefault(iv.device_id, []).append(iv)
    out: dict[int, list[tuple[StateInterval, Span]]] = {}
    for d, ivs in by_device.items():
        ivs.sort(key=lambda iv: iv.start)
        pieces: list[tuple[StateInterval, Span]] = []
        for i, iv in enumerate(ivs):
            iv_end = stop if iv.end is None else iv.end
            if i + 1 < len(ivs):
                iv_end = min(iv_end, ivs[i + 1].start)
            lo, hi = max(iv.start, start), min(iv_end, stop)
            if hi > lo:
                pieces.append((iv, (lo, hi)))
        out[d] = pieces
    return out


def device_availability(
    intervals: Iterable[StateInterval],
    start: datetime,
    end: datetime,
    *,
    now: datetime | None = None,
    maintenance: Mapping[int, Sequence[Span]] | None = None,
    device_ids: Iterable[int] = (),
) -> dict[int, Availability]:
    """Availability of every device that has intervals (plus ``device_ids``, all no-data if uncovered)."""
    stop = end if now is None else max(start, min(end, now))
    period = stop - start
    spans = clipped_spans(intervals, start, end, now)
    result: dict[int, Availability] = {}
    for d in sorted(set(spans) | set(device_ids)):
        planned = _merge(maintenance.get(d, ()) if maintenance else ())
        acc = dict.fromkeys(("up", "down_own", "down_parent", "maintenance", "no_data"), ZERO)
        covered = ZERO
        for iv, span in spans.get(d, []):
            length = span[1] - span[0]
            covered += length
            in_window = _overlap(span, planned)
            acc["maintenance"] += in_window
            acc[bucket(iv.state, iv.cause)] += length - in_window
        acc["no_data"] += period - covered
        result[d] = Availability(**acc)
    return result


def aggregate(per_device: Mapping[int, Availability], group_of: Mapping[int, K]) -> dict[K, Availability]:
    """Sum device availabilities per group (site, region, level…); devices without a group are skipped."""
    out: dict[K, Availability] = {}
    for d, av in per_device.items():
        if d in group_of:
            key = group_of[d]
            out[key] = out.get(key, Availability()) + av
    return out


def downtime_by_root(
    intervals: Iterable[StateInterval], start: datetime, end: datetime, *, now: datetime | None = None
) -> dict[int, timedelta]:
    """Device-time cut off behind each root-cause device (UNREACHABLE intervals, maintenance excluded):
    which failures cost the network the most."""
    out: dict[int, timedelta] = {}
    for pieces in clipped_spans(intervals, start, end, now).values():
        for iv, (lo, hi) in pieces:
            root = iv.root_cause_device_id
            if iv.state is State.UNREACHABLE and iv.cause is Cause.PARENT_UNREACHABLE and root is not None:
                out[root] = out.get(root, ZERO) + (hi - lo)
    return out

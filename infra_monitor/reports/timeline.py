"""Timelines: what each device (and each site) was doing at every instant of a report's period.

A device's timeline is a sorted, gap-free list of :class:`Segment` covering ``[start, stop)`` (``stop`` is
the period end, or now when the period reaches into the future). Each segment is in one availability
bucket of :mod:`infra_monitor.status.engine.availability` (``up``, ``down_own``, ``down_parent``, ``maintenance``,
``no_data``): hard-state intervals give the bucket, maintenance windows (including ones recorded after the
fact) overlay ``maintenance``, and time no interval covers is ``no_data`` (poller silent, monitoring not yet
started, device created later). A site's timeline merges its devices' with the site-state rule of
:mod:`infra_monitor.readmodel.sitestate`: at each instant the worst of DOWN, UNREACHABLE, MAINTENANCE, UP, in
that order; no data only when no device has any.

From a timeline come durations per bucket (:class:`~infra_monitor.status.engine.availability.Availability`),
outages (maximal runs of downtime) and the state at the end of the period.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

from infra_monitor.status.engine.availability import Availability, StateInterval, bucket, clipped_spans

ZERO = timedelta(0)
UP, DOWN_OWN, DOWN_PARENT, MAINT, NO_DATA = "up", "down_own", "down_parent", "maintenance", "no_data"
# Site rule: the first bucket any device is in wins (sitestate.PRECEDENCE in bucket terms).
SITE_PRECEDENCE = (DOWN_OWN, DOWN_PARENT, MAINT, UP, NO_DATA)
END_STATE = {UP: "up", DOWN_OWN: "down", DOWN_PARENT: "unreachable", MAINT: "maintenance", NO_DATA: "no_data"}


@dataclass(frozen=True)
class Segment:
    start: datetime
    end: datetime
    bucket: str
    root: int | None = None          # root-cause device of a down_parent segment
    since: datetime | None = None    # start of the underlying state interval (may precede the period)
    device: int | None = None        # for site segments: the device that decided the bucket

    @property
    def length(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True)
class Outage:
    start: datetime
    end: datetime
    open: bool           # still failing when the measured part of the period ended
    own: bool            # any part of it was the device's / site's own failure (else only upstream)

    @property
    def length(self) -> timedelta:
        return self.end - self.start


def _subtract(span: tuple[datetime, datetime], windows: Sequence[tuple[datetime, datetime]]
              ) -> list[tuple[datetime, datetime, bool]]:
    """Split ``span`` into pieces inside (True) and outside (False) the merged, sorted ``windows``."""
    lo, hi = span
    out: list[tuple[datetime, datetime, bool]] = []
    cursor = lo
    for ws, we in windows:
        if we <= cursor or ws >= hi:
            continue
        a, b = max(ws, cursor), min(we, hi)
        if a > cursor:
            out.append((cursor, a, False))
        out.append((a, b, True))
        cursor = b
    if cursor < hi:
        out.append((cursor, hi, False))
    return out


def device_timelines(intervals: Iterable[StateInterval], start: datetime, stop: datetime, device_ids: Iterable[int],
                     maintenance: Mapping[int, Sequence[tuple[datetime, datetime]]] | None = None
                     ) -> dict[int, list[Segment]]:
    """Gap-free timeline over ``[start, stop)`` of every device in ``device_ids``."""
    spans = clipped_spans(intervals, start, stop)
    out: dict[int, list[Segment]] = {}
    for d in device_ids:
        windows = sorted((maintenance or {}).get(d, ()))
        segs: list[Segment] = []
        cursor = start
        for iv, span in spans.get(d, []):
            if span[0] > cursor:
                segs.extend(_pieces((cursor, span[0]), windows, NO_DATA, None, None))
            segs.extend(_pieces(span, windows, bucket(iv.state, iv.cause), iv.root_cause_device_id, iv.start))
            cursor = span[1]
        if cursor < stop:
            segs.extend(_pieces((cursor, stop), windows, NO_DATA, None, None))
        out[d] = _coalesce(segs)
    return out


def _pieces(span: tuple[datetime, datetime], windows: Sequence[tuple[datetime, datetime]], b: str,
            root: int | None, since: datetime | None) -> list[Segment]:
    if not windows:
        return [Segment(span[0], span[1], b, root if b == DOWN_PARENT else None, since)]
    return [Segment(lo, hi, MAINT if inside else b, None if inside or b != DOWN_PARENT else root,
                    lo if inside else since) for lo, hi, inside in _subtract(span, windows)]


def _coalesce(segs: list[Segment]) -> list[Segment]:
    """Join touching segments with the same bucket and root (the finer intervals add nothing)."""
    out: list[Segment] = []
    for s in segs:
        if s.end <= s.start:
            continue
        last = out[-1] if out else None
        if last is not None and last.end == s.start and last.bucket == s.bucket and last.root == s.root \
                and last.device == s.device:
            out[-1] = Segment(last.start, s.end, s.bucket, s.root, last.since, s.device)
        else:
            out.append(s)
    return out


# A redundant group (members doing the same job): up while any member is up; else the worst failure.
GROUP_PRECEDENCE = (UP, DOWN_OWN, DOWN_PARENT, MAINT, NO_DATA)


def site_timeline(device_timelines_: Sequence[tuple[int, Sequence[Segment]]], start: datetime,
                  stop: datetime, precedence: Sequence[str] = SITE_PRECEDENCE) -> list[Segment]:
    """Merge the timelines of one site's devices with the site-state rule (no devices: all no data); with
    ``precedence=GROUP_PRECEDENCE``, the timeline of a redundant group."""
    rank_of = {b: i for i, b in enumerate(precedence)}
    if not device_timelines_:
        return [Segment(start, stop, NO_DATA)]
    if len(device_timelines_) == 1:
        d, segs = device_timelines_[0]
        return [Segment(s.start, s.end, s.bucket, s.root, s.since, d) for s in segs]
    cuts = sorted({start, stop, *(s.start for _d, segs in device_timelines_ for s in segs)})
    pointers = [0] * len(device_timelines_)
    out: list[Segment] = []
    for lo, hi in pairwise(cuts):
        best: tuple[int, int, Segment] | None = None
        for i, (d, segs) in enumerate(device_timelines_):
            p = pointers[i]
            while p < len(segs) and segs[p].end <= lo:
                p += 1
            pointers[i] = p
            if p < len(segs) and segs[p].start <= lo:
                seg = segs[p]
                rank = rank_of[seg.bucket]
                if best is None or rank < best[0]:
                    best = (rank, d, seg)
        if best is None:
            out.append(Segment(lo, hi, NO_DATA))
        else:
            _r, d, seg = best
            out.append(Segment(lo, hi, seg.bucket, seg.root, seg.since, d))
    return _coalesce(out)


def totals(segs: Iterable[Segment]) -> Availability:
    acc = dict.fromkeys((UP, DOWN_OWN, DOWN_PARENT, MAINT, NO_DATA), ZERO)
    for s in segs:
        acc[s.bucket] += s.length
    return Availability(**acc)


def downtime_buckets(maintenance_as_down: bool = False, no_data_as_down: bool = False) -> frozenset[str]:
    out = {DOWN_OWN, DOWN_PARENT}
    if maintenance_as_down:
        out.add(MAINT)
    if no_data_as_down:
        out.add(NO_DATA)
    return frozenset(out)


def outages(segs: Sequence[Segment], stop: datetime, down: frozenset[str] = frozenset({DOWN_OWN, DOWN_PARENT})
            ) -> list[Outage]:
    """Maximal runs of touching downtime segments; a run reaching ``stop`` is open."""
    out: list[Outage] = []
    run: list[Segment] = []

    def close() -> None:
        if run:
            out.append(Outage(run[0].start, run[-1].end, run[-1].end >= stop,
                              any(s.bucket == DOWN_OWN for s in run)))
            run.clear()

    for s in segs:
        if s.bucket in down and (not run or run[-1].end == s.start):
            run.append(s)
        else:
            close()
            if s.bucket in down:
                run.append(s)
    close()
    return out


@dataclass(frozen=True)
class OutageStats:
    count: int
    longest: timedelta | None
    mttr: timedelta | None       # mean length of the outages that ended within the period
    open: int


def outage_stats(items: Sequence[Outage]) -> OutageStats:
    closed = [o.length for o in items if not o.open]
    return OutageStats(count=len(items), longest=max((o.length for o in items), default=None),
                       mttr=(sum(closed, ZERO) / len(closed)) if closed else None,
                       open=sum(1 for o in items if o.open))


def end_segment(segs: Sequence[Segment]) -> Segment | None:
    """The segment at the end of the measured period: its bucket is the state then."""
    return segs[-1] if segs else None


def time_all_up(timelines: Sequence[Sequence[Segment]]) -> tuple[timedelta, timedelta, timedelta]:
    """For a group (e.g. redundant uplinks): time all were up, at least one was up, none was up."""
    if not timelines:
        return ZERO, ZERO, ZERO
    cuts = sorted({t for tl in timelines for s in tl for t in (s.start, s.end)})
    pointers = [0] * len(timelines)
    all_up = any_up = none_up = ZERO
    for lo, hi in pairwise(cuts):
        ups = 0
        for i, tl in enumerate(timelines):
            p = pointers[i]
            while p < len(tl) and tl[p].end <= lo:
                p += 1
            pointers[i] = p
            if p < len(tl) and tl[p].start <= lo and tl[p].bucket == UP:
                ups += 1
        length = hi - lo
        if ups == len(timelines):
            all_up += length
        if ups:
            any_up += length
        else:
            none_up += length
    return all_up, any_up, none_up


def transitions_down(timeline: Sequence[Segment]) -> list[datetime]:
    """Instants where the timeline leaves UP for a downtime bucket (a member failing)."""
    return [b.start for a, b in pairwise(timeline)
            if a.bucket == UP and b.bucket in (DOWN_OWN, DOWN_PARENT) and a.end == b.start]

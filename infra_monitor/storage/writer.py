"""Batch writes per sweep: raw rows, latest state per check and the rollup levels, with SQLAlchemy Core.

A :class:`ResultRecord` is one check's result: ``check_key`` (default: its kind, the one check per kind a
device had before 0007), the hot fields, and ``measurements`` (everything the kind measured, stored as JSON).

One sweep costs a constant number of statements whatever its size: one multi-row INSERT per raw table and
one executemany upsert per rollup table and resolution.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from infra_monitor.storage.check_intervals import DEFAULT_GAP, record_check_states
from infra_monitor.storage.models import (
    CHECK_KEY_MAX,
    RESOLUTIONS,
    CounterState,
    InterfaceRollup,
    InterfaceSampleRow,
    LatestResult,
    ProbeResultRow,
    Rollup,
)


@dataclass(slots=True)
class ResultRecord:
    ts: datetime
    device_id: int
    kind: str
    success: bool
    rtt_min_ms: float | None = None
    rtt_avg_ms: float | None = None
    rtt_max_ms: float | None = None
    loss_pct: float | None = None
    error: str | None = None
    sys_uptime_s: float | None = None
    check_key: str = ""
    service_id: int | None = None
    availability: bool = True
    measurements: dict[str, float] | None = None
    info: dict[str, str] | None = None

    @property
    def check(self) -> str:
        return (self.check_key or self.kind)[:CHECK_KEY_MAX]


@dataclass(slots=True)
class InterfaceRecord:
    ts: datetime
    interface_id: int
    oper_status: int | None = None
    in_bps: float | None = None
    out_bps: float | None = None
    in_util_pct: float | None = None
    out_util_pct: float | None = None
    in_errors: int | None = None
    out_errors: int | None = None


@dataclass(slots=True)
class CounterRecord:
    interface_id: int
    ts: datetime
    sys_uptime_s: float | None
    in_octets: int | None
    out_octets: int | None
    in_errors: int | None
    out_errors: int | None
    counter_bits: int = 64


def bucket_start(ts: datetime, resolution: int, day_offset_s: int = 0) -> datetime:
    """Start of the ``resolution``-second bucket holding ``ts``, in UTC.

    Buckets shorter than a day are aligned to the Unix epoch; daily (and longer) buckets to local
    midnight, ``day_offset_s`` being the local time zone's offset from UTC (+25200 for GMT+7).
    """
    epoch = int(ts.timestamp())
    shift = day_offset_s if resolution >= 86400 else 0
    return datetime.fromtimestamp(epoch - (epoch + shift) % resolution, tz=UTC)


def _insert(conn: Connection, table: Any) -> Any:
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


def _least(conn: Connection, a: Any, b: Any) -> Any:
    if conn.dialect.name == "postgresql":
        return func.least(a, b)  # ignores NULLs
    return func.min(func.coalesce(a, b), func.coalesce(b, a))


def _greatest(conn: Connection, a: Any, b: Any) -> Any:
    if conn.dialect.name == "postgresql":
        return func.greatest(a, b)
    return func.max(func.coalesce(a, b), func.coalesce(b, a))


def _trim(err: str | None) -> str | None:
    return err[:200] if err else err


def write_results(conn: Connection, records: Sequence[ResultRecord], poller_group: str = "default",
                  day_offset_s: int = 0, max_gap: timedelta = DEFAULT_GAP, vantage: str | None = None) -> None:
    """Raw rows, latest_result upserts (one per check), rollups and the checks' state intervals
    (:mod:`infra_monitor.storage.check_intervals`; ``max_gap``: the staleness window) for one sweep's results;
    ``vantage``: where they were probed from (``probe_result.vantage``)."""
    if not records:
        return
    conn.execute(insert(ProbeResultRow.__table__), [  # type: ignore[attr-defined]
        {"ts": r.ts, "device_id": r.device_id, "check_key": r.check, "kind": r.kind, "service_id": r.service_id,
         "success": r.success, "rtt_min_ms": r.rtt_min_ms, "rtt_avg_ms": r.rtt_avg_ms, "rtt_max_ms": r.rtt_max_ms,
         "loss_pct": r.loss_pct, "error": _trim(r.error), "measurements": r.measurements or None,
         "poller_group": poller_group, "vantage": vantage}
        for r in records
    ])
    latest_t = LatestResult.__table__  # type: ignore[attr-defined]
    stmt = _insert(conn, latest_t)
    cols = ("kind", "service_id", "availability", "ts", "success", "rtt_avg_ms", "loss_pct", "error", "sys_uptime_s",
            "measurements", "info")
    stmt = stmt.on_conflict_do_update(index_elements=["device_id", "check_key"],
                                      set_={c: stmt.excluded[c] for c in cols})
    latest: dict[tuple[int, str], ResultRecord] = {}
    for r in records:
        prev = latest.get((r.device_id, r.check))
        if prev is None or r.ts >= prev.ts:
            latest[(r.device_id, r.check)] = r
    conn.execute(stmt, [
        {"device_id": r.device_id, "check_key": r.check, "kind": r.kind, "service_id": r.service_id,
         "availability": r.availability, "ts": r.ts, "success": r.success, "rtt_avg_ms": r.rtt_avg_ms,
         "loss_pct": r.loss_pct, "error": _trim(r.error), "sys_uptime_s": r.sys_uptime_s,
         "measurements": r.measurements or None, "info": r.info or None}
        for r in latest.values()
    ])
    for resolution in RESOLUTIONS:
        _upsert_rollups(conn, resolution, _aggregate_results(records, resolution, day_offset_s))
    record_check_states(conn, records, max_gap)


def _aggregate_results(records: Iterable[ResultRecord], resolution: int, day_offset_s: int) -> list[dict[str, Any]]:
    acc: dict[tuple[int, str, datetime], dict[str, Any]] = {}
    for r in records:
        key = (r.device_id, r.check, bucket_start(r.ts, resolution, day_offset_s))
        a = acc.get(key)
        if a is None:
            a = acc[key] = {"resolution": resolution, "device_id": r.device_id, "check_key": r.check,
                            "kind": r.kind, "bucket": key[2], "count": 0, "successes": 0, "rtt_min_ms": None,
                            "rtt_max_ms": None, "rtt_sum_ms": 0.0, "rtt_n": 0, "loss_sum_pct": 0.0, "loss_n": 0}
        a["count"] += 1
        a["successes"] += int(r.success)
        if r.rtt_avg_ms is not None:
            lo = r.rtt_min_ms if r.rtt_min_ms is not None else r.rtt_avg_ms
            hi = r.rtt_max_ms if r.rtt_max_ms is not None else r.rtt_avg_ms
            a["rtt_min_ms"] = lo if a["rtt_min_ms"] is None else min(a["rtt_min_ms"], lo)
            a["rtt_max_ms"] = hi if a["rtt_max_ms"] is None else max(a["rtt_max_ms"], hi)
            a["rtt_sum_ms"] += r.rtt_avg_ms
            a["rtt_n"] += 1
        if r.loss_pct is not None:
            a["loss_sum_pct"] += r.loss_pct
            a["loss_n"] += 1
    return list(acc.values())


def _upsert_rollups(conn: Connection, resolution: int, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    t = Rollup.__table__  # type: ignore[attr-defined]
    stmt = _insert(conn, t)
    ex = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=["resolution", "device_id", "check_key", "bucket"],
        set_={
            "count": t.c.count + ex.count,
            "successes": t.c.successes + ex.successes,
            "rtt_min_ms": _least(conn, t.c.rtt_min_ms, ex.rtt_min_ms),
            "rtt_max_ms": _greatest(conn, t.c.rtt_max_ms, ex.rtt_max_ms),
            "rtt_sum_ms": t.c.rtt_sum_ms + ex.rtt_sum_ms,
            "rtt_n": t.c.rtt_n + ex.rtt_n,
            "loss_sum_pct": t.c.loss_sum_pct + ex.loss_sum_pct,
            "loss_n": t.c.loss_n + ex.loss_n,
        },
    )
    conn.execute(stmt, rows)


def write_interface_samples(conn: Connection, records: Sequence[InterfaceRecord], day_offset_s: int = 0) -> None:
    """Raw interface samples and their rollups."""
    if not records:
        return
    conn.execute(insert(InterfaceSampleRow.__table__), [  # type: ignore[attr-defined]
        {"ts": r.ts, "interface_id": r.interface_id, "oper_status": r.oper_status, "in_bps": r.in_bps,
         "out_bps": r.out_bps, "in_util_pct": r.in_util_pct, "out_util_pct": r.out_util_pct,
         "in_errors": r.in_errors, "out_errors": r.out_errors}
        for r in records
    ])
    t = InterfaceRollup.__table__  # type: ignore[attr-defined]
    for resolution in RESOLUTIONS:
        acc: dict[tuple[int, datetime], dict[str, Any]] = {}
        for r in records:
            if r.in_bps is None and r.out_bps is None:
                continue
            key = (r.interface_id, bucket_start(r.ts, resolution, day_offset_s))
            a = acc.get(key)
            if a is None:
                a = acc[key] = {"resolution": resolution, "interface_id": r.interface_id, "bucket": key[1], "n": 0,
                                "in_bps_sum": 0.0, "in_bps_max": None, "out_bps_sum": 0.0, "out_bps_max": None,
                                "util_max_pct": None, "errors": 0}
            a["n"] += 1
            a["in_bps_sum"] += r.in_bps or 0.0
            a["out_bps_sum"] += r.out_bps or 0.0
            a["in_bps_max"] = max(a["in_bps_max"] or 0.0, r.in_bps or 0.0)
            a["out_bps_max"] = max(a["out_bps_max"] or 0.0, r.out_bps or 0.0)
            utils = [u for u in (r.in_util_pct, r.out_util_pct) if u is not None]
            if utils:
                a["util_max_pct"] = max(a["util_max_pct"] or 0.0, *utils)
            a["errors"] += (r.in_errors or 0) + (r.out_errors or 0)
        if not acc:
            continue
        stmt = _insert(conn, t)
        ex = stmt.excluded
        stmt = stmt.on_conflict_do_update(
            index_elements=["resolution", "interface_id", "bucket"],
            set_={
                "n": t.c.n + ex.n,
                "in_bps_sum": t.c.in_bps_sum + ex.in_bps_sum,
                "out_bps_sum": t.c.out_bps_sum + ex.out_bps_sum,
                "in_bps_max": _greatest(conn, t.c.in_bps_max, ex.in_bps_max),
                "out_bps_max": _greatest(conn, t.c.out_bps_max, ex.out_bps_max),
                "util_max_pct": _greatest(conn, t.c.util_max_pct, ex.util_max_pct),
                "errors": t.c.errors + ex.errors,
            },
        )
        conn.execute(stmt, list(acc.values()))


def write_counter_states(conn: Connection, records: Sequence[CounterRecord]) -> None:
    if not records:
        return
    t = CounterState.__table__  # type: ignore[attr-defined]
    stmt = _insert(conn, t)
    cols = ("ts", "sys_uptime_s", "in_octets", "out_octets", "in_errors", "out_errors", "counter_bits")
    stmt = stmt.on_conflict_do_update(index_elements=["interface_id"], set_={c: stmt.excluded[c] for c in cols})

    def dec(v: int | None) -> Decimal | None:
        return None if v is None else Decimal(v)

    conn.execute(stmt, [
        {"interface_id": r.interface_id, "ts": r.ts, "sys_uptime_s": r.sys_uptime_s, "in_octets": dec(r.in_octets),
         "out_octets": dec(r.out_octets), "in_errors": dec(r.in_errors), "out_errors": dec(r.out_errors),
         "counter_bits": r.counter_bits}
        for r in records
    ])

"""Results → storage → status: what happens after every sweep, in one transaction.

1. Probe results become raw rows, latest-state upserts and rollups (:mod:`infra_monitor.storage.writer`).
2. SNMP interface counters become bit rates and utilisation against the circuit's committed rate
   (:mod:`probes.rates`), with the previous reading kept in ``counter_state`` so restarts lose nothing.
3. Every device of the sweep gets one observation, by the one availability rule (:func:`device_available`):
   UP when any of its *availability checks* (icmp, snmp, and any check marked so: ``latest_result.availability``)
   that is still fresh succeeded (ICMP may be filtered while SNMP answers). *Service checks* (a service's ports,
   URL, DNS name) decide their service's state, never the device's. The status engine turns observations into
   states, intervals, events and queued notifications.
4. The poller heartbeat records the sweep, so a silent poller is told apart from silent devices.

A sweep is written in one write transaction (``BEGIN IMMEDIATE`` on SQLite), all or nothing, with the time it
finished as "now", so a sweep written late (kept by :mod:`infra_monitor.storage.backlog` while the database
was locked or down) is evaluated at its own time. The heartbeat doubles as the sweep's receipt: a sweep
whose (started, finished) is already there is not written again, so a retry after a commit whose answer was
lost never duplicates it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from infra_monitor.config import Settings
from infra_monitor.db import run_write, short_reason, transient_reason, writing
from infra_monitor.status.engine.config import StatusConfig
from infra_monitor.status.store.models import DeviceStatusRow, PollerHeartbeatRow
from infra_monitor.storage.check_intervals import staleness
from infra_monitor.storage.models import CounterState, LatestResult
from infra_monitor.storage.retention import apply_retention
from infra_monitor.storage.writer import (
    CounterRecord,
    InterfaceRecord,
    ResultRecord,
    write_counter_states,
    write_interface_samples,
    write_results,
)
from infra_monitor.targets import TargetIndex
from infra_monitor.vantage import write_vantage
from probes.base import ProbeResult
from probes.rates import RateSample, interface_rate
from probes.registry import KINDS, order

log = logging.getLogger(__name__)


@dataclass
class SweepSummary:
    kind: str
    targets: int
    ok: int
    failed: int
    transitions: int = 0
    duration_s: float = 0.0
    overran: bool = False
    written: bool = True  # False: kept in memory until the database takes it (see storage.backlog)


@dataclass
class PendingSweep:
    """A finished sweep waiting to be written (see :mod:`infra_monitor.storage.backlog`)."""

    kind: str
    results: list[ProbeResult]
    idx: TargetIndex
    started: datetime
    finished: datetime
    overran: bool = False

    @property
    def size(self) -> int:
        return len(self.results)

    def summary(self) -> SweepSummary:
        return SweepSummary(kind=self.kind, targets=len(self.results), ok=sum(r.success for r in self.results),
                            failed=sum(not r.success for r in self.results), overran=self.overran, written=False)


def write_pending(engine: Engine, settings: Settings, sweep: PendingSweep) -> SweepSummary:
    """Write one pending sweep at its own time (one transaction)."""
    return process_sweep(engine, sweep.kind, sweep.results, sweep.idx, settings, sweep.started, sweep.overran,
                         finished=sweep.finished)


def day_offset_s(timezone: str, at: datetime) -> int:
    """The configured time zone's offset from UTC at ``at``: daily rollups start at local midnight."""
    offset = at.astimezone(ZoneInfo(timezone)).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def _result_record(r: ProbeResult, device_id: int) -> ResultRecord:
    """One check's stored result: the kind's "latency" and "loss" measurements go to the hot columns (ICMP's
    min/max too), everything it measured to ``measurements``."""
    m = r.measurements
    kind = KINDS.get(r.kind)
    latency = kind.measurement("latency") if kind is not None else None
    loss = kind.measurement("loss") if kind is not None else None
    rtt_avg = m.get(latency.name) if latency is not None else None
    return ResultRecord(
        ts=r.started_at, device_id=device_id, kind=r.kind, success=r.success,
        rtt_min_ms=m.get("rtt_min_ms"), rtt_avg_ms=rtt_avg, rtt_max_ms=m.get("rtt_max_ms"),
        loss_pct=m.get(loss.name) if loss is not None else None, error=r.error, sys_uptime_s=m.get("sys_uptime_s"),
        check_key=r.target.check_key, service_id=r.target.service_id, availability=r.target.availability,
        measurements=dict(m) or None, info=dict(r.info) or None,
    )


def _interface_records(conn: Connection, results: list[ProbeResult], idx: TargetIndex
                       ) -> tuple[list[InterfaceRecord], list[CounterRecord]]:
    wanted: list[tuple[int, float | None, ProbeResult, Any]] = []
    for r in results:
        if not r.success or not r.interfaces or r.target.device_id is None:
            continue
        uptime = r.measurements.get("sys_uptime_s")
        for s in r.interfaces:
            if_id = idx.interface_ids.get((r.target.device_id, s.name))
            if if_id is not None:
                wanted.append((if_id, uptime, r, s))
    if not wanted:
        return [], []
    t = CounterState.__table__  # type: ignore[attr-defined]
    prev_rows = {row.interface_id: row for row in conn.execute(
        select(t).where(t.c.interface_id.in_([w[0] for w in wanted])))}
    samples: list[InterfaceRecord] = []
    counters: list[CounterRecord] = []
    for if_id, uptime, r, s in wanted:
        cur = RateSample.from_interface(s, r.started_at, uptime)
        rec = InterfaceRecord(ts=r.started_at, interface_id=if_id, oper_status=s.oper_status)
        prev_row = prev_rows.get(if_id)
        if prev_row is not None:
            prev = RateSample(
                at=prev_row.ts, sys_uptime_s=prev_row.sys_uptime_s,
                in_octets=None if prev_row.in_octets is None else int(prev_row.in_octets),
                out_octets=None if prev_row.out_octets is None else int(prev_row.out_octets),
                counter_bits=prev_row.counter_bits,
                in_errors=None if prev_row.in_errors is None else int(prev_row.in_errors),
                out_errors=None if prev_row.out_errors is None else int(prev_row.out_errors),
            )
            rate = interface_rate(prev, cur, speed_kbps=idx.speed_kbps.get(if_id),
                                  commit_rate_kbps=idx.commit_kbps.get(if_id))
            rec.in_bps, rec.out_bps = rate.in_bps, rate.out_bps
            rec.in_util_pct, rec.out_util_pct = rate.in_util_pct, rate.out_util_pct
            if rate.elapsed_s and rate.in_errors_per_s is not None:
                rec.in_errors = round(rate.in_errors_per_s * rate.elapsed_s)
            if rate.elapsed_s and rate.out_errors_per_s is not None:
                rec.out_errors = round(rate.out_errors_per_s * rate.elapsed_s)
            if rate.note:
                log.info("event=rate_skipped interface_id=%s note=%r", if_id, rate.note)
        samples.append(rec)
        counters.append(CounterRecord(
            interface_id=if_id, ts=r.started_at, sys_uptime_s=uptime, in_octets=s.hc_in_octets,
            out_octets=s.hc_out_octets, in_errors=s.in_errors, out_errors=s.out_errors, counter_bits=s.counter_bits))
    return samples, counters


def _upsert_heartbeat(conn: Connection, group: str, kind: str, started: datetime, finished: datetime,
                      targets: int, overran: bool) -> None:
    t = PollerHeartbeatRow.__table__  # type: ignore[attr-defined]
    ins = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(t)
    stmt = ins.values(poller_group=group, kind=kind, last_sweep_started=started, last_sweep_finished=finished,
                      targets=targets, overruns=int(overran))
    stmt = stmt.on_conflict_do_update(
        index_elements=["poller_group", "kind"],
        set_={"last_sweep_started": started, "last_sweep_finished": finished, "targets": targets,
              "overruns": t.c.overruns + int(overran)},
    )
    conn.execute(stmt)


def device_available(successes: list[bool]) -> bool:
    """THE availability rule: a device is reachable when any of its fresh availability checks answered."""
    return any(successes)


def observations_for(conn: Connection, device_ids: set[int], now: datetime, settings: Settings
                     ) -> tuple[dict[int, bool], dict[int, list[str]]]:
    """Per device: its observation by :func:`device_available` over its fresh availability checks; and the kinds
    of those checks (per-kind retries, and which sweep evaluates the device)."""
    oldest_fresh = now - timedelta(seconds=max(
        (cfg.interval_s * settings.status.stale_after_intervals for _k, cfg in settings.probes), default=180.0))
    t = LatestResult.__table__  # type: ignore[attr-defined]
    answers: dict[int, list[bool]] = {}
    kinds: dict[int, list[str]] = {}
    rows = conn.execute(select(t.c.device_id, t.c.kind, t.c.success)
                        .where(t.c.ts >= oldest_fresh, t.c.availability.is_(True)))
    for device_id, kind, success in rows:
        if device_id in device_ids:
            answers.setdefault(device_id, []).append(bool(success))
            if kind not in kinds.setdefault(device_id, []):
                kinds[device_id].append(kind)
    return {d: device_available(a) for d, a in answers.items()}, kinds


def _already_written(conn: Connection, group: str, kind: str, started: datetime, finished: datetime) -> bool:
    t = PollerHeartbeatRow.__table__  # type: ignore[attr-defined]
    row = conn.execute(select(t.c.last_sweep_started, t.c.last_sweep_finished)
                       .where(t.c.poller_group == group, t.c.kind == kind)).first()
    return row is not None and row[0] == started and row[1] == finished


def _silence_unrecorded(conn: Connection, now: datetime, config: StatusConfig) -> bool:
    """Whether a device went unchecked for longer than ``config.stale_after_s`` and is not yet UNKNOWN."""
    t = DeviceStatusRow.__table__  # type: ignore[attr-defined]
    cutoff = now - timedelta(seconds=config.stale_after_s)
    return conn.execute(select(t.c.device_id).where(
        t.c.last_check_at < cutoff, t.c.state.not_in(("unknown", "maintenance"))).limit(1)).first() is not None


def process_sweep(engine: Engine, kind: str, results: list[ProbeResult], idx: TargetIndex, settings: Settings,
                  started: datetime, overran: bool = False, *, finished: datetime | None = None) -> SweepSummary:
    """Store one sweep's results and evaluate the states, in one transaction (retried once, whole, when the
    connection is lost). ``finished`` (default: now) is the sweep's time for the status engine."""
    from infra_monitor.status.store.sweeps import apply_sweep

    now = finished or datetime.now(UTC)
    every = [_result_record(r, r.target.device_id) for r in results if r.target.device_id is not None]
    # A device this group only watches (its also_polled_by) keeps its answers per vantage, never its state.
    records = [r for r in every if r.device_id not in idx.watched_only]
    seen_twice = [r for r in every if r.device_id in idx.multi_vantage]
    available = {r.device_id for r in records if r.availability}
    summary = SweepSummary(kind=kind, targets=len(results), ok=sum(r.success for r in results),
                           failed=sum(not r.success for r in results))
    group = settings.poller.group

    def write(session: Session) -> int:
        conn = session.connection()
        if _already_written(conn, group, kind, started, now):
            log.info("event=sweep_already_written kind=%s started=%s", kind, started.isoformat())
            return 0
        day_offset = day_offset_s(settings.general.timezone, now)
        write_results(conn, records, group, day_offset, max_gap=staleness(settings),
                      vantage=settings.poller.vantage_name)
        write_vantage(conn, seen_twice, group=group, vantage=settings.poller.vantage_name,
                      watched_only=idx.watched_only)
        if kind == "snmp":
            samples, counters = _interface_records(
                conn, [r for r in results if r.target.device_id not in idx.watched_only], idx)
            write_interface_samples(conn, samples, day_offset)
            write_counter_states(conn, counters)
        _upsert_heartbeat(conn, group, kind, started, now, len(results), overran)
        fresh, kinds = observations_for(conn, available, now, settings)
        # A device checked by several kinds is evaluated once per interval, by the sweep of its first kind in
        # the registry's order, with every fresh availability check of every kind: retries and flap history then
        # count checks per interval, not per probe kind. A sweep of service checks only evaluates no device.
        observations: dict[int, bool | None] = {
            d: fresh.get(d, False) for d in available
            if min(kinds.get(d, [kind]), key=order) == kind
        }
        status_config = StatusConfig.from_settings(settings)
        if _silence_unrecorded(conn, now, status_config):
            # Devices unchecked beyond the staleness limit that nothing (housekeeping) has marked: the poller was
            # stopped or crashed. Record the silence as no data first, as housekeeping would have, so that it
            # never counts as the devices' last state (the engine dates it from their last check).
            apply_sweep(session, {}, now, status_config)
        outcome = apply_sweep(session, observations, now, status_config, kinds=kinds)
        return len(outcome.transitions)

    summary.transitions = run_write(engine, write, what=f"sweep:{kind}")
    return summary


_last_retention: dict[str, datetime] = {}
_failing: dict[str, str] = {}  # housekeeping step → reason, while it keeps failing (logged once)
RETENTION_EVERY = timedelta(hours=1)


def _step(name: str, run: Callable[[], object]) -> bool:
    """Run one housekeeping step; a busy or unreachable database is logged once and retried next run."""
    try:
        run()
    except Exception as exc:
        reason = transient_reason(exc)
        if reason is None:
            raise
        if name not in _failing:
            log.warning("event=housekeeping_deferred step=%s reason=%s error=%r (retried every run; logged once)",
                        name, reason, short_reason(exc))
        _failing[name] = reason
        return False
    if _failing.pop(name, None) is not None:
        log.info("event=housekeeping_resumed step=%s", name)
    return True


def housekeeping(engine: Engine, settings: Settings) -> bool:
    """Periodic: devices whose poller went silent become UNKNOWN; retention runs at most hourly (and again at
    the next run when the database was busy). Returns False when a step was deferred."""
    from infra_monitor.status.store.sweeps import apply_sweep

    now = datetime.now(UTC)

    def silent_pollers(session: Session) -> None:
        apply_sweep(session, {}, now, StatusConfig.from_settings(settings))

    ok = _step("status", lambda: run_write(engine, silent_pollers, what="housekeeping"))
    key = str(engine.url)
    last = _last_retention.get(key)
    if last is None or now - last >= RETENTION_EVERY:
        if _step("retention", lambda: apply_retention(writing(engine), settings.retention, now)):
            _last_retention[key] = now
        else:
            ok = False
    return ok

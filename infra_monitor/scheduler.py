"""The poller: APScheduler 3 runs one sweep job per registered, enabled probe kind (not one job per target).

Each job has ``max_instances=1``, coalescing and jitter. A sweep loads its targets from the inventory
(so inventory edits apply at the next sweep), runs them concurrently through :mod:`probes.sweep` with a
bounded limit and per-target deadlines, then hands the results to :mod:`infra_monitor.pipeline`, which
stores them and runs the status engine, in a worker thread so the event loop never waits on the DB.
A sweep that overruns its interval is logged and counted.

Results the database cannot take (locked beyond the busy timeout, PostgreSQL down) are kept in the poller's
backlog (:mod:`infra_monitor.storage.backlog`) and written in order by the next sweep, by a job every
few seconds, or before housekeeping, which waits for them; a sweep whose targets cannot be loaded for the same
reason probes the targets it loaded last. The poller runs inside ``serve`` (in its own
thread and event loop) or alone as ``infra-monitor poller``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from infra_monitor.config import Settings
from infra_monitor.db import short_reason, transient_reason
from infra_monitor.metrics import register_poller
from infra_monitor.pipeline import PendingSweep, SweepSummary, write_pending
from infra_monitor.shards import ShardLeases
from infra_monitor.storage.backlog import Backlog, FlushReport
from infra_monitor.targets import TargetIndex, load_targets
from probes.base import ProbeContext
from probes.plugin import KindSettings
from probes.registry import KINDS
from probes.sweep import run_sweep

log = logging.getLogger(__name__)

MAINTENANCE_JOB_INTERVAL_S = 30
BACKLOG_JOB_INTERVAL_S = 5  # how often results kept while the database was unavailable are retried
READINESS_JOB_INTERVAL_S = 5  # meeting readiness: due lead-time sweeps and operators' check requests
REPORTS_JOB_INTERVAL_S = 3600  # scheduled reports: due ones are produced within the hour (see reports.scheduled)


@dataclass
class PollerStats:
    sweeps: dict[str, int] = field(default_factory=dict)
    overruns: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    last: dict[str, SweepSummary] = field(default_factory=dict)


class Poller:
    """Runs sweeps for the enabled probe kinds of one poller group inside one event loop."""

    def __init__(self, settings: Settings, engine: Engine, *, kinds: tuple[str, ...] | None = None,
                 site: str | None = None, leased: bool = False) -> None:
        self.settings = settings
        self.engine = engine
        self.site = site
        configured = dict(settings.probes)
        enabled = tuple(k for k in KINDS if k in configured and configured[k].enabled)
        self.kinds = tuple(k for k in (kinds or enabled) if k in KINDS and k in configured)
        self.stats = PollerStats()
        self._ctx: ProbeContext | None = None
        self._scheduler: AsyncIOScheduler | None = None
        self._running: set[asyncio.Task[None]] = set()
        self.backlog: Backlog[PendingSweep] = Backlog(settings.poller.backlog_max_results, lambda p: p.size,
                                                      "probe_results")
        self.last_flush: FlushReport[PendingSweep, SweepSummary] | None = None
        self._last_idx: dict[str, TargetIndex] = {}
        self._stale_targets: set[str] = set()
        self._sweeping: set[str] = set()  # kinds whose scheduled sweep is in flight
        # PostgreSQL, scheduled sweeps (``leased``): the group's devices are shared with its other processes by
        # shard leases; a one-off ``probe --once`` probes them all
        self.leases: ShardLeases | None = (ShardLeases(settings, engine) if leased and site is None
                                           and engine.dialect.name == "postgresql" else None)
        register_poller(self)

    def runtime_figures(self) -> dict[str, Any]:
        """What this process's ``/metrics`` reports about this poller (see :mod:`infra_monitor.metrics`)."""
        return {"poller_group": self.settings.poller.group, "backlog_results": self.backlog.pending_size,
                "sweeps": dict(self.stats.sweeps), "skipped": dict(self.stats.skipped)}

    def _kind_cfg(self, kind: str) -> KindSettings:
        return self.settings.probes.kind(kind)

    def _load(self, kind: str, shards: frozenset[int] | None = None) -> TargetIndex:
        try:
            with Session(self.engine) as session:
                idx = load_targets(session, poller_group=self.settings.poller.group if self.site is None else None,
                                   site_slug=self.site, kinds=(kind,), settings={kind: self._kind_cfg(kind)},
                                   shards=None if shards is None else (self.settings.poller.shards, shards))
        except Exception as exc:
            reason = transient_reason(exc)
            if reason is None or kind not in self._last_idx:
                raise
            if kind not in self._stale_targets:
                self._stale_targets.add(kind)
                log.warning("event=targets_stale kind=%s reason=%s error=%r (probing the targets loaded last)",
                            kind, reason, short_reason(exc))
            return self._last_idx[kind]
        self._stale_targets.discard(kind)
        self._last_idx[kind] = idx
        return idx

    def flush(self) -> FlushReport[PendingSweep, SweepSummary]:
        """Write the pending sweeps, oldest first (blocking: call it in a worker thread)."""
        self.last_flush = self.backlog.flush(lambda p: write_pending(self.engine, self.settings, p))
        return self.last_flush

    async def sweep(self, kind: str, on_result: object = None) -> SweepSummary:
        """One sweep of ``kind`` now: load targets, probe, store, evaluate states."""
        assert self._ctx is not None, "use 'async with poller' first"
        cfg = self._kind_cfg(kind)
        shards = None
        if self.leases is not None:  # releases only while no other sweep of this process is in flight
            alone = not (self._sweeping - {kind})
            shards = await asyncio.to_thread(self.leases.refresh, may_release=alone)
        if shards is not None and not shards:  # its peers hold every shard for now: nothing of the group to probe
            log.info("event=sweep_skipped kind=%s reason=no_shards poller=%s", kind, self.leases.poller_id
                     if self.leases else "")
            return SweepSummary(kind=kind, targets=0, ok=0, failed=0, written=False)
        idx = await asyncio.to_thread(self._load, kind, shards)
        targets = idx.targets.get(kind, [])
        started = datetime.now(UTC)
        t0 = time.monotonic()
        report = await run_sweep(kind, targets, cfg, self._ctx, on_result=on_result)  # type: ignore[arg-type]
        pending = PendingSweep(kind, report.results, idx, started, datetime.now(UTC),
                               overran=time.monotonic() - t0 > cfg.interval_s)
        self.backlog.add(pending)  # behind any sweep still waiting: the status engine sees them in order
        flushed = await asyncio.to_thread(self.flush)
        failure = flushed.failure_of(pending)
        if failure is not None:
            raise RuntimeError(f"the results of the {kind} sweep could not be stored: {failure}")
        summary = flushed.result_of(pending) or pending.summary()
        duration = time.monotonic() - t0
        summary.duration_s = duration
        self.stats.sweeps[kind] = self.stats.sweeps.get(kind, 0) + 1
        self.stats.last[kind] = summary
        if duration > cfg.interval_s:
            self.stats.overruns[kind] = self.stats.overruns.get(kind, 0) + 1
            summary.overran = True
            log.warning("event=sweep_overrun kind=%s duration_s=%.2f interval_s=%s targets=%d",
                        kind, duration, cfg.interval_s, len(targets))
        log.info("event=sweep_done kind=%s targets=%d ok=%d failed=%d duration_s=%.2f written=%s",
                 kind, summary.targets, summary.ok, summary.failed, duration,
                 "yes" if summary.written else f"deferred ({flushed.reason})")
        return summary

    async def __aenter__(self) -> Poller:
        self._ctx = ProbeContext()
        await self._ctx.__aenter__()
        if self.leases is not None:
            await asyncio.to_thread(self.leases.open)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        # Sweeps still in flight are cancelled and awaited: a stop never leaves orphaned tasks behind.
        # (A results transaction already handed to its thread still commits or rolls back as a whole.)
        running = [t for t in self._running if not t.done()]
        for task in running:
            task.cancel()
        if running:
            await asyncio.gather(*running, return_exceptions=True)
            log.info("event=sweeps_cancelled reason=shutdown count=%d", len(running))
        if self._scheduler is not None and self.backlog:  # one last try for what the database has not taken
            await self._flush_backlog()
            if self.backlog:
                log.error("event=backlog_lost reason=shutdown results=%d sweeps=%d", self.backlog.pending_size,
                          self.backlog.pending_items)
        if self.leases is not None:
            await asyncio.to_thread(self.leases.close)
        if self._ctx is not None:
            await self._ctx.__aexit__(None, None, None)
            self._ctx = None

    def _on_event(self, event: JobExecutionEvent) -> None:
        kind = event.job_id.removeprefix("sweep:")
        if event.code in (EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED) and event.job_id.startswith("sweep:"):
            self.stats.skipped[kind] = self.stats.skipped.get(kind, 0) + 1
            log.warning("event=sweep_skipped kind=%s reason=%s", kind,
                        "still_running" if event.code == EVENT_JOB_MAX_INSTANCES else "missed")
        elif event.code == EVENT_JOB_ERROR:
            log.error("event=sweep_failed kind=%s error=%r", kind, event.exception)

    async def _guarded_sweep(self, kind: str) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        self._sweeping.add(kind)
        try:
            await self.sweep(kind)
        except asyncio.CancelledError:
            log.info("event=sweep_cancelled kind=%s reason=shutdown", kind)
        except Exception:
            log.exception("event=sweep_failed kind=%s", kind)
        finally:
            self._sweeping.discard(kind)
            if task is not None:
                self._running.discard(task)

    async def _guarded_job(self, name: str) -> None:
        """Run a housekeeping job (``housekeeping``, ``backlog``, ``reports``) the way sweeps run: tracked, so a
        stop awaits it, and a cancellation at shutdown is a stop, not an error with a traceback."""
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        job = {"housekeeping": self._housekeeping, "backlog": self._flush_backlog,
               "reports": self._scheduled_reports, "readiness": self._readiness, "heartbeat": self._beat}[name]
        try:
            await job()
        except asyncio.CancelledError:
            log.info("event=job_cancelled job=%s reason=shutdown", name)
        except Exception:
            log.exception("event=job_failed job=%s", name)
        finally:
            if task is not None:
                self._running.discard(task)

    async def _beat(self) -> None:
        if self.leases is not None:
            await asyncio.to_thread(self.leases.beat)

    async def _flush_backlog(self) -> FlushReport[PendingSweep, SweepSummary] | None:
        if not self.backlog:
            return None
        try:
            return await asyncio.to_thread(self.flush)
        except Exception:
            log.exception("event=backlog_flush_failed")
            return None

    async def _housekeeping(self) -> None:
        from infra_monitor.pipeline import housekeeping

        # Results still waiting go first, so the status engine sees them before the silent-poller check; while
        # the database refuses them, housekeeping waits for its next run (the backlog logged the outage).
        flushed = await self._flush_backlog()
        if self.backlog or (flushed is not None and flushed.reason is not None):
            return
        try:
            await asyncio.to_thread(housekeeping, self.engine, self.settings)
        except Exception:
            log.exception("event=housekeeping_failed")

    async def _readiness(self) -> None:
        from infra_monitor.meetings.schedule import run_due

        assert self._ctx is not None
        await run_due(self.engine, self.settings, self._ctx)

    async def _scheduled_reports(self) -> None:
        from infra_monitor.reports.scheduled import run_due

        try:
            await asyncio.to_thread(run_due, self.engine, self.settings)
        except Exception:
            log.exception("event=scheduled_reports_failed")

    def start_schedule(self) -> AsyncIOScheduler:
        """Schedule one job per enabled kind; the first sweep starts at once."""
        sched = AsyncIOScheduler(timezone=UTC)
        now = datetime.now(UTC)
        for kind in self.kinds:
            cfg = self._kind_cfg(kind)
            sched.add_job(self._guarded_sweep, "interval", args=[kind], id=f"sweep:{kind}",
                          seconds=cfg.interval_s, jitter=cfg.jitter_s or None, max_instances=1, coalesce=True,
                          misfire_grace_time=max(1, int(cfg.interval_s)), next_run_time=now)
        sched.add_job(self._guarded_job, "interval", args=["housekeeping"], id="housekeeping",
                      seconds=MAINTENANCE_JOB_INTERVAL_S, max_instances=1, coalesce=True, next_run_time=now)
        sched.add_job(self._guarded_job, "interval", args=["backlog"], id="backlog", seconds=BACKLOG_JOB_INTERVAL_S,
                      max_instances=1, coalesce=True)
        if self.leases is not None:
            sched.add_job(self._guarded_job, "interval", args=["heartbeat"], id="heartbeat",
                          seconds=self.settings.poller.heartbeat_s, max_instances=1, coalesce=True)
        if self.settings.reports.schedules:
            sched.add_job(self._guarded_job, "interval", args=["reports"], id="reports", seconds=REPORTS_JOB_INTERVAL_S,
                          max_instances=1, coalesce=True, next_run_time=now + timedelta(seconds=30))
        sched.add_job(self._guarded_job, "interval", args=["readiness"], id="readiness",
                      seconds=READINESS_JOB_INTERVAL_S, max_instances=1, coalesce=True, next_run_time=now)
        sched.add_listener(self._on_event, EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED | EVENT_JOB_ERROR)
        sched.start()
        self._scheduler = sched
        log.info("event=poller_started group=%s kinds=%s", self.settings.poller.group, ",".join(self.kinds))
        return sched


async def run_poller(settings: Settings, engine: Engine, stop: asyncio.Event) -> None:
    """Run the scheduled sweeps until ``stop`` is set."""
    async with Poller(settings, engine, leased=True) as poller:
        poller.start_schedule()
        await stop.wait()
    log.info("event=poller_stopped")


class PollerThread(threading.Thread):
    """The poller in its own thread and event loop (used by ``serve`` beside the web server)."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        super().__init__(name="poller", daemon=True)
        self.settings = settings
        self.engine = engine
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._ready = threading.Event()

    def run(self) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        self._stop_event = asyncio.Event()
        self._ready.set()
        try:
            self._loop.run_until_complete(run_poller(self.settings, self.engine, self._stop_event))
        finally:
            self._loop.close()

    def stop(self, timeout: float = 10.0) -> None:
        self._ready.wait(timeout)
        if self._loop is not None and self._stop_event is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop_event.set)
        self.join(timeout)

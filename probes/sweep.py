"""One sweep: probe every target of one kind with bounded concurrency and per-target deadlines.

``min(concurrency, len(targets))`` workers take targets in order; each probe gets its own absolute
deadline when it starts (the kind's ``budget_s``), so a dead or slow target holds one worker for at
most its budget and never delays the others. Results come back in target order, and also one by
one through ``on_result`` (a plain or async callable) as they complete.
"""

from __future__ import annotations

import asyncio
import collections
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from probes.base import ProbeContext, ProbeResult, Target
from probes.plugin import KindSettings
from probes.registry import get_kind

log = logging.getLogger(__name__)

# A prober that ignores its deadline is cut off this much later: generous, because a busy loop
# fires every timer late and the prober's own deadline must win over this guard.
OVERRUN_GRACE_MIN_S = 2.0

ResultCallback = Callable[[ProbeResult], Awaitable[None] | None]


@dataclass
class SweepReport:
    """One sweep's results (in target order) and timing; ``cpu_s`` is this process's CPU meanwhile."""

    kind: str
    results: list[ProbeResult]
    started_at: datetime
    finished_at: datetime
    duration_s: float
    overran: bool
    cpu_s: float = field(default=0.0)

    @property
    def up(self) -> int:
        return sum(1 for r in self.results if r.success)

    @property
    def down(self) -> int:
        return len(self.results) - self.up


def target_budget_s(kind: str, settings: KindSettings, n_targets: int) -> float:
    """Time one probe of ``kind`` may take, from its start: the deadline is ``time.monotonic()`` + this."""
    return get_kind(kind).budget_s(settings, n_targets)


async def run_sweep(
    kind: str,
    targets: Sequence[Target],
    settings: KindSettings,
    ctx: ProbeContext,
    *,
    on_result: ResultCallback | None = None,
) -> SweepReport:
    """Probe ``targets`` with the ``kind`` prober; raises only for an unknown kind or duplicate keys."""
    plugin = get_kind(kind)
    prober = plugin.probe
    counts = collections.Counter(t.key for t in targets)
    if len(counts) != len(targets):
        dupes = sorted(k for k, n in counts.items() if n > 1)
        raise ValueError(f"target keys must be unique in a sweep; duplicated: {', '.join(dupes[:10])}")
    plugin.prepare(ctx, targets, settings)
    started_at = datetime.now(UTC)
    t0 = time.monotonic()
    cpu0 = time.process_time()
    budget = plugin.budget_s(settings, len(targets))
    log.info("event=sweep_start kind=%s targets=%d budget_s=%.3f", kind, len(targets), budget)
    results: list[ProbeResult | None] = [None] * len(targets)
    queue = iter(enumerate(targets))

    async def worker() -> None:
        for index, target in queue:
            result = await _probe_one(prober, kind, target, settings, time.monotonic() + budget, ctx)
            results[index] = result
            if on_result is not None:
                try:
                    pending = on_result(result)
                    if inspect.isawaitable(pending):
                        await pending
                except Exception:
                    log.exception("event=sweep_callback_failed kind=%s target=%s", kind, target.key)

    await asyncio.gather(*(worker() for _ in range(min(settings.concurrency, len(targets)))))
    duration = time.monotonic() - t0
    done = [r for r in results if r is not None]
    report = SweepReport(
        kind=kind,
        results=done,
        started_at=started_at,
        finished_at=datetime.now(UTC),
        duration_s=duration,
        overran=duration > settings.interval_s,
        cpu_s=time.process_time() - cpu0,
    )
    log.info("event=sweep_done kind=%s targets=%d up=%d down=%d duration_s=%.3f cpu_s=%.3f overran=%s",
             kind, len(done), report.up, report.down, duration, report.cpu_s, report.overran)
    return report


async def _probe_one(prober: Callable[..., Awaitable[ProbeResult]], kind: str, target: Target,
                     settings: KindSettings, deadline: float, ctx: ProbeContext) -> ProbeResult:
    """Run one prober; contract breaches (raising, overrunning) become a failed result."""
    started_at = datetime.now(UTC)
    t0 = time.monotonic()
    try:
        async with asyncio.timeout_at(deadline + max(OVERRUN_GRACE_MIN_S, deadline - t0)):
            return await prober(target, settings, deadline, ctx)
    except TimeoutError:
        error = "prober overran its deadline"
    except Exception as exc:
        log.exception("event=prober_raised kind=%s target=%s", kind, target.key)
        error = f"prober raised: {exc!r}"
    return ProbeResult(kind=kind, target=target, success=False, started_at=started_at,
                       duration_s=time.monotonic() - t0, error=error)


def sweep_once(kind: str, targets: Sequence[Target], settings: KindSettings | None = None) -> SweepReport:
    """Run one sweep in a fresh event loop and ProbeContext (for the CLI and scripts)."""

    chosen = settings if settings is not None else get_kind(kind).settings()

    async def main() -> SweepReport:
        async with ProbeContext() as ctx:
            return await run_sweep(kind, targets, chosen, ctx)

    return asyncio.run(main())

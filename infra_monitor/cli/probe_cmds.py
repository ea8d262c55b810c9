"""Probe commands: ``probe --once`` (one sweep now, stored like a scheduled one) and ``poller``.

When the database cannot take the results (locked by another process beyond the busy timeout, PostgreSQL
down), ``probe --once`` keeps them in memory and retries, whole sweeps in order, for ``poller.write_deadline_s``;
only then does it exit 1, saying how many results were not written.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from dataclasses import dataclass
from typing import Annotated, Any

import typer

from infra_monitor.cli.common import EXIT_RUNNING, ConfigOpt, engine_for, fail, is_terminal, load, running_message, t


def _result_json(r: Any) -> dict[str, Any]:
    return {
        "kind": r.kind,
        "check": r.target.check_key,
        "service_id": r.target.service_id,
        "availability": r.target.availability,
        "device": r.target.device,
        "device_id": r.target.device_id,
        "site": r.target.site,
        "address": r.target.address,
        "success": r.success,
        "measurements": r.measurements,
        "info": r.info,
        "interfaces": [
            {k: getattr(i, k) for k in ("name", "if_index", "oper_status", "admin_status", "hc_in_octets",
                                         "hc_out_octets", "in_errors", "out_errors")}
            for i in r.interfaces
        ],
        "error": r.error,
        "started_at": r.started_at.isoformat(),
        "duration_s": round(r.duration_s, 4),
    }


def _kind_help() -> str:
    from probes.registry import names

    return f"probe kind, one of {', '.join(names())} (repeatable; default: every enabled kind)"


KIND_HELP = _kind_help()  # the registry's kinds (annotations below are evaluated in this module's globals)


def register(app: typer.Typer) -> None:
    @app.command()
    def probe(
        config: ConfigOpt = None,
        once: Annotated[bool, typer.Option("--once", help="run one sweep now (required)")] = False,
        kind: Annotated[list[str] | None, typer.Option("--kind", help=KIND_HELP)] = None,
        site: Annotated[str | None, typer.Option("--site", help="only the devices of this site (slug)")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="one JSON object per target")] = False,
    ) -> None:
        """Run one sweep now, store the results like a scheduled sweep, and print a summary."""
        if not once:
            fail(t("cli_probe_once"), 2)
        settings = load(config)
        configured = dict(settings.probes)  # every registered kind has its settings (defaults without a section)
        kinds = tuple(kind or [k for k, cfg in configured.items() if cfg.enabled])
        unknown = [k for k in kinds if k not in configured]
        if unknown:
            fail(t("cli_probe_unknown_kind", n=len(unknown), kinds=", ".join(unknown), known=", ".join(configured)),
                 2)
        engine = engine_for(settings)
        from infra_monitor.scheduler import Poller

        results: list[Any] = []

        async def run() -> tuple[list[Any], Unwritten]:
            summaries = []
            async with Poller(settings, engine, kinds=kinds, site=site) as poller:
                for k in kinds:
                    summaries.append(await _sweep_with_progress(poller, k, results))
                unwritten = await _write_pending(poller, settings.poller.write_deadline_s)
            return summaries, unwritten

        try:
            summaries, unwritten = asyncio.run(run())
        except Exception as exc:
            from infra_monitor.db import short_reason

            fail(t("cli_sweep_failed", reason=short_reason(exc)))  # the database's reason, not the statement (secrets)
        finally:
            engine.dispose()
        if as_json:
            for r in results:
                sys.stdout.write(json.dumps(_result_json(r), ensure_ascii=False) + "\n")
        else:
            for s in summaries:
                typer.echo(t("cli_sweep_summary", kind=s.kind, n=s.targets, ok=s.ok, failed=s.failed,
                             seconds=f"{s.duration_s:.2f}"))
                for r in results:
                    if r.kind == s.kind and not r.success:  # the prober's own (English) sentence
                        typer.echo("  " + t("cli_sweep_fail", target=f"{r.target.site}/{r.target.device}",
                                            address=r.target.address, error=r.error or t("cli_no_answer")))
        if unwritten.results:
            fail(t("cli_unwritten", n=unwritten.results, sweeps=unwritten.sweeps, reason=unwritten.reason,
                   waited=f"{unwritten.waited_s:.0f}", deadline=f"{settings.poller.write_deadline_s:g}",
                   error=unwritten.error))

    @app.command()
    def poller(config: ConfigOpt = None) -> None:
        """Run only the scheduled probes (a separate probe server for this poller group); Ctrl-C stops.

        Exits 75 at once when another poller or serve already runs the probes of this SQLite database and group;
        on PostgreSQL several pollers of a group share its devices (shard leases).
        """
        settings = load(config)
        engine = engine_for(settings)
        from infra_monitor.scheduler import run_poller
        from infra_monitor.server import PollerRunning, StartError, poller_lock

        async def main() -> None:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await run_poller(settings, engine, stop)

        try:
            with poller_lock(settings, "poller"):
                asyncio.run(main())
        except PollerRunning as exc:
            fail(running_message(exc), EXIT_RUNNING)
        except StartError as exc:
            fail(str(exc))
        finally:
            engine.dispose()


@dataclass
class Unwritten:
    results: int = 0
    sweeps: int = 0
    reason: str = ""
    error: str = ""
    waited_s: float = 0.0


async def _write_pending(poller: Any, deadline_s: float) -> Unwritten:
    """Retry the sweeps the database refused until they are written or ``deadline_s`` has passed."""
    if not poller.backlog:
        return Unwritten()
    t0 = time.monotonic()
    report = poller.last_flush
    why = report.reason if report is not None and report.reason else "unavailable"
    typer.echo(t("cli_backlog", why=why, n=poller.backlog.pending_size, deadline=f"{deadline_s:g}"), err=True)
    delay = 0.25
    while poller.backlog and time.monotonic() - t0 < deadline_s:
        await asyncio.sleep(min(delay, max(0.0, deadline_s - (time.monotonic() - t0))))
        delay = min(delay * 2, 5.0)
        report = await asyncio.to_thread(poller.flush)
    waited = time.monotonic() - t0
    if not poller.backlog:
        typer.echo(t("cli_backlog_written", seconds=f"{waited:.1f}"), err=True)
        return Unwritten()
    return Unwritten(results=poller.backlog.pending_size, sweeps=poller.backlog.pending_items,
                     reason=report.reason if report and report.reason else "unavailable",
                     error=report.error if report else "", waited_s=waited)


async def _sweep_with_progress(poller: Any, kind: str, results: list[Any]) -> Any:
    if not is_terminal():
        def collect(r: Any) -> None:
            results.append(r)

        return await poller.sweep(kind, on_result=collect)
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task(t("cli_sweep_progress", kind=kind), total=None)

        def step(r: Any) -> None:
            results.append(r)
            bar.advance(task)

        return await poller.sweep(kind, on_result=step)

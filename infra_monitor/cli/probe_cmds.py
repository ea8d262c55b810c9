"""Probe commands: ``probe --once`` (one sweep now, stored like a scheduled one) and ``poller``."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from typing import Annotated, Any

import typer

from infra_monitor.cli.common import ConfigOpt, engine_for, fail, is_terminal, load


def _result_json(r: Any) -> dict[str, Any]:
    return {
        "kind": r.kind,
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


def register(app: typer.Typer) -> None:
    @app.command()
    def probe(
        config: ConfigOpt = None,
        once: Annotated[bool, typer.Option("--once", help="run one sweep now (required)")] = False,
        kind: Annotated[list[str] | None, typer.Option("--kind", help="icmp, snmp, tcp or http (repeatable)")] = None,
        site: Annotated[str | None, typer.Option("--site", help="only the devices of this site (slug)")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="one JSON object per target")] = False,
    ) -> None:
        """Run one sweep now, store the results like a scheduled sweep, and print a summary."""
        if not once:
            fail("only one-off sweeps are run from here: pass --once (the schedule runs in 'serve'/'poller')", 2)
        settings = load(config)
        from probes.registry import PROBERS

        kinds = tuple(kind or [k for k in PROBERS if getattr(settings.probes, k).enabled])
        unknown = [k for k in kinds if k not in PROBERS]
        if unknown:
            fail(f"unknown probe kind(s) {', '.join(unknown)}; known: {', '.join(PROBERS)}", 2)
        engine = engine_for(settings)
        from infra_monitor.scheduler import Poller

        results: list[Any] = []

        async def run() -> list[Any]:
            summaries = []
            async with Poller(settings, engine, kinds=kinds, site=site) as poller:
                for k in kinds:
                    summaries.append(await _sweep_with_progress(poller, k, results))
            return summaries

        try:
            summaries = asyncio.run(run())
        except Exception as exc:
            fail(f"sweep failed: {exc}")
        finally:
            engine.dispose()
        if as_json:
            for r in results:
                sys.stdout.write(json.dumps(_result_json(r), ensure_ascii=False) + "\n")
            return
        for s in summaries:
            typer.echo(f"{s.kind}: {s.targets} targets, {s.ok} answered, {s.failed} failed, "
                       f"{s.duration_s:.2f} s")
            for r in results:
                if r.kind == s.kind and not r.success:
                    typer.echo(f"  FAIL {r.target.site}/{r.target.device} {r.target.address}: {r.error or 'no answer'}")

    @app.command()
    def poller(config: ConfigOpt = None) -> None:
        """Run only the scheduled probes (a separate probe server for this poller group); Ctrl-C stops."""
        settings = load(config)
        engine = engine_for(settings)
        from infra_monitor.scheduler import run_poller

        async def main() -> None:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await run_poller(settings, engine, stop)

        try:
            asyncio.run(main())
        finally:
            engine.dispose()


async def _sweep_with_progress(poller: Any, kind: str, results: list[Any]) -> Any:
    if not is_terminal():
        def collect(r: Any) -> None:
            results.append(r)

        return await poller.sweep(kind, on_result=collect)
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task(f"{kind} sweep", total=None)

        def step(r: Any) -> None:
            results.append(r)
            bar.advance(task)

        return await poller.sweep(kind, on_result=step)

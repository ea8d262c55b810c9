"""``infra-monitor status``: every site's and device's state, since when, cause, root cause; coverage per level.

Reads through the same read model as the status page. Times are local (``general.timezone``, shown as
``(GMT+7)``). A rich table on a terminal, aligned plain text otherwise, ``--json`` for scripts.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Annotated, Any

import typer
from sqlalchemy.exc import SQLAlchemyError

from infra_monitor.cli.common import EXIT_USAGE, ConfigOpt, engine_for, fail, load
from infra_monitor.readmodel import ReadModel, SiteFilter
from infra_monitor.readmodel.fmt import local_dt, percent
from infra_monitor.readmodel.schemas import LEVELS, CoverageRow, DeviceState, SiteRow
from infra_monitor.readmodel.sitestate import state_rank

log = logging.getLogger(__name__)

Table = tuple[str, list[str], list[list[str]]]


def _site_rows(sites: list[SiteRow], rm: ReadModel) -> Table:
    rows = [[s.slug, s.name, s.category, s.state.upper(), local_dt(s.since, rm.tz),
             f"{s.devices.up}/{s.devices.total}", "yes" if s.connected else "no", s.district_name or ""]
            for s in sites]
    return "Sites", ["site", "name", "level", "state", "since", "devices up", "connected", "district"], rows


def _device_rows(devices: list[DeviceState], site_slug: dict[int, str], rm: ReadModel) -> Table:
    rows = []
    for d in devices:
        state = d.state.upper() + (f" (pending {d.pending_state.upper()})" if d.pending_state else "")
        state += " FLAPPING" if d.flapping else ""
        root = f"{d.root_cause_name} (#{d.root_cause_device_id})" if d.root_cause_device_id else ""
        rows.append([site_slug.get(d.site_id, str(d.site_id)), d.name, state, local_dt(d.since, rm.tz),
                     d.cause if d.cause not in (None, "none") else "", root,
                     "yes" if d.monitoring_enabled else "no"])
    return "Devices", ["site", "device", "state", "since", "cause", "root cause", "monitored"], rows


def _coverage_rows(coverage: list[CoverageRow]) -> Table:
    def n(v: int | None) -> str:
        return "-" if v is None else str(v)

    rows = [[c.level, n(c.target), str(c.inventoried), n(c.not_inventoried), str(c.connected), str(c.reachable),
             str(c.states.down), str(c.states.unreachable), percent(c.availability_24h, "en"),
             percent(c.availability_30d, "en")] for c in coverage]
    return "Coverage", ["level", "target", "inventoried", "not inventoried", "connected", "reachable", "down",
                        "unreachable", "avail 24h", "avail 30d"], rows


def _print(tables: list[Table], footer: str) -> None:
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table as RichTable

        console = Console()
        for title, headers, rows in tables:
            t = RichTable(title=title, title_justify="left")
            for h in headers:
                t.add_column(h)
            for r in rows:
                t.add_row(*(escape(c) for c in r), style=_style(r, headers))
            console.print(t)
        console.print(footer)
        return
    for title, headers, rows in tables:
        widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
        typer.echo(f"== {title} ==")
        for line in [headers, *rows]:
            typer.echo("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
        typer.echo("")
    typer.echo(footer)


def _style(row: list[str], headers: list[str]) -> str | None:
    if "state" not in headers:
        return None
    state = row[headers.index("state")]
    return "bold red" if state.startswith("DOWN") else "yellow" if state.startswith("UNREACHABLE") else None


def register(app: typer.Typer) -> None:
    @app.command()
    def status(
        config: ConfigOpt = None,
        site: Annotated[str | None, typer.Option("--site", help="only this site (slug)")] = None,
        level: Annotated[str | None, typer.Option("--level", help=f"only sites of a level: {', '.join(LEVELS)}")]
        = None,
        as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of tables")] = False,
    ) -> None:
        """Current state of every site and device (since when, cause, root cause) and coverage per level."""
        settings = load(config, log=False)
        if level is not None and level not in LEVELS:
            fail(f"--level must be one of {', '.join(LEVELS)} (got {level!r})", EXIT_USAGE)
        rm = ReadModel(engine_for(settings), settings, cache_ttl_s=0)
        try:
            sites = rm.sites(SiteFilter(level=level, slug=site, sort="state")).results
            if site is not None and not sites:
                fail(f"no site with slug {site!r}")
            devices = sorted(rm.devices({s.id for s in sites}), key=lambda d: (state_rank(d.state), d.name))
            ov = rm.overview()
        except SQLAlchemyError as exc:
            fail(f"cannot read the database ({type(exc).__name__}); run 'infra-monitor init' first? {exc.args[0]}")
        slug_of = {s.id: s.slug for s in sites}
        if as_json:
            payload: dict[str, Any] = {
                "generated_at": ov.generated_at.isoformat(), "timezone": settings.general.timezone,
                "sites": [s.model_dump(mode="json") for s in sites],
                "devices": [d.model_dump(mode="json") for d in devices],
                "coverage": [c.model_dump(mode="json") for c in ov.coverage],
                "freshness": ov.freshness.model_dump(mode="json")}
            typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
            return
        fr = ov.freshness
        footer = (f"data from the sweep at {local_dt(fr.last_sweep_at, rm.tz) or 'never'}"
                  + (" - STALE" if fr.stale else ""))
        _print([_site_rows(sites, rm), _device_rows(devices, slug_of, rm), _coverage_rows(ov.coverage)], footer)

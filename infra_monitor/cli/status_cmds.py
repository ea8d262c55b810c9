"""``infra-monitor status``: a summary first, then every site and device that is not UP.

The summary: sites and devices per state, coverage per level, open problems, the systems hosted in the data
center (monitored, up, down, unknown, availability over 24 hours with the time it stands on, the ones down) and
the last sweep. Then the sites
and devices that are not UP (down, unreachable, unknown, maintenance, or UP with a pending change), with since
when, cause and root cause; ``--all`` lists the UP ones too. ``--site``, ``--level`` and ``--district`` narrow
everything, the summary and the coverage included (a narrowed coverage has no plan targets: those are the
province's). Reads through the same read model as the status page. Times are local (``general.timezone``,
shown as ``(GMT+7)``). A rich table on a terminal, TSV otherwise, ``--format json`` (``--json``) for scripts;
the three show the same rows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from infra_monitor.cli.common import (
    EXIT_USAGE,
    ConfigOpt,
    Format,
    FormatOpt,
    Table,
    Translate,
    emit,
    engine_for,
    english,
    fail,
    language,
    load,
    output_format,
    t,
    yes_no,
)
from infra_monitor.readmodel.fmt import duration, local_dt, percent
from infra_monitor.readmodel.schemas import (
    COVERAGE_LEVELS,
    LEVELS,
    CoverageRow,
    DeviceState,
    Freshness,
    HostedSummary,
    SiteRow,
    StateCounts,
)
from infra_monitor.readmodel.sitestate import state_rank

if TYPE_CHECKING:  # the queries load when the command runs, not for every command's start
    from infra_monitor.readmodel import ReadModel, SiteFilter

log = logging.getLogger(__name__)

STATES = ("up", "down", "unreachable", "unknown", "maintenance")


def _state_style(row: list[str], headers: list[str]) -> str | None:
    state = row[headers.index("state")]
    return "bold red" if state.startswith("DOWN") else "yellow" if state.startswith("UNREACHABLE") else None


def _summary(sites: StateCounts, devices: StateCounts) -> Table:
    counts = (("sites", t("cli_sites"), sites), ("devices", t("cli_devices"), devices))
    rows = [[what, *(str(getattr(c, s)) for s in STATES), str(c.total)] for what, _, c in counts]
    shown = [[label, *row[1:]] for (_, label, _c), row in zip(counts, rows, strict=True)]
    return Table(["", *STATES, "total"], rows, title="Summary",
                 labels=["", *(t(f"state_{s}") for s in STATES), t("cli_total")], shown=shown,
                 caption=t("cli_title_summary"))


def _site_rows(sites: list[SiteRow], rm: ReadModel) -> Table:
    headers = ["site", "name", "level", "state", "since", "devices up", "connected", "district"]
    rows, shown = [], []
    for s in sites:
        since, up = local_dt(s.since, rm.tz), f"{s.devices.up}/{s.devices.total}"
        rows.append([s.slug, s.name, s.category, s.state.upper(), since, up, "yes" if s.connected else "no",
                     s.district_name or ""])
        shown.append([s.slug, s.name, t(f"cat_{s.category}"), t(f"state_{s.state}"), since, up, yes_no(s.connected),
                      s.district_name or ""])
    labels = [t("cli_col_site"), t("cli_col_name"), t("cli_col_level"), t("cli_col_state"), t("cli_col_since"),
              t("cli_col_devices_up"), t("cli_col_connected"), t("cli_col_district")]
    return Table(headers, rows, title="Sites", style=lambda r: _state_style(r, headers), labels=labels,
                 shown=shown, caption=t("cli_title_sites"))


def _device_state(d: DeviceState, tr: Translate) -> str:
    if tr is english:  # the machine form: codes in capitals
        state = d.state.upper() + (f" (pending {d.pending_state.upper()})" if d.pending_state else "")
        return state + (" FLAPPING" if d.flapping else "")
    state = t(f"state_{d.state}")
    if d.pending_state:
        state += " " + t("cli_pending", state=t(f"state_{d.pending_state}"))
    return state + (" " + t("flapping") if d.flapping else "")


def _device_rows(devices: list[DeviceState], site_slug: dict[int, str], rm: ReadModel) -> Table:
    headers = ["site", "device", "state", "since", "cause", "root cause", "monitored"]
    rows, shown = [], []
    for d in devices:
        root = f"{d.root_cause_name} (#{d.root_cause_device_id})" if d.root_cause_device_id else ""
        site, since = site_slug.get(d.site_id, str(d.site_id)), local_dt(d.since, rm.tz)
        has_cause = d.cause not in (None, "none")
        rows.append([site, d.name, _device_state(d, english), since, (d.cause or "") if has_cause else "", root,
                     "yes" if d.monitoring_enabled else "no"])
        shown.append([site, d.name, _device_state(d, t), since, t(f"cause_{d.cause}") if has_cause else "", root,
                      yes_no(d.monitoring_enabled)])
    labels = [t("cli_col_site"), t("cli_col_device"), t("cli_col_state"), t("cli_col_since"), t("cli_col_cause"),
              t("cli_col_root_cause"), t("cli_col_monitored")]
    return Table(headers, rows, title="Devices", style=lambda r: _state_style(r, headers), labels=labels,
                 shown=shown, caption=t("cli_title_devices"))


def _coverage_rows(coverage: list[CoverageRow]) -> Table:
    def n(v: int | None) -> str:
        return "-" if v is None else str(v)

    def cells(c: CoverageRow, level: str, lang: str) -> list[str]:
        return [level, n(c.target), str(c.inventoried), n(c.not_inventoried), str(c.connected), str(c.reachable),
                str(c.states.down), str(c.states.unreachable), percent(c.availability_24h, lang),
                percent(c.availability_30d, lang)]

    rows = [cells(c, c.level, "en") for c in coverage]
    shown = [cells(c, t(f"level_{c.level}"), language()) for c in coverage]
    labels = [t("cli_col_level"), t("cli_col_target"), t("cli_col_inventoried"), t("cli_col_not_inventoried"),
              t("cli_col_connected"), t("cli_col_reachable"), t("state_down"), t("state_unreachable"),
              t("cli_col_avail_24h"), t("cli_col_avail_30d")]
    return Table(["level", "target", "inventoried", "not inventoried", "connected", "reachable", "down",
                  "unreachable", "avail 24h", "avail 30d"], rows, title="Coverage", labels=labels, shown=shown,
                 caption=t("cli_title_coverage"))


def _narrowed_coverage(rm: ReadModel, flt: SiteFilter) -> list[CoverageRow]:
    """Coverage of the filter's sites only: the given level, or the levels that have sites there."""
    from infra_monitor.readmodel.coverage import coverage_of

    levels = (flt.level,) if flt.level else (*COVERAGE_LEVELS, "unit")
    with rm.engine.connect() as conn:
        rows = coverage_of(conn, flt, rm.regions(), rm.now(), {}, levels)
    return [c for c in rows if c.inventoried or c.level == flt.level]


def _device_counts(devices: list[DeviceState]) -> StateCounts:
    counts = StateCounts()
    for d in devices:
        if d.state in STATES:
            setattr(counts, d.state, getattr(counts, d.state) + 1)
    return counts


def open_problems(rm: ReadModel, site_ids: set[int] | None) -> int | None:
    """Open problems (at ``site_ids`` when given), or None while the database has no ``problem`` table."""
    from sqlalchemy import column, func, inspect, select, table

    insp = inspect(rm.engine)
    if not insp.has_table("problem"):
        return None
    names = {c["name"] for c in insp.get_columns("problem")}
    if "resolved_at" not in names:
        return None
    problem = table("problem", column("resolved_at"), column("site_id"))
    stmt = select(func.count()).select_from(problem).where(problem.c.resolved_at.is_(None))
    if site_ids is not None:
        stmt = stmt.where(problem.c.site_id.in_(site_ids))
    with rm.engine.connect() as conn:
        return int(conn.execute(stmt).scalar_one())


def _not_up(state: str, pending: str | None = None) -> bool:
    return state != "up" or bool(pending)


def register(app: typer.Typer) -> None:
    @app.command()
    def status(
        config: ConfigOpt = None,
        site: Annotated[str | None, typer.Option("--site", help="only this site (slug)")] = None,
        level: Annotated[str | None, typer.Option("--level", help=f"only sites of a level: {', '.join(LEVELS)}")]
        = None,
        district: Annotated[str | None, typer.Option("--district", help="only a district's sites (region code)")]
        = None,
        all_: Annotated[bool, typer.Option("--all", help="also list the sites and devices that are UP")] = False,
        fmt: FormatOpt = None,
        as_json: Annotated[bool, typer.Option("--json", help="= --format json")] = False,
    ) -> None:
        """Summary first (states, coverage, open problems), then the sites and devices that are not UP."""
        from sqlalchemy.exc import SQLAlchemyError

        from infra_monitor.readmodel import ReadModel, SiteFilter

        settings = load(config, log=False)
        if level is not None and level not in LEVELS:
            fail(t("cli_bad_level", allowed=", ".join(LEVELS), got=repr(level)), EXIT_USAGE)
        rm = ReadModel(engine_for(settings), settings, cache_ttl_s=0)
        narrowed = site is not None or level is not None or district is not None
        flt = SiteFilter(level=level, slug=site, district=district, sort="state")
        try:
            if district is not None and rm.regions().by_code(district) is None:
                fail(t("cli_no_region", code=repr(district)))
            listed = rm.sites(flt)
            sites = listed.results
            if site is not None and not sites:
                fail(t("cli_no_site", slug=repr(site)))
            devices = sorted(rm.devices({s.id for s in sites}), key=lambda d: (state_rank(d.state), d.name))
            if narrowed:  # the filter's sites only; the province's figures are not computed at all
                summary = Summary(listed.states, _device_counts(devices), _narrowed_coverage(rm, flt),
                                  rm.freshness(), rm.now())
            else:
                ov = rm.overview()
                summary = Summary(ov.sites, ov.devices, ov.coverage, ov.freshness, ov.generated_at, ov.hosted)
            problems = open_problems(rm, {s.id for s in sites} if narrowed else None)
        except SQLAlchemyError as exc:
            fail(t("cli_db_unreadable", error=type(exc).__name__, detail=exc.args[0]))
        shown_sites = sites if all_ else [s for s in sites if _not_up(s.state)]
        shown_devices = devices if all_ else [d for d in devices if _not_up(d.state, d.pending_state)]
        _output(output_format(fmt, as_json), rm, settings.general.timezone, summary, problems, shown_sites,
                shown_devices, {s.id: s.slug for s in sites}, hidden=len(sites) - len(shown_sites))


@dataclass
class Summary:
    sites: StateCounts
    devices: StateCounts
    coverage: list[CoverageRow]
    freshness: Freshness
    generated_at: datetime
    hosted: HostedSummary | None = None   # the province's hosted systems (not computed for a narrowed status)


def _output(fmt: Format, rm: ReadModel, timezone: str, summary: Summary, problems: int | None,
            sites: list[SiteRow], devices: list[DeviceState], slug_of: dict[int, str], hidden: int) -> None:
    fr = summary.freshness
    site_states, device_states, coverage = summary.sites, summary.devices, summary.coverage
    if fmt is Format.json:
        emit([], fmt, data={
            "generated_at": summary.generated_at.isoformat(), "timezone": timezone,
            "summary": {"sites": site_states.model_dump(), "devices": device_states.model_dump(),
                        "open_problems": problems,
                        "hosted_systems": summary.hosted.model_dump(mode="json") if summary.hosted else None},
            "coverage": [c.model_dump(mode="json") for c in coverage],
            "sites": [s.model_dump(mode="json") for s in sites],
            "devices": [d.model_dump(mode="json") for d in devices],
            "freshness": fr.model_dump(mode="json")})
        return
    def facts(tr: Translate) -> list[str]:
        lines = [] if problems is None else [tr("cli_open_problems", n=problems)]
        when = local_dt(fr.last_sweep_at, rm.tz) if fr.last_sweep_at else tr("cli_never")
        lines.append(tr("cli_sweep_at", when=when) + (tr("cli_stale") if fr.stale else ""))
        return [*_hosted_lines(summary.hosted, tr), *lines, ""]

    emit([_summary(site_states, device_states), _coverage_rows(coverage)], fmt, footer=facts)
    emit([_site_rows(sites, rm), _device_rows(devices, slug_of, rm)], fmt,
         footer=lambda tr: [tr("cli_up_not_listed", n=hidden)] if hidden else [])


def _hosted_lines(h: HostedSummary | None, tr: Translate) -> list[str]:
    """The hosted systems in the summary: counts, availability over 24 h with the time it stands on, the ones down."""
    if h is None or not h.inventoried:
        return []
    lang = "en" if tr is english else language()
    lines = [tr("cli_hosted", monitored=h.monitored, inventoried=h.inventoried, up=h.up, down=h.down,
                unknown=h.unknown)]
    partial = h.availability_24h is not None and h.availability_24h_data_s < 86400 * 0.995
    over = tr("cli_hosted_over", span=duration(h.availability_24h_data_s, lang)) if partial else ""
    lines.append(tr("cli_hosted_availability", pct=percent(h.availability_24h, lang), over=over))
    if h.down_services:
        names = ", ".join(d.name for d in h.down_services)
        more = h.down - len(h.down_services)
        lines.append(tr("cli_hosted_down", names=names + (f" (+{more})" if more > 0 else "")))
    return lines

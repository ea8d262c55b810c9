"""``infra-monitor report KIND``: a report for officials from stored data, in json, csv, xlsx or pdf.

``report coverage|availability|datacenter|capacity|videoconference [--from D --to D] [--as-of D]
[--format json|csv|xlsx|pdf] [--output PATH] [--lang vi|en]``: the period is ``[from, to)`` in local dates
(``--to`` exclusive; default the previous full month), the as-of date (administrative structure and plan
targets) defaults to the period's last day. ``--output -`` writes to standard output; without ``--output``
the file gets a name from the kind and the period in the current folder. ``report scheduled`` produces the
due monthly and quarterly reports of ``[[reports.schedules]]`` now (what ``serve`` does every hour). A
progress bar shows on a terminal. Exit codes: 0 done, 1 failed, 2 bad usage or configuration.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from infra_monitor.cli.common import EXIT_USAGE, ConfigOpt, engine_for, fail, is_terminal, load, t

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

MAX_PERIOD_DAYS = 3660


class Kind(StrEnum):
    coverage = "coverage"
    availability = "availability"
    datacenter = "datacenter"
    capacity = "capacity"
    videoconference = "videoconference"


class Fmt(StrEnum):
    json = "json"
    csv = "csv"
    xlsx = "xlsx"
    pdf = "pdf"


class Lang(StrEnum):
    vi = "vi"
    en = "en"


class Tier(StrEnum):
    tcvn = "tcvn9250-2012"
    tia = "tia-942"
    uptime = "uptime"


def _date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(t("cli_rp_not_a_date", option=option, value=repr(value)), EXIT_USAGE)


def _period(from_: str | None, to: str | None, today: date) -> tuple[date, date]:
    """The period from the options: both given; ``--from`` alone runs to today included; neither: the
    previous full month."""
    from infra_monitor.reports.params import previous_month

    if from_ is None and to is None:
        return previous_month(today)
    if from_ is None:
        fail(t("cli_rp_to_needs_from"), EXIT_USAGE)
    start = _date(from_, "--from")
    return start, _date(to, "--to") if to is not None else today + timedelta(days=1)


def _report(kind: Kind, output: str | None, from_: str | None, to: str | None, as_of: str | None,
            fmt: Fmt | None, lang: Lang | None,
            threshold: float | None, utilisation_threshold: float | None, maintenance_as_down: bool,
            no_data_as_down: bool, tier_reference: Tier | None, config: Path | None) -> None:
    """Compute a report from stored data and write it as json, csv (zip), xlsx or pdf."""
    from infra_monitor.reports.engine import build_report, params_from_config
    from infra_monitor.reports.params import params_for
    from infra_monitor.reports.render import render
    from infra_monitor.reports.scheduled import output_name

    settings = load(config, log=False)
    start, end = _period(from_, to, datetime.now(ZoneInfo(settings.general.timezone)).date())
    day = _date(as_of, "--as-of") if as_of else None
    if end <= start:
        fail(t("cli_rp_to_after_from", end=end, start=start), EXIT_USAGE)
    if (end - start).days > MAX_PERIOD_DAYS:
        fail(t("cli_rp_too_long", days=(end - start).days, most=MAX_PERIOD_DAYS), EXIT_USAGE)
    if fmt is None:
        suffix = Path(output or "").suffix.lower().lstrip(".")
        fmt = Fmt(suffix) if suffix in Fmt.__members__ else (Fmt.csv if suffix == "zip" else Fmt.json)
    language = (lang.value if lang else settings.general.language)
    try:
        params = params_for(kind.value, start, end, day, timezone=settings.general.timezone,
                            **params_from_config(settings.reports, threshold_pct=threshold,
                                                 utilisation_threshold_pct=utilisation_threshold,
                                                 tier_reference=tier_reference.value if tier_reference else None,
                                                 maintenance_as_down=maintenance_as_down or None,
                                                 no_data_as_down=no_data_as_down or None))
    except (ValueError, ValidationError) as exc:
        fail(_validation_message(exc), EXIT_USAGE)
    t0 = time.monotonic()
    try:
        engine = engine_for(settings)
        with _Steps(is_terminal() and output != "-") as steps:
            steps.advance(t("cli_rp_computing"), first=True)
            doc = build_report(engine, params, settings.reports, province_name=settings.general.province_name)
            steps.advance(t("cli_rp_rendering", format=fmt.value))
            data = render(doc, fmt.value, language)
            steps.advance(t("cli_rp_writing"))
            if output is None:
                output = output_name(doc, fmt.value, language)
            _write(output, data)
    except SQLAlchemyError as exc:
        fail(f"database {settings.database.url.split('@')[-1]}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    except OSError as exc:  # reading templates or fonts while rendering
        fail(t("cli_rp_cannot_produce", kind=kind.value, error=exc.strerror or exc)
             + (f" ({exc.filename})" if exc.filename else ""))
    if output != "-":
        typer.echo(t("cli_rp_written", kind=t(f"rk_{kind.value}"), format=fmt.value, lang=language, output=output,
                     n=len(data), seconds=f"{time.monotonic() - t0:.2f}"), err=True)


def _write(output: str, data: bytes) -> None:
    """Write the report to ``output`` ('-': standard output) or exit 1 naming it; a file is written atomically,
    so a full disk leaves no partial file and an existing file as it was."""
    from infra_monitor.reports.render import write_atomic

    try:
        if output == "-":
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        else:
            write_atomic(output, data)
    except OSError as exc:
        if output == "-":
            fail(t("cli_rp_cannot_write_stdout", error=exc.strerror or exc))
        fail(t("cli_cannot_write", file=output, error=exc.strerror or exc))


def _validation_message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        parts = []
        for e in exc.errors():
            where = ".".join(str(x) for x in e.get("loc", ())) or "value"
            parts.append(f"{where.replace('_pct', '').replace('_', '-')}: {e.get('msg')}")
        return "; ".join(parts)
    return str(exc)


class _Steps:
    """A four-step rich progress bar on a terminal; nothing otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> _Steps:
        if self.enabled:
            from rich.progress import Progress

            self._bar = Progress(transient=True)
            self._bar.__enter__()
            self._task = self._bar.add_task(t("cli_rp_report"), total=3)
        return self

    def advance(self, label: str, first: bool = False) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, description=label)
            if not first:
                self._bar.advance(self._task)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)


def _scheduled(config: ConfigOpt = None) -> None:
    """Produce the due scheduled reports now (those of [[reports.schedules]] not yet written)."""
    from infra_monitor.reports.scheduled import run_due

    settings = load(config)
    if not settings.reports.schedules:
        typer.echo(t("cli_rp_no_schedules"), err=True)
        return
    try:
        files = run_due(engine_for(settings), settings)
    except SQLAlchemyError as exc:
        fail(f"database: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    for f in files:
        typer.echo(str(f))
    typer.echo(t("cli_rp_files_written", n=len(files), folder=settings.reports.output_dir), err=True)


def register(app: typer.Typer) -> None:
    report_app = typer.Typer(help="Reports for officials: coverage, availability, data center, capacity, "
                                  "videoconference (json, csv, xlsx, pdf).", no_args_is_help=True)
    report_app.command("scheduled")(_scheduled)
    for kind in Kind:
        report_app.command(kind.value, help=f"The {kind.value} report.")(_bind(kind))
    app.add_typer(report_app, name="report")


def _bind(kind: Kind) -> Callable[..., None]:
    def command(
        output: Annotated[str | None, typer.Option(
            "--output", "-o", help="file to write ('-' = standard output); default: a name from the kind and "
                                   "period in the current folder")] = None,
        from_: Annotated[str | None, typer.Option(
            "--from", help="first local day of the period (YYYY-MM-DD); default: the previous full month")] = None,
        to: Annotated[str | None, typer.Option(
            "--to", help="local day after the period (exclusive); default: tomorrow with --from")] = None,
        as_of: Annotated[str | None, typer.Option("--as-of", help="date of the administrative structure; "
                                                                  "default: the period's last day")] = None,
        fmt: Annotated[Fmt | None, typer.Option("--format", "-f", help="default: from the output's "
                                                                       "extension, else json")] = None,
        lang: Annotated[Lang | None, typer.Option("--lang", help="vi or en (default: general.language)")] = None,
        threshold: Annotated[float | None, typer.Option("--threshold", help="availability target, %")] = None,
        utilisation_threshold: Annotated[float | None, typer.Option(
            "--utilisation-threshold", help="capacity: 'hours above' level, % of committed rate")] = None,
        maintenance_as_down: Annotated[bool, typer.Option("--maintenance-as-down",
                                                          help="count maintenance as downtime")] = False,
        no_data_as_down: Annotated[bool, typer.Option("--no-data-as-down",
                                                      help="count time without data as downtime")] = False,
        tier_reference: Annotated[Tier | None, typer.Option("--tier-reference",
                                                            help="datacenter: tier reference")] = None,
        config: ConfigOpt = None,
    ) -> None:
        _report(kind, output, from_, to, as_of, fmt, lang, threshold, utilisation_threshold, maintenance_as_down,
                no_data_as_down, tier_reference, config)

    return command

"""Shared CLI plumbing: the ``--config`` and ``--format`` options, settings/engine loading, exit codes, tables.

Exit codes: 0 done, 1 the operation failed, 2 bad usage or configuration, 75 (EX_TEMPFAIL) another
``serve``/``poller`` already runs the probes on this database and poller group.

Lists (:func:`emit`) come out as a rich table on a terminal and as TSV otherwise (a header line, then one
line per row, cells separated by a tab, never shortened; a tab, newline or backslash inside a cell is written
``\\t``, ``\\n``, ``\\\\``), or JSON with ``--format json``. Several tables in one output are each preceded by
an ``== Title ==`` line and followed by an empty line.

Language: what a person reads (the rich table's headers and cells, messages, errors) is in the CLI's language:
the global ``--lang`` option, else ``general.language`` of the configuration (default ``vi``; the variable
``INFRA_MONITOR_GENERAL__LANGUAGE`` as for every key). :func:`t` translates for it. Machine output does not
follow it: TSV and JSON keep English column names, raw codes (``down``, ``unreachable``) and English summary
lines in every language, so scripts read the same whatever the operator's language.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from sqlalchemy.engine import Engine

from infra_monitor.config import ConfigError, Settings, load_settings
from infra_monitor.i18n import LANGUAGES, translator
from infra_monitor.logging import setup_logging

if TYPE_CHECKING:
    from infra_monitor.server import PollerRunning

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_RUNNING = 75  # EX_TEMPFAIL: another serve/poller holds this database's poller lock; try again later

ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="configuration file (TOML); default: $INFRA_MONITOR_CONFIG or built-in",
                 show_default=False),
]


class Format(StrEnum):
    table = "table"
    tsv = "tsv"
    json = "json"


FormatOpt = Annotated[
    Format | None,
    typer.Option("--format", help="table (default on a terminal; in the --lang language), tsv (default "
                                  "otherwise: header + one tab-separated line per row) or json; tsv and json "
                                  "keep English column names and raw codes in every language",
                 show_default=False),
]

T = TypeVar("T")


@dataclass
class Verbosity:
    """Set by the global ``--verbose`` option before any command runs."""

    verbose: bool = False


VERBOSITY = Verbosity()


@dataclass
class Language:
    """``chosen`` by the global ``--lang`` option; ``configured`` from ``general.language`` once loaded."""

    chosen: str | None = None
    configured: str | None = None


LANGUAGE = Language()
Translate = Callable[..., str]


def language() -> str:
    """The CLI's language: ``--lang``, else the loaded configuration's, else the environment's, else ``vi``."""
    import os

    if LANGUAGE.chosen:
        return LANGUAGE.chosen
    if LANGUAGE.configured:
        return LANGUAGE.configured
    env = os.environ.get("INFRA_MONITOR_GENERAL__LANGUAGE", "").strip().strip('"')
    return env if env in LANGUAGES else "vi"


def t(key: str, **params: object) -> str:
    """The text of ``key`` in the CLI's language (see :mod:`infra_monitor.i18n`)."""
    return translator(language())(key, **params)


def english(key: str, **params: object) -> str:
    """The text of ``key`` in English: for the lines of machine output (TSV) that stay the same everywhere."""
    return translator("en")(key, **params)


def yes_no(value: bool, tr: Translate | None = None) -> str:
    return (tr or t)("yes" if value else "no")


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    typer.echo(t("cli_error", message=message), err=True)
    raise typer.Exit(code)


def load(config: Path | None, *, log: bool = True) -> Settings:
    """Settings for a command, or exit 2 with the message naming the file and key."""
    from inventory import secretbox

    try:
        settings = load_settings(config)
        secretbox.install_for(settings)  # the keys the models encrypt and decrypt secret columns with
    except (ConfigError, secretbox.SecretKeyError) as exc:
        fail(str(exc), EXIT_USAGE)
    LANGUAGE.configured = settings.general.language
    if log:
        setup_logging(settings.logging.format, settings.logging.level, verbose=VERBOSITY.verbose)
    return settings


def engine_for(settings: Settings, *, create: bool = False, need_schema: bool = True) -> Engine:
    """The engine of the configured database. Unless ``create`` (``init``, ``db upgrade``), a database that
    does not exist (SQLite: no file) or, with ``need_schema``, has no schema is refused with exit 1 before
    anything is created."""
    from infra_monitor.db import import_all_models, make_engine, missing_database

    import_all_models()
    if not create:
        problem = missing_database(settings.database, need_schema=need_schema)
        if problem:
            fail(_database_problem(problem, settings))
    return make_engine(settings.database)


def running_message(exc: PollerRunning) -> str:
    """The refusal of a second ``serve``/``poller``, in the CLI's language."""
    if exc.lock is not None:
        return t("cli_running", command=exc.holder, pid=exc.pid, group=repr(exc.group), lock=exc.lock)
    return t("cli_running_pg", holder=exc.holder, pid=exc.pid, group=repr(exc.group),
             client=exc.client or "unix socket")


def _database_problem(problem: str, settings: Settings) -> str:
    """:func:`infra_monitor.db.missing_database`'s English sentence, said in the CLI's language."""
    from sqlalchemy.engine import make_url

    shown = make_url(settings.database.url).render_as_string(hide_password=True)
    if "does not exist or is not initialised" in problem:
        return t("cli_db_missing", url=shown)
    prefix = f"cannot connect to database {shown}: "
    if problem.startswith(prefix):
        return t("cli_db_unreachable", url=shown, reason=problem.removeprefix(prefix))
    return problem


def is_terminal() -> bool:
    return sys.stderr.isatty()


def progress(items: Iterable[T], total: int, label: str) -> Iterator[T]:
    """A rich progress bar on a terminal, plain periodic lines otherwise."""
    if is_terminal():
        from rich.progress import Progress

        with Progress(transient=True) as bar:
            task = bar.add_task(label, total=total)
            for item in items:
                yield item
                bar.advance(task)
        return
    step = max(1, total // 10)
    for i, item in enumerate(items, 1):
        yield item
        if i % step == 0 or i == total:
            print(f"{label}: {i}/{total}", file=sys.stderr)


# ------------------------------------------------------------------------------------------- output --------


@dataclass
class Table:
    """Rows of text cells under headers; ``style`` gives a rich style per row (terminal only).

    ``headers``, ``rows`` and ``title`` are the machine form (TSV and JSON: English names, raw codes); a table
    read by a person shows ``labels``, ``shown`` and ``caption`` instead when given (translated headers and
    cells, same shape). ``style`` always sees the machine row.
    """

    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    title: str | None = None
    style: Callable[[list[str]], str | None] | None = None
    labels: list[str] | None = None
    shown: list[list[str]] | None = None
    caption: str | None = None

    def records(self) -> list[dict[str, str]]:
        return [dict(zip(self.headers, r, strict=True)) for r in self.rows]


def output_format(fmt: Format | None, as_json: bool = False) -> Format:
    """The format asked for (``--json`` is ``--format json``), else a table on a terminal and TSV otherwise."""
    if as_json:
        return Format.json
    if fmt is not None:
        return fmt
    return Format.table if sys.stdout.isatty() else Format.tsv


def tsv_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\r", "\\r").replace("\n", "\\n")


Said = Callable[[Translate], str]
"""A line of output written for a translator: :func:`t` under a table, English in TSV (machine output)."""


def emit(tables: Sequence[Table], fmt: Format, *, data: Any = None,
         footer: Callable[[Translate], Sequence[str]] | None = None, empty: Said | None = None,
         notes: Sequence[str] = ()) -> None:
    """Print ``tables`` in ``fmt``. JSON prints ``data`` (default: one table's rows as objects, or an object of
    tables by title). ``footer`` lines follow the tables (not in JSON); ``empty`` is printed instead of a single
    table without rows; both are written by a function of a translator, called with :func:`t` for a table and
    with English for TSV, so that TSV is the same in every language. ``notes`` (hints for people, translated)
    follow on stdout under a table, on stderr otherwise, so that TSV and JSON stay clean for scripts."""
    tr = t if fmt is Format.table else english
    footer_lines = list(footer(tr)) if footer else []
    for note in notes if fmt is not Format.table else ():
        typer.echo(note, err=True)
    if fmt is Format.table:
        footer_lines = [*footer_lines, *notes]
    if fmt is Format.json:
        if data is None:
            data = tables[0].records() if len(tables) == 1 else {tb.title or str(i): tb.records()
                                                                  for i, tb in enumerate(tables)}
        typer.echo(json.dumps(data, ensure_ascii=False, indent=1, default=str))
        return
    if empty is not None and len(tables) == 1 and not tables[0].rows:
        typer.echo(empty(tr))
        for line in footer_lines:
            typer.echo(line)
        return
    if fmt is Format.table:
        _rich(tables, footer_lines)
        return
    titled = len(tables) > 1
    for table in tables:
        if titled:
            typer.echo(f"== {table.title} ==")
        for cells in [table.headers, *table.rows]:
            typer.echo("\t".join(tsv_cell(c) for c in cells))
        if titled:
            typer.echo("")
    for line in footer_lines:
        typer.echo(line)


def _rich(tables: Sequence[Table], footer: Sequence[str]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table as RichTable

    console = Console()
    for table in tables:
        title = table.caption or table.title
        rt = RichTable(title=escape(title) if title else None, title_justify="left")
        for h in table.labels or table.headers:
            rt.add_column(escape(h), overflow="fold")
        shown = table.shown if table.shown is not None else table.rows
        for raw, cells in zip(table.rows, shown, strict=True):
            rt.add_row(*(escape(c) for c in cells), style=table.style(raw) if table.style else None)
        console.print(rt)
    for line in footer:
        console.print(escape(line))

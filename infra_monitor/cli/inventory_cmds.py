"""Inventory commands: ``import``, ``validate``, ``export``, ``changes`` and ``regions --as-of``.

``import`` prints every error as ``FILE:ROW:FIELD: message`` on stderr and exits 1 with nothing written;
otherwise it prints what was created, updated and left unchanged per model. Writes are recorded in the change
log under actor ``cli:<user>`` and one request id per run.
"""

from __future__ import annotations

import getpass
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer

from infra_monitor.cli.common import EXIT_FAILED, EXIT_USAGE, ConfigOpt, engine_for, fail, is_terminal, load

FileArg = Annotated[Path, typer.Argument(help="a .yaml/.yml/.json file or a directory of CSV files",
                                         show_default=False)]


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def parse_day(text: str) -> date:
    """A date given as DD/MM/YYYY (Vietnamese usage) or YYYY-MM-DD."""
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    raise typer.BadParameter(f"{text!r} is not a date; use DD/MM/YYYY or YYYY-MM-DD")


@contextmanager
def _database_errors() -> Iterator[None]:
    """Turn a missing schema or an unreachable database into one line and exit 1."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    try:
        yield
    except (OperationalError, ProgrammingError) as exc:
        fail(f"database error: {str(exc.orig).strip().splitlines()[0]} (has 'infra-monitor init' been run?)")


@contextmanager
def _stage_progress(total: int) -> Iterator[Any]:
    """A transient progress bar over the import's stages on a terminal; silent otherwise."""
    if not is_terminal():
        yield None
        return
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task("importing", total=total)

        def advance(key: str) -> None:
            bar.update(task, advance=1, description=f"importing {key}")

        yield advance


def _run_import(config: Path | None, file: Path, dry_run: bool) -> None:
    from sqlalchemy.orm import Session

    from inventory.changelog import change_context
    from inventory.docformat import KEYS, DocumentError
    from inventory.importer import import_document, load_file

    settings = load(config)
    try:
        doc, source = load_file(file)
    except DocumentError as exc:
        for issue in exc.issues:
            typer.echo(str(issue), err=True)
        raise typer.Exit(EXIT_FAILED) from None
    engine = engine_for(settings)
    with _database_errors(), Session(engine, expire_on_commit=False) as session, change_context(_actor()), \
            _stage_progress(sum(1 for k in KEYS if doc.get(k))) as advance:
        report = import_document(session, doc, source=source, dry_run=dry_run, progress=advance)
    for issue in report.errors:
        typer.echo(str(issue), err=True)
    width = max([len(name) for name in report.counts] + [5])
    typer.echo(f"{'model':<{width}}  {'created':>8}  {'updated':>8}  {'unchanged':>9}")
    for name, c in report.counts.items():
        typer.echo(f"{name:<{width}}  {c.created:>8}  {c.updated:>8}  {c.unchanged:>9}")
    totals = (f"created {report.total('created')}, updated {report.total('updated')}, "
              f"unchanged {report.total('unchanged')} in {report.seconds:.2f} s")
    if report.errors:
        typer.echo(f"{len(report.errors)} error(s) in {source}: nothing was written", err=True)
        raise typer.Exit(EXIT_FAILED)
    if dry_run:
        typer.echo(f"valid: {totals} (dry run: nothing was written)")
    else:
        typer.echo(f"imported: {totals} (request id {report.request_id})")


def _write_export(doc: dict[str, Any], file: Path, *, private: bool) -> list[Path]:
    """Write an export; CSV cells are neutralised for spreadsheets, and with secrets every file is 0600.

    A private YAML/JSON file is written to a 0600 temporary file in the same directory and renamed over
    ``file``; private CSV files go into a 0700 directory and are created 0600 before anything is written.
    """
    from inventory.docfiles import YAML_SUFFIXES, flatten_for_csv, write_file
    from inventory.exporter import neutralise_for_csv

    suffix = file.suffix.lower()
    if suffix not in (*YAML_SUFFIXES, ".json"):  # a directory of CSV files
        doc = neutralise_for_csv(doc)
        if not private:
            return write_file(doc, file)
        file.mkdir(mode=0o700, parents=True, exist_ok=True)
        file.chmod(0o700)
        for key, rows in flatten_for_csv(doc).items():
            if rows:
                target = file / f"{key}.csv"
                os.close(os.open(target, os.O_WRONLY | os.O_CREAT, 0o600))
                target.chmod(0o600)
        written = write_file(doc, file)
        for target in written:
            target.chmod(0o600)
        return written
    if not private:
        return write_file(doc, file)
    fd, name = tempfile.mkstemp(prefix=f".{file.name}.", suffix=file.suffix, dir=file.parent)  # mode 0600
    os.close(fd)
    tmp = Path(name)
    try:
        write_file(doc, tmp)
        os.replace(tmp, file)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return [file]


def register(app: typer.Typer) -> None:
    @app.command("import")
    def import_(
        file: FileArg,
        config: ConfigOpt = None,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="check everything, write nothing")] = False,
    ) -> None:
        """Import an inventory document (upsert by natural key, all or nothing)."""
        _run_import(config, file, dry_run)

    @app.command()
    def validate(file: FileArg, config: ConfigOpt = None) -> None:
        """Check an inventory document against the database without writing (= import --dry-run)."""
        _run_import(config, file, dry_run=True)

    @app.command()
    def export(
        file: Annotated[Path, typer.Argument(help=".yaml/.yml or .json file, or a directory for CSV files",
                                             show_default=False)],
        config: ConfigOpt = None,
        include_secrets: Annotated[bool, typer.Option(
            "--include-secrets", help="also write SNMP communities and v3 keys (keep the file safe)")] = False,
    ) -> None:
        """Export the whole inventory in the import format (secrets left out unless asked)."""
        from sqlalchemy.orm import Session

        from inventory.exporter import export_document

        settings = load(config)
        with _database_errors(), Session(engine_for(settings)) as session:
            doc = export_document(session, include_secrets=include_secrets)
        try:
            written = _write_export(doc, file, private=include_secrets)
        except OSError as exc:
            fail(f"cannot write {file}: {exc.strerror or exc}")
        rows = sum(len(v) for v in doc.values())
        where = f"{file} ({len(written)} CSV files)" if file.is_dir() else str(file)
        typer.echo(f"exported {rows} rows to {where}" + ("" if include_secrets else " (secrets left out)"))

    @app.command()
    def changes(
        config: ConfigOpt = None,
        object_type: Annotated[str | None, typer.Option("--object-type", help="e.g. device, site, circuit")] = None,
        request_id: Annotated[str | None, typer.Option("--request-id", help="one import or API request")] = None,
        limit: Annotated[int, typer.Option(min=1, help="newest first, at most this many")] = 50,
        as_json: Annotated[bool, typer.Option("--json", help="JSON with the before/after snapshots")] = False,
    ) -> None:
        """Show the change log (who changed which inventory object, when, before and after)."""
        from sqlalchemy import select
        from sqlalchemy.orm import Session
        from sqlmodel import col

        from inventory.models import ObjectChange

        settings = load(config)
        stmt = select(ObjectChange).order_by(col(ObjectChange.id).desc()).limit(limit)
        if object_type:
            stmt = stmt.where(col(ObjectChange.object_type) == object_type)
        if request_id:
            stmt = stmt.where(col(ObjectChange.request_id) == request_id)
        with _database_errors(), Session(engine_for(settings)) as session:
            rows = list(session.scalars(stmt))
        if as_json:
            typer.echo(json.dumps([{
                "id": c.id, "time": c.time.isoformat(), "actor": c.actor, "request_id": c.request_id,
                "action": c.action, "object_type": c.object_type, "object_id": c.object_id,
                "object_repr": c.object_repr, "prechange_data": c.prechange_data,
                "postchange_data": c.postchange_data} for c in rows], ensure_ascii=False, indent=1))
            return
        tz = ZoneInfo(settings.general.timezone)
        for c in rows:
            when = c.time.astimezone(tz).strftime("%d/%m/%Y %H:%M:%S")
            typer.echo(f"{when}  {c.actor:<16} {c.action:<6} {c.object_type}#{c.object_id} {c.object_repr!r}  "
                       f"request {c.request_id}")
        if not rows:
            typer.echo("no changes recorded" + (" matching the filters" if object_type or request_id else ""))

    @app.command()
    def regions(
        config: ConfigOpt = None,
        as_of: Annotated[str | None, typer.Option("--as-of", help="DD/MM/YYYY or YYYY-MM-DD; default today")] = None,
    ) -> None:
        """Print the administrative structure (province → district → commune) as it was on a date."""
        from sqlalchemy.orm import Session

        from inventory.queries import RegionNode, regions_as_of

        try:
            day = parse_day(as_of) if as_of else date.today()
        except typer.BadParameter as exc:
            fail(str(exc), EXIT_USAGE)
        settings = load(config)
        with _database_errors(), Session(engine_for(settings)) as session:
            nodes = regions_as_of(session, day)
        children: dict[int | None, list[RegionNode]] = {}
        for node in nodes:
            children.setdefault(node.parent_id, []).append(node)
        typer.echo(f"regions on {day:%d/%m/%Y}: {len(nodes)}")

        def show(parent: int | None, depth: int) -> None:
            for node in children.get(parent, []):
                below = len(children.get(node.id, []))
                typer.echo(f"{'  ' * depth}{node.code} {node.name} ({node.level}"
                           + (f", {below} below)" if below else ")"))
                show(node.id, depth + 1)

        show(None, 0)

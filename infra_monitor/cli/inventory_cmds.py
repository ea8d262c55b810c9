"""Inventory commands: ``import``, ``validate``, ``export``, ``changes`` and ``regions --as-of``.

``import`` prints every error as ``FILE:ROW:FIELD: message`` on stderr and exits 1 with nothing written (and
no created/updated counts: nothing was applied); otherwise it prints what was created, updated and left
unchanged per model. ``changes`` shows each changed field as ``field: old → new`` (values shortened, secrets
masked). Writes are recorded in the change
log under actor ``cli:<user>`` and one request id per run.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer

from infra_monitor.cli.common import (
    EXIT_FAILED,
    EXIT_USAGE,
    ConfigOpt,
    FormatOpt,
    Table,
    emit,
    engine_for,
    fail,
    is_terminal,
    load,
    output_format,
    t,
)
from infra_monitor.logging import SECRET_KEYS

# snapshot keys that change with every write and say nothing about what was changed
UNSHOWN_FIELDS = frozenset({"search_text", "last_updated", "created"})
VALUE_WIDTH = 40
SECRET_MASK = "********"

FileArg = Annotated[Path, typer.Argument(help="a .yaml/.yml/.json file or a directory of CSV files",
                                         show_default=False)]


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def field_diff(action: str, before: dict[str, Any] | None, after: dict[str, Any] | None
               ) -> list[tuple[str, Any, Any]]:
    """(field, old, new) of each field an update changed, or that a create set (old None); none for a delete."""
    if action == "delete" or after is None:
        return []
    before = before or {}
    return [(k, before.get(k), v) for k, v in after.items()
            if k not in UNSHOWN_FIELDS and before.get(k) != v
            and not (action == "create" and (v in (None, "") or k == "id"))]


def _masked(key: str, value: Any) -> Any:
    return SECRET_MASK if value not in (None, "") and SECRET_KEYS.search(key) else value


def _short(key: str, value: Any) -> str:
    value = _masked(key, value)
    if value is None or value == "":
        return "—" if value is None else '""'
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= VALUE_WIDTH else text[:VALUE_WIDTH - 1] + "…"


def changed_fields(action: str, before: dict[str, Any] | None, after: dict[str, Any] | None,
                   unrecorded: str = "(masked or unrecorded fields)") -> list[str]:
    """``field: old → new`` per changed field (values shortened, secrets masked); ``field=new`` for a create."""
    diff = field_diff(action, before, after)
    if action == "create":
        return [f"{k}={_short(k, new)}" for k, _old, new in diff]
    if action == "update" and not diff:
        return [unrecorded]
    return [f"{k}: {_short(k, old)} → {_short(k, new)}" for k, old, new in diff]


def parse_day(text: str) -> date:
    """A date given as DD/MM/YYYY (Vietnamese usage) or YYYY-MM-DD."""
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    raise typer.BadParameter(t("cli_not_a_date", text=repr(text)))


@contextmanager
def _database_errors() -> Iterator[None]:
    """Turn a missing schema or an unreachable database into one line and exit 1."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    try:
        yield
    except (OperationalError, ProgrammingError) as exc:
        fail(t("cli_db_error", error=str(exc.orig).strip().splitlines()[0]))


@contextmanager
def _stage_progress(total: int) -> Iterator[Any]:
    """A transient progress bar over the import's stages on a terminal; silent otherwise."""
    if not is_terminal():
        yield None
        return
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task(t("cli_importing"), total=total)

        def advance(key: str) -> None:
            bar.update(task, advance=1, description=t("cli_importing_what", what=key))

        yield advance


def _run_import(config: Path | None, file: Path, dry_run: bool) -> None:
    from infra_monitor.db import write_session
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
    with _database_errors(), write_session(engine, expire_on_commit=False) as session, change_context(_actor()), \
            _stage_progress(sum(1 for k in KEYS if doc.get(k))) as advance:
        report = import_document(session, doc, source=source, dry_run=dry_run, progress=advance)
    if report.errors:  # the plan's counts were never applied: say so, and only list what is wrong
        for issue in report.errors:
            typer.echo(str(issue), err=True)
        what = t("cli_doc_invalid") if dry_run else t("cli_import_refused")
        typer.echo(t("cli_import_errors", what=what, n=len(report.errors), source=source), err=True)
        raise typer.Exit(EXIT_FAILED)
    rows = [[name, str(c.created), str(c.updated), str(c.unchanged)] for name, c in report.counts.items()]
    emit([Table(["model", "created", "updated", "unchanged"], rows,
                labels=[t("cli_imp_col_model"), t("cli_imp_col_created"), t("cli_imp_col_updated"),
                        t("cli_imp_col_unchanged")])], output_format(None))
    totals = t("cli_import_totals", created=report.total("created"), updated=report.total("updated"),
               unchanged=report.total("unchanged"), seconds=f"{report.seconds:.2f}")
    if dry_run:
        typer.echo(t("cli_import_valid", totals=totals))
    else:
        typer.echo(t("cli_imported", totals=totals, request=report.request_id))


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

        from inventory.exporter import export_document, write_export
        from inventory.secretbox import SecretDecryptError

        settings = load(config)
        with _database_errors(), Session(engine_for(settings)) as session:
            try:
                doc = export_document(session, include_secrets=include_secrets)
            except SecretDecryptError as exc:
                fail(t("cli_export_secrets", error=exc))
        try:
            written = write_export(doc, file, private=include_secrets)
        except OSError as exc:  # disk full, no permission: the files under the final names are as they were
            fail(t("cli_cannot_write", file=file, error=exc.strerror or exc))
        rows = sum(len(v) for v in doc.values())
        where = t("cli_export_csv", file=file, n=len(written)) if file.is_dir() else str(file)
        typer.echo(t("cli_exported", n=rows, where=where)
                   + ("" if include_secrets else " " + t("cli_export_no_secrets")))

    @app.command()
    def changes(
        config: ConfigOpt = None,
        object_type: Annotated[str | None, typer.Option("--object-type", help="e.g. device, site, circuit")] = None,
        request_id: Annotated[str | None, typer.Option("--request-id", help="one import or API request")] = None,
        limit: Annotated[int, typer.Option(min=1, help="newest first, at most this many")] = 50,
        fmt: FormatOpt = None,
        as_json: Annotated[bool, typer.Option("--json", help="JSON with the before/after snapshots")] = False,
    ) -> None:
        """Show the change log: who changed which inventory object, when, and each changed field old → new."""
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
        tz = ZoneInfo(settings.general.timezone)
        unrecorded = t("cli_unrecorded_fields")
        table = Table(["time", "actor", "action", "object", "name", "changes", "request"], [
            [c.time.astimezone(tz).strftime("%d/%m/%Y %H:%M:%S"), c.actor, c.action,
             f"{c.object_type}#{c.object_id}", c.object_repr,
             "; ".join(changed_fields(c.action, c.prechange_data, c.postchange_data)), c.request_id or ""]
            for c in rows], labels=[t("cli_ch_col_time"), t("cli_ch_col_actor"), t("cli_ch_col_action"),
                                    t("cli_ch_col_object"), t("cli_col_name"), t("cli_ch_col_changes"),
                                    t("cli_ch_col_request")])
        table.shown = [[r[0], r[1], t(f"action_{c.action}"), r[3], r[4],
                        "; ".join(changed_fields(c.action, c.prechange_data, c.postchange_data, unrecorded)), r[6]]
                       for r, c in zip(table.rows, rows, strict=True)]
        emit([table], output_format(fmt, as_json), data=[{
            "id": c.id, "time": c.time.isoformat(), "actor": c.actor, "request_id": c.request_id,
            "source": c.source, "action": c.action, "object_type": c.object_type, "object_id": c.object_id,
            "object_repr": c.object_repr,
            "changes": [{"field": k, "old": _masked(k, old), "new": _masked(k, new)}
                        for k, old, new in field_diff(c.action, c.prechange_data, c.postchange_data)],
            "prechange_data": c.prechange_data, "postchange_data": c.postchange_data} for c in rows],
            empty=lambda tr: tr("cli_no_changes_matching") if object_type or request_id else tr("cli_no_changes"))

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
        typer.echo(t("cli_regions_on", day=f"{day:%d/%m/%Y}", n=len(nodes)))

        def show(parent: int | None, depth: int) -> None:
            for node in children.get(parent, []):
                below = len(children.get(node.id, []))
                level = {"province": t("cli_rl_province"), "district": t("cli_rl_district"),
                         "commune": t("cli_rl_commune")}.get(node.level, node.level)
                typer.echo(f"{'  ' * depth}{node.code} {node.name} ("
                           + (t("cli_regions_below", level=level, n=below) if below else level) + ")")
                show(node.id, depth + 1)

        show(None, 0)

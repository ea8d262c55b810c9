"""``import-netbox``: import a NetBox 4.x inventory from recorded REST answers or from a live NetBox.

``--from DIR`` reads one file per endpoint (``dcim_sites.json``…, NetBox's list answers); ``--url URL --token
T`` fetches them, following ``next``. The import is all or nothing: any error is printed as
``FILE: OBJECT: FIELD: message`` on stderr, exit 1, nothing written. Otherwise the counts per model are
printed, then every NetBox object that was skipped and why, then notes (e.g. monitoring left off for a device
without a primary address). ``--dry-run`` checks everything and writes nothing. See docs/netbox.md.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer

from infra_monitor.cli.common import (
    EXIT_FAILED,
    EXIT_USAGE,
    ConfigOpt,
    Format,
    Table,
    emit,
    engine_for,
    english,
    fail,
    load,
    output_format,
    t,
)


def _run(config: Path | None, directory: Path | None, url: str | None, token: str | None, dry_run: bool) -> None:
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from infra_monitor.db import write_session
    from inventory.changelog import change_context
    from inventory.netbox_import import DirSource, UrlSource, import_netbox

    if (directory is None) == (url is None):
        fail(t("cli_nb_source"), EXIT_USAGE)
    source: DirSource | UrlSource
    if directory is not None:
        if not directory.is_dir():
            fail(t("cli_nb_not_dir", path=str(directory)), EXIT_USAGE)
        source = DirSource(directory)
    else:
        if not token:
            fail(t("cli_nb_token"), EXIT_USAGE)
        source = UrlSource(str(url), str(token))
    settings = load(config)
    engine = engine_for(settings)
    try:
        with write_session(engine, expire_on_commit=False) as session, \
                change_context(f"netbox-import:{getpass.getuser()}"):
            result = import_netbox(session, source, dry_run=dry_run)
    except (OperationalError, ProgrammingError) as exc:
        fail(t("cli_db_error", error=str(exc.orig).strip().splitlines()[0]))
    if result.errors:
        for issue in result.errors:
            typer.echo(str(issue), err=True)
        typer.echo(t("cli_nb_refused", n=len(result.errors)), err=True)
        raise typer.Exit(EXIT_FAILED)
    report = result.report
    assert report is not None
    fmt = output_format(None)
    tr = t if fmt is Format.table else english  # TSV's lines stay English for scripts, as in ``import``
    emit([Table(["model", "created", "updated", "unchanged"],
                [[name, str(c.created), str(c.updated), str(c.unchanged)] for name, c in report.counts.items()],
                labels=[t("cli_imp_col_model"), t("cli_imp_col_created"), t("cli_imp_col_updated"),
                        t("cli_imp_col_unchanged")])], fmt)
    # what NetBox held and we did not take: the importer names the file, the object and the reason
    for key, items in (("cli_nb_skipped", result.skipped), ("cli_nb_note", result.notes)):
        for item in items:
            typer.echo(tr(key, item=item))
    totals = tr("cli_nb_totals", created=report.total("created"), updated=report.total("updated"),
                unchanged=report.total("unchanged"), skipped=len(result.skipped))
    if dry_run:
        typer.echo(tr("cli_import_valid", totals=totals))
    else:
        typer.echo(tr("cli_imported", totals=totals, request=report.request_id))


def register(app: typer.Typer) -> None:
    @app.command("import-netbox")
    def import_netbox_(
        directory: Annotated[Path | None, typer.Option(
            "--from", help="directory of NetBox answers, one file per endpoint (dcim_sites.json…)")] = None,
        url: Annotated[str | None, typer.Option("--url", help="NetBox base URL, e.g. https://netbox.example")] = None,
        token: Annotated[str | None, typer.Option("--token", help="NetBox API token (read access)",
                                                  envvar="NETBOX_TOKEN", show_envvar=True)] = None,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="check everything, write nothing")] = False,
        config: ConfigOpt = None,
    ) -> None:
        """Import sites, devices, addresses and circuits from NetBox 4.x (all or nothing)."""
        _run(config, directory, url, token, dry_run)


__all__ = ["EXIT_FAILED", "register"]

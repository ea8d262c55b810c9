"""``check-config``, ``backup`` and ``restore``: what an administrator runs around a deployment.

``check-config`` prints one line per check (:mod:`infra_monitor.checkup`) and exits 0 when nothing fails
(warnings allowed), 1 otherwise, 2 for a configuration that does not load. ``backup FILE|DIR`` copies the
live SQLite database online (:mod:`infra_monitor.backup`); ``restore FILE`` puts a backup in place after
checking it, refusing (exit 75) while any ``serve``/``poller`` runs on the database, and upgrades an older
backup's schema to this program's. Both exit 1 naming the file when something is wrong, with nothing changed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from infra_monitor.cli.common import (
    EXIT_FAILED,
    EXIT_RUNNING,
    ConfigOpt,
    Format,
    Table,
    emit,
    fail,
    load,
    output_format,
    t,
)


def _check_config(config: Path | None, fmt: Format | None) -> None:
    from infra_monitor.checkup import FAIL, WARN, run_checks
    from infra_monitor.server import lock_path

    settings = load(config, log=False)
    checks = run_checks(settings, lock_path)
    label = {"ok": t("cli_chk_ok"), "warn": t("cli_chk_warn"), "fail": t("cli_chk_fail")}
    emit([Table(["check", "status", "detail"], [[c.name, c.status, c.detail] for c in checks],
                labels=[t("cli_chk_col_check"), t("cli_chk_col_status"), t("cli_chk_col_detail")],
                shown=[[c.name, label[c.status], c.detail] for c in checks],
                style=lambda row: {"fail": "bold red", "warn": "yellow"}.get(row[1]))],
         output_format(fmt))
    failed = sum(c.status == FAIL for c in checks)
    warned = sum(c.status == WARN for c in checks)
    typer.echo(t("cli_chk_summary", source=settings.source, failed=failed, warned=warned), err=True)
    if failed:
        raise typer.Exit(EXIT_FAILED)


def _backup(config: Path | None, destination: Path) -> None:
    from infra_monitor import backup

    settings = load(config, log=False)
    try:
        done = backup.backup(backup.sqlite_path(settings.database.url), destination)
    except backup.BackupError as exc:
        fail(str(exc))
    typer.echo(t("cli_backup_done", path=str(done.path), size=f"{done.bytes / 1e6:.1f}", revision=done.revision))


def _restore(config: Path | None, source: Path) -> None:
    from infra_monitor import backup
    from infra_monitor.db import all_revisions, head_revision, make_engine, upgrade
    from infra_monitor.server import lock_path

    settings = load(config, log=False)
    try:
        database = backup.sqlite_path(settings.database.url)
        with backup.no_poller_running(database, lock_path(settings)):
            done = backup.restore(source, database, all_revisions())
    except backup.BackupError as exc:
        fail(str(exc), EXIT_RUNNING if "is running on" in str(exc) else EXIT_FAILED)
    typer.echo(t("cli_restore_done", source=str(source), path=str(done.path), revision=done.revision,
                 kept=str(done.kept) if done.kept else "-"))
    if done.revision != head_revision():
        engine = make_engine(settings.database)
        try:
            upgrade(engine)
        finally:
            engine.dispose()
        typer.echo(t("cli_restore_upgraded", before=done.revision, after=head_revision()))


def register(app: typer.Typer) -> None:
    @app.command("check-config")
    def check_config(
        config: ConfigOpt = None,
        fmt: Annotated[Format | None, typer.Option("--format", help="table, tsv or json",
                                                   show_default=False)] = None,
    ) -> None:
        """Check the configuration and this machine before serve/poller: database and schema, secrets, ICMP
        permission, web port, poller lock, report directory. Exits 0 (warnings allowed), 1 if a check fails."""
        _check_config(config, fmt)

    @app.command("backup")
    def backup_(
        destination: Annotated[Path, typer.Argument(help="file to write (replaced whole), or a directory: a "
                                                         "dated file in it")],
        config: ConfigOpt = None,
    ) -> None:
        """Copy the live SQLite database to a file, online (sweeps go on), checked and mode 0600."""
        _backup(config, destination)

    @app.command("restore")
    def restore_(
        source: Annotated[Path, typer.Argument(help="a file written by 'infra-monitor backup'")],
        config: ConfigOpt = None,
    ) -> None:
        """Replace the SQLite database with a backup (the current one is kept beside it); stop serve and every
        poller first (exit 75 otherwise). An older backup's schema is upgraded to this program's."""
        _restore(config, source)

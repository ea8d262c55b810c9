"""The ``infra-monitor`` command line (typer). Each topic lives in its own module and registers here."""

from __future__ import annotations

import sys

import typer

from infra_monitor.cli import core_cmds, events_cmds, inventory_cmds, probe_cmds, report_cmds, status_cmds

app = typer.Typer(
    name="infra-monitor",
    help="Inventory, probes, status and coverage reports for a provincial e-government network.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema management.", no_args_is_help=True)
app.add_typer(db_app, name="db")

core_cmds.register(app, db_app)
probe_cmds.register(app)
inventory_cmds.register(app)
status_cmds.register(app)
events_cmds.register(app)
report_cmds.register(app)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)

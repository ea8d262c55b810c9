"""The ``infra-monitor`` command line (typer). Each topic lives in its own module and registers here."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated

import typer

from infra_monitor.cli import (
    account_cmds,
    common,
    core_cmds,
    deploy_cmds,
    events_cmds,
    inventory_cmds,
    meeting_cmds,
    netbox_cmds,
    probe_cmds,
    problems_cmds,
    reconcile_cmds,
    report_cmds,
    secrets_cmds,
    status_cmds,
)

app = typer.Typer(
    name="infra-monitor",
    help="Inventory, probes, status and coverage reports for a provincial e-government network.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class Lang(StrEnum):
    vi = "vi"
    en = "en"


@app.callback()
def _options(verbose: Annotated[bool, typer.Option(
        "--verbose", "-v", help="also log the schema migration steps (alembic), quiet otherwise")] = False,
             lang: Annotated[Lang | None, typer.Option(
                 "--lang", help="language of tables and messages for people (default: general.language, vi); "
                                "TSV and JSON output stay English with raw codes in every language",
                 show_default=False)] = None) -> None:
    """Inventory, probes, status and coverage reports for a provincial e-government network."""
    common.VERBOSITY.verbose = verbose
    common.LANGUAGE.chosen = lang.value if lang else None


db_app = typer.Typer(help="Database schema management.", no_args_is_help=True)
app.add_typer(db_app, name="db")

core_cmds.register(app, db_app)
probe_cmds.register(app)
inventory_cmds.register(app)
status_cmds.register(app)
events_cmds.register(app)
problems_cmds.register(app)
report_cmds.register(app)
account_cmds.register(app)
secrets_cmds.register(app)
netbox_cmds.register(app)
deploy_cmds.register(app)
reconcile_cmds.register(app)
meeting_cmds.register(app)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)

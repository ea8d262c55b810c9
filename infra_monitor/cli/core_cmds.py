"""Core commands: ``version``, ``init [--demo]``, ``db upgrade``, ``serve``."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from infra_monitor import __version__
from infra_monitor.cli.common import ConfigOpt, engine_for, fail, load

log = logging.getLogger(__name__)


def register(app: typer.Typer, db_app: typer.Typer) -> None:
    @app.command()
    def version(config: ConfigOpt = None) -> None:
        """Print the program version and the schema revision it expects."""
        from infra_monitor.db import head_revision

        typer.echo(f"infra-monitor {__version__} (schema {head_revision()})")

    @app.command()
    def init(
        config: ConfigOpt = None,
        demo: Annotated[bool, typer.Option("--demo", help="load the demo province if the inventory is empty")] = False,
    ) -> None:
        """Create or upgrade the database schema; with --demo load the demo province into an empty inventory."""
        settings = load(config)
        engine = engine_for(settings)
        from infra_monitor.db import upgrade

        try:
            before, after = upgrade(engine)
        except Exception as exc:
            fail(f"schema upgrade failed on {engine.url.render_as_string(hide_password=True)}: {exc}")
        typer.echo(f"schema: {before or 'empty'} -> {after}")
        if demo:
            from inventory.demo_loader import load_demo_if_empty

            loaded = load_demo_if_empty(engine)
            typer.echo("demo province loaded" if loaded else "inventory not empty: demo not loaded")

    @db_app.command("upgrade")
    def db_upgrade(
        config: ConfigOpt = None,
        revision: Annotated[str, typer.Option(help="target revision")] = "head",
    ) -> None:
        """Upgrade the database schema to the latest (or given) revision."""
        settings = load(config)
        engine = engine_for(settings)
        from infra_monitor.db import upgrade

        try:
            before, after = upgrade(engine, revision)
        except Exception as exc:
            fail(f"schema upgrade failed: {exc}")
        typer.echo(f"schema: {before or 'empty'} -> {after}")

    @db_app.command("current")
    def db_current(config: ConfigOpt = None) -> None:
        """Show the database's schema revision and the one this program expects."""
        settings = load(config)
        from infra_monitor.db import current_revision, head_revision

        engine = engine_for(settings)
        typer.echo(f"database: {current_revision(engine) or 'empty'}; program: {head_revision()}")

    @app.command()
    def serve(
        config: ConfigOpt = None,
        host: Annotated[str | None, typer.Option(help="override web.host")] = None,
        port: Annotated[int | None, typer.Option(help="override web.port")] = None,
        probes: Annotated[bool, typer.Option("--probes/--no-probes", help="run the scheduled probes here")] = True,
    ) -> None:
        """Run the web UI and API and, unless --no-probes, the scheduled probes (Ctrl-C stops cleanly)."""
        settings = load(config)
        from infra_monitor.server import run_server

        run_server(settings, host=host, port=port, with_probes=probes and settings.poller.run_in_serve)

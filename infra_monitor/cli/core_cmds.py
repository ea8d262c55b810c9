"""Core commands: ``version``, ``init [--demo]``, ``db upgrade``, ``serve``."""

from __future__ import annotations

import logging
from typing import Annotated

import typer
from sqlalchemy.engine import Engine

from infra_monitor import __version__
from infra_monitor.cli.common import EXIT_RUNNING, VERBOSITY, ConfigOpt, engine_for, fail, load, running_message, t
from infra_monitor.config import Settings

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
        engine = engine_for(settings, create=True)
        from infra_monitor.db import upgrade

        try:
            before, after = upgrade(engine)
        except Exception as exc:
            fail(t("cli_upgrade_failed_on", url=engine.url.render_as_string(hide_password=True), error=exc))
        typer.echo(_applied(before, after))
        if demo:
            from infra_monitor.demo_loader import load_demo_if_empty

            loaded = load_demo_if_empty(engine)
            typer.echo(t("cli_demo_loaded") if loaded else t("cli_demo_not_loaded"))
            _demo_admin(engine, settings)

    @db_app.command("upgrade")
    def db_upgrade(
        config: ConfigOpt = None,
        revision: Annotated[str, typer.Option(help="target revision")] = "head",
    ) -> None:
        """Upgrade the database schema to the latest (or given) revision."""
        settings = load(config)
        engine = engine_for(settings, create=True)
        from infra_monitor.db import upgrade

        try:
            before, after = upgrade(engine, revision)
        except Exception as exc:
            fail(t("cli_upgrade_failed", error=exc))
        typer.echo(_applied(before, after))

    @db_app.command("current")
    def db_current(config: ConfigOpt = None) -> None:
        """Show the database's schema revision and the one this program expects."""
        settings = load(config)
        from infra_monitor.db import current_revision, head_revision

        engine = engine_for(settings, need_schema=False)
        typer.echo(t("cli_db_current", current=current_revision(engine) or t("cli_schema_empty"),
                     head=head_revision()))

    @app.command()
    def serve(
        config: ConfigOpt = None,
        host: Annotated[str | None, typer.Option(help="override web.host")] = None,
        port: Annotated[int | None, typer.Option(help="override web.port")] = None,
        probes: Annotated[bool, typer.Option("--probes/--no-probes", help="run the scheduled probes here")] = True,
    ) -> None:
        """Run the web UI and API and, unless --no-probes, the scheduled probes (Ctrl-C stops cleanly).

        Exits 75 at once, before anything starts, when another serve or poller already runs the probes of
        this SQLite database and poller group (on PostgreSQL they share the group), and 1 when the web port
        is taken.
        """
        settings = load(config)
        from infra_monitor.server import PollerRunning, StartError, run_server

        engine_for(settings).dispose()  # refuse a database that does not exist rather than create it
        try:
            run_server(settings, host=host, port=port, with_probes=probes and settings.poller.run_in_serve,
                       verbose=VERBOSITY.verbose, config=str(config) if config is not None else None)
        except PollerRunning as exc:
            fail(running_message(exc), EXIT_RUNNING)
        except StartError as exc:
            fail(str(exc))


def _applied(before: str | None, after: str | None) -> str:
    """One line: the revisions before and after, and the migrations applied."""
    from infra_monitor.db import applied_between

    done = applied_between(before, after)
    what = t("cli_schema_applied", done=", ".join(done)) if done else t("cli_schema_up_to_date")
    return t("cli_schema", before=before or t("cli_schema_empty"), after=after, what=what)


def _demo_admin(engine: Engine, settings: Settings) -> None:
    """On a database without accounts, create ``admin`` with a random password and say how to sign in."""
    from infra_monitor.accounts.users import add_user, count_users, random_password
    from infra_monitor.db import write_session

    url = f"{settings.web.public_base()}/login"
    with write_session(engine) as session:
        if count_users(session):
            typer.echo(t("cli_sign_in", url=url))
            return
        password = random_password()
        add_user(session, "admin", password, "admin", "Demo administrator")
        session.commit()
    typer.echo(t("cli_demo_admin", url=url, password=password))
    typer.echo("  " + t("cli_demo_admin_hint"))

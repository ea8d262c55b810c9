"""Database engine and sessions for SQLite (embedded default) and PostgreSQL (production, psycopg 3).

SQLite connections get WAL, ``foreign_keys=ON``, a busy timeout and ``synchronous=NORMAL`` on every
connection. The schema is owned by alembic (see :mod:`infra_monitor.migrations`); :func:`upgrade`
creates or upgrades it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session
from sqlmodel import SQLModel, create_engine

from infra_monitor.config import DatabaseConfig

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def import_all_models() -> type[SQLModel]:
    """Import every module that declares tables so ``SQLModel.metadata`` is complete."""
    import infra_monitor.status.models
    import infra_monitor.storage.models  # noqa: F401
    import inventory.models  # noqa: F401

    return SQLModel


def _sqlite_pragmas(busy_timeout_ms: int) -> Any:
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    return on_connect


def _private_sqlite_file(database: str | None, query: Any) -> Any:
    """A ``do_connect`` hook that creates a missing SQLite file 0600 before SQLite would create it 0644.

    SQLite gives the ``-wal`` and ``-shm`` files the permissions of the main file, so they follow.
    """

    def do_connect(_dialect: Any, _rec: Any, _cargs: Any, _cparams: Any) -> None:
        if not database or database == ":memory:" or str(query.get("uri", "")).lower() in ("true", "1"):
            return
        try:
            fd = os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return
        except OSError:  # e.g. a missing directory: let SQLite report it as before
            return
        os.close(fd)
        os.chmod(database, 0o600)  # whatever the umask

    return do_connect


def make_engine(cfg: DatabaseConfig | str, **kw: Any) -> Engine:
    """Engine for ``cfg`` (a DatabaseConfig or a URL) with the per-backend connection settings."""
    if isinstance(cfg, str):
        cfg = DatabaseConfig(url=cfg)
    url = make_url(cfg.url)
    if url.get_backend_name() == "sqlite":
        engine = create_engine(
            cfg.url, echo=cfg.echo, connect_args={"check_same_thread": False, "timeout": cfg.busy_timeout_ms / 1000},
            **kw,
        )
        event.listen(engine, "do_connect", _private_sqlite_file(url.database, url.query))
        event.listen(engine, "connect", _sqlite_pragmas(cfg.busy_timeout_ms))
        # Let SQLAlchemy emit BEGIN itself so that transactions are real (pysqlite's legacy mode defers them).
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))

        @event.listens_for(engine, "connect")
        def _no_autobegin(dbapi_conn: Any, _rec: Any) -> None:
            dbapi_conn.isolation_level = None

    else:
        engine = create_engine(cfg.url, echo=cfg.echo, pool_size=cfg.pool_size, pool_pre_ping=True, **kw)
    return engine


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any exception."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def alembic_config(engine_or_url: Engine | str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if isinstance(engine_or_url, Engine):
        cfg.attributes["connection_engine"] = engine_or_url
        url = engine_or_url.url.render_as_string(hide_password=False)
    else:
        url = engine_or_url
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # configparser interpolation
    return cfg


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Create or upgrade the schema to ``revision``; returns (before, after) revisions."""
    from alembic import command

    before = current_revision(engine)
    command.upgrade(alembic_config(engine), revision)
    after = current_revision(engine)
    log.info("event=db_upgrade before=%s after=%s", before, after)
    return before, after

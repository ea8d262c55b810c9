"""Database engine and sessions for SQLite (embedded default) and PostgreSQL (production, psycopg 3).

SQLite connections get WAL, ``foreign_keys=ON``, a busy timeout and ``synchronous=NORMAL`` on every
connection. The schema is owned by alembic (see :mod:`infra_monitor.migrations`); :func:`upgrade`
creates or upgrades it.

Writers opt in with :func:`writing` / :func:`write_session`: on SQLite their transactions begin
``BEGIN IMMEDIATE``, so they queue for the write lock under the busy timeout at BEGIN. (A deferred
transaction that reads first and writes later gets SQLITE_BUSY at once, without waiting, when another writer
got in between.) Readers keep the deferred BEGIN and never take the write lock, so pages stay concurrent.
:func:`transient_reason` tells a database that is only busy or briefly gone (locked beyond the busy timeout,
PostgreSQL lock timeout, serialization failure, lost connection) from a real error; :func:`run_write` runs
one write transaction and retries it once, whole, when its connection was lost.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session
from sqlmodel import SQLModel, create_engine

from infra_monitor.config import DatabaseConfig

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
WRITE_OPTION = "infra_monitor_write"  # execution option: this connection's transactions write
T = TypeVar("T")


def import_all_models() -> type[SQLModel]:
    """Import every module that declares tables so ``SQLModel.metadata`` is complete."""
    import infra_monitor.accounts.models
    import infra_monitor.meetings.models
    import infra_monitor.status.store.models
    import infra_monitor.status.store.site_tally
    import infra_monitor.storage.check_intervals
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
        # Let SQLAlchemy emit BEGIN itself so that transactions are real (pysqlite's legacy mode defers them);
        # a writer's BEGIN IMMEDIATE waits up to the busy timeout for the write lock.
        event.listen(engine, "begin", _begin)

        @event.listens_for(engine, "connect")
        def _no_autobegin(dbapi_conn: Any, _rec: Any) -> None:
            dbapi_conn.isolation_level = None

    else:
        engine = create_engine(cfg.url, echo=cfg.echo, pool_size=cfg.pool_size, pool_pre_ping=True, **kw)
    from infra_monitor.sqlecho import install as mask_logged_secrets

    mask_logged_secrets(engine)  # echoed parameters never show secrets (SNMP communities, keys, hashes, tokens)
    return engine


def _begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE_OPTION) else "BEGIN")


def writing(engine: Engine) -> Engine:
    """``engine`` for writers: same pool and events; on SQLite its transactions begin ``BEGIN IMMEDIATE``."""
    if engine.get_execution_options().get(WRITE_OPTION):
        return engine
    return engine.execution_options(**{WRITE_OPTION: True})


def write_session(engine: Engine, **kw: Any) -> Session:
    """A session whose transaction takes the write lock at BEGIN (SQLite); use it for anything that writes."""
    return Session(writing(engine), **kw)


_PG_BUSY = {"55P03": "locked", "40001": "conflict", "40P01": "conflict"}  # lock timeout, serialization, deadlock
_PG_GONE = ("57P01", "57P02", "57P03")  # terminated by an administrator, crash, starting up
_SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy", "locking protocol")


def transient_reason(error: BaseException) -> str | None:
    """``"locked"``, ``"conflict"``, ``"connection lost"`` or ``"unavailable"`` when ``error`` (or its cause) is
    a database that is busy or briefly gone, so that retrying later may succeed; None for anything else."""
    seen = 0
    exc: BaseException | None = error
    while exc is not None and seen < 8:
        seen += 1
        if isinstance(exc, sa_exc.TimeoutError):  # every pooled connection busy for pool_timeout
            return "unavailable"
        if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
            return "connection lost"
        orig = exc.orig if isinstance(exc, sa_exc.DBAPIError) else exc
        if isinstance(orig, sqlite3.OperationalError):
            text = str(orig).lower()
            if any(m in text for m in _SQLITE_BUSY):
                return "locked"
        state = getattr(orig, "sqlstate", None)
        if isinstance(state, str):
            if state in _PG_BUSY:
                return _PG_BUSY[state]
            if state in _PG_GONE or state.startswith("08"):
                return "connection lost"
        if type(orig).__module__.startswith("psycopg") and type(orig).__name__ == "OperationalError":
            return "unavailable"  # could not connect: the server is down or refuses connections
        exc = exc.__cause__ or exc.__context__
    return None


def lost_connection(error: BaseException) -> bool:
    return transient_reason(error) == "connection lost"


def short_reason(error: BaseException) -> str:
    """The database's own first line, without the statement or its parameters (they may hold secrets)."""
    orig = error.orig if isinstance(error, sa_exc.DBAPIError) and error.orig is not None else error
    first = str(orig).strip().splitlines()
    return (first[0] if first else type(orig).__name__)[:200]


def run_write(engine: Engine, work: Callable[[Session], T], *, what: str = "write") -> T:
    """Run ``work(session)`` in one write transaction and commit; a lost connection (PostgreSQL restarted or the
    backend terminated) rolls the whole transaction back and it is run once more on a new connection."""
    for attempt in (1, 2):
        try:
            with write_session(engine, expire_on_commit=False) as session:
                result = work(session)
                session.commit()
                return result
        except sa_exc.DBAPIError as exc:
            if attempt == 2 or not lost_connection(exc):
                raise
            log.warning("event=db_write_retry what=%s reason=%r", what, short_reason(exc))
    raise AssertionError("unreachable")


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A write session that commits on success and rolls back on any exception."""
    with write_session(engine, expire_on_commit=False) as session:
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


def all_revisions() -> set[str]:
    """Every schema revision this program knows (a backup at one of them can be restored and upgraded)."""
    from alembic.script import ScriptDirectory

    return {r.revision for r in ScriptDirectory.from_config(alembic_config("sqlite://")).walk_revisions()}


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Create or upgrade the schema to ``revision``; returns (before, after) revisions."""
    from alembic import command

    before = current_revision(engine)
    command.upgrade(alembic_config(engine), revision)
    after = current_revision(engine)
    log.debug("event=db_upgrade before=%s after=%s", before, after)
    return before, after


def applied_between(before: str | None, after: str | None) -> list[str]:
    """``"rev message"`` of each migration from ``before`` (excluded) up to ``after``, oldest first."""
    from alembic.script import ScriptDirectory

    if after is None or before == after:
        return []
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    revs = list(script.iterate_revisions(after, before or "base"))
    return [f"{r.revision} {(r.doc or '').split(':')[0].strip()}".strip() for r in reversed(revs)
            if r.revision != before]


def missing_database(cfg: DatabaseConfig, *, need_schema: bool = True) -> str | None:
    """Why ``cfg`` cannot be read (it does not exist, or has no schema), or None; creates nothing.

    SQLite: the file must exist (checked before any connection, which would create it). Then, with
    ``need_schema``, the database must hold the alembic version table or the inventory's tables.
    """
    from sqlalchemy import inspect

    url = make_url(cfg.url)
    shown = url.render_as_string(hide_password=True)
    hint = f"database {shown} does not exist or is not initialised; run `infra-monitor init`"
    if url.get_backend_name() == "sqlite":
        name = url.database or ""
        if name and name != ":memory:" and not name.startswith("file:") and not Path(name).is_file():
            return hint
    if not need_schema:
        return None
    engine = make_engine(cfg)
    try:
        with engine.connect() as conn:
            tables = inspect(conn)
            if tables.has_table("alembic_version") or tables.has_table("site"):
                return None
            return hint
    except sa_exc.DBAPIError as exc:
        return f"cannot connect to database {shown}: {short_reason(exc)}"
    finally:
        engine.dispose()

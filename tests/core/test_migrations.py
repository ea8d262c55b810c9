"""The committed alembic migrations produce exactly the models' schema, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from infra_monitor.db import current_revision, head_revision, import_all_models


def test_migrating_an_empty_database_yields_the_models_schema(migrated_engine: Engine) -> None:
    metadata = import_all_models().metadata
    with migrated_engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, metadata)
    assert diff == [], f"models and migrations differ: {diff}"
    assert current_revision(migrated_engine) == head_revision()
    tables = set(inspect(migrated_engine).get_table_names())
    assert set(metadata.tables) <= tables


def test_sqlite_connections_have_the_required_pragmas(sqlite_url: str) -> None:
    from infra_monitor.db import make_engine

    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


def test_sqlite_table_options_match_the_models(sqlite_url: str) -> None:
    """compare_metadata ignores table options: check WITHOUT ROWID (clustered rollups) separately."""
    from infra_monitor.db import make_engine, upgrade

    engine = make_engine(sqlite_url)
    upgrade(engine)
    metadata = import_all_models().metadata
    with engine.connect() as conn:
        sql = dict(conn.exec_driver_sql("select name, sql from sqlite_master where type = 'table'").all())
    for name, table in metadata.tables.items():
        wanted = table.dialect_options["sqlite"].get("with_rowid", True) is False
        assert ("WITHOUT ROWID" in sql[name].upper()) == wanted, name
    assert {"rollup", "interface_rollup", "latest_result"} <= {
        n for n, t in metadata.tables.items() if t.dialect_options["sqlite"].get("with_rowid", True) is False}

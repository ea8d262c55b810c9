"""Shared fixtures: a fresh SQLite file, a fresh PostgreSQL schema, settings, migrated engines."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from infra_monitor.config import Settings, load_settings
from infra_monitor.db import import_all_models, make_engine
from tests.alone import MARK as ALONE
from tests.alone import lock_dir, room
from tests.requirements import require_postgres

pytest_plugins = ["tests.lab.fixtures"]


@pytest.fixture(autouse=True)
def _parallel_room(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Under xdist, a test marked ``alone`` runs with no other test beside it (see tests/alone.py)."""
    with room(lock_dir(tmp_path_factory.getbasetemp()), alone=request.node.get_closest_marker(ALONE) is not None):
        yield


def _settings_for(url: str, **env: str) -> Settings:
    environ = {"INFRA_MONITOR_DATABASE__URL": url, **env}
    return load_settings(None, environ=environ)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture(scope="session")
def pg_schema_url() -> Iterator[str]:
    """One fresh PostgreSQL schema per test session (so per xdist worker: a random name, never shared), dropped
    afterwards. The worker id in the name only tells a leftover schema's origin."""
    base = require_postgres()
    schema = f"t_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:12]}"
    admin = make_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    url = f"{base}{sep}options=-csearch_path%3D{schema}"
    try:
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _reset_pg(engine: Engine) -> None:
    """Empty the session schema (drop every table) so each test starts fresh."""
    with engine.begin() as conn:
        schema = conn.execute(text("select current_schema()")).scalar_one()
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database on each backend: a SQLite file, then a PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    url = request.getfixturevalue("pg_schema_url")
    engine = make_engine(url)
    _reset_pg(engine)
    engine.dispose()
    yield url


@pytest.fixture
def migrated_engine(db_url: str) -> Iterator[Engine]:
    """An engine on a fresh database whose schema was created by the alembic migrations."""
    from infra_monitor.db import upgrade

    import_all_models()
    engine = make_engine(db_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def settings_for():
    return _settings_for

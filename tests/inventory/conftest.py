"""Fixtures for the inventory tests: a fresh database per test on each backend, its session, and the CLI.

``engine`` builds on the shared ``db_url`` fixture (SQLite file, then a PostgreSQL schema, which skips
without PostgreSQL and fails under CI) and creates the schema with ``SQLModel.metadata.create_all``.
``other_database`` gives a second, empty database of the same backend (for round trips).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlmodel import SQLModel
from typer.testing import CliRunner, Result

from infra_monitor.cli import app
from infra_monitor.db import import_all_models, make_engine
from tests.requirements import require_postgres


def create_schema(url: str) -> Engine:
    import_all_models()
    engine = make_engine(url)
    SQLModel.metadata.create_all(engine)
    return engine


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = create_schema(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s


Cli = Callable[..., Result]


def _runner(url: str, monkeypatch: pytest.MonkeyPatch) -> Cli:
    def run(*args: str) -> Result:
        monkeypatch.setenv("INFRA_MONITOR_DATABASE__URL", url)
        return CliRunner().invoke(app, [str(a) for a in args])

    return run


@pytest.fixture
def cli(engine: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """``cli("import", path)`` runs the real ``infra-monitor`` command against the test database."""
    return _runner(db_url, monkeypatch)


@pytest.fixture
def other_database(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Engine, Cli]]:
    """A second empty database on the same backend, with a CLI bound to it."""
    if db_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'other.db'}"
        engine = create_schema(url)
        yield engine, _runner(url, monkeypatch)
        engine.dispose()
        return
    base = require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    engine = create_schema(url)
    try:
        yield engine, _runner(url, monkeypatch)
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

"""Fixtures for the inventory tests: an empty database per test on each backend, its session, and the CLI.

``engine`` is parametrized over SQLite (a new file per test) and PostgreSQL (one schema per module, emptied
before each test; skips without PostgreSQL and fails under CI). The schema comes from
``SQLModel.metadata.create_all``. ``other_database`` is a second empty database of the same backend.
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

Cli = Callable[..., Result]


def create_schema(url: str) -> Engine:
    import_all_models()
    engine = make_engine(url)
    SQLModel.metadata.create_all(engine)
    return engine


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


class _PgSchemas:
    """PostgreSQL schemas created for one test module, dropped at its end."""

    def __init__(self) -> None:
        self.base = require_postgres()
        self.admin = make_engine(self.base)
        self.engines: dict[str, Engine] = {}

    def engine(self, name: str) -> Engine:
        if name not in self.engines:
            schema = f"t_{uuid.uuid4().hex[:12]}"
            with self.admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            sep = "&" if "?" in self.base else "?"
            self.engines[name] = create_schema(f"{self.base}{sep}options=-csearch_path%3D{schema}")
        engine = self.engines[name]
        tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        return engine

    def close(self) -> None:
        for engine in self.engines.values():
            with engine.connect() as conn:
                schema = conn.execute(text("select current_schema()")).scalar_one()
            engine.dispose()
            with self.admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        self.admin.dispose()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> Iterator[_PgSchemas | None]:
    if request.param == "sqlite":
        yield None
        return
    schemas = _PgSchemas()
    yield schemas
    schemas.close()


def _database(backend: _PgSchemas | None, name: str, directory: Path) -> Iterator[Engine]:
    if backend is not None:
        yield backend.engine(name)
        return
    engine = create_schema(f"sqlite:///{directory / f'{name}.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def engine(backend: _PgSchemas | None, tmp_path: Path) -> Iterator[Engine]:
    """An empty database with the whole schema."""
    yield from _database(backend, "main", tmp_path)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s


def _runner(url: str, monkeypatch: pytest.MonkeyPatch) -> Cli:
    def run(*args: object) -> Result:
        monkeypatch.setenv("INFRA_MONITOR_DATABASE__URL", url)
        return CliRunner().invoke(app, ["--lang", "en", *(str(a) for a in args)])

    return run


@pytest.fixture
def cli(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """``cli("import", path)`` runs the real ``infra-monitor`` command against the test database."""
    return _runner(url_of(engine), monkeypatch)


@pytest.fixture
def other_database(backend: _PgSchemas | None, tmp_path: Path,
                   monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Engine, Cli]]:
    """A second empty database on the same backend, with a CLI bound to it."""
    for engine in _database(backend, "other", tmp_path):
        yield engine, _runner(url_of(engine), monkeypatch)

"""Fixtures of the REST API tests: a real database on each backend, the app, a client, a session.

Every test runs on a SQLite file and on PostgreSQL (skipped on a laptop without PostgreSQL, required under
CI: see tests/requirements.py). :func:`fresh_engine` is the one place that creates a database: an empty
SQLite file or an emptied PostgreSQL schema, with the schema from ``SQLModel.metadata``, once per module
(``database``); each test gets it emptied (``engine``), except in read-only modules, which fill it once and
override ``engine`` to keep the rows. The app is built once per admin token with ``web.app.create_app``
(FastAPI prepares its routes on the first request, which is slow) and pointed at the test's engine when a
client is made.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlmodel import SQLModel

from infra_monitor.config import Settings, WebConfig
from infra_monitor.db import import_all_models, make_engine
from web.app import create_app

TOKEN = "t0ken-for-api-tests"


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def fresh_engine(backend: str, request: pytest.FixtureRequest, directory: Path) -> Engine:
    """An engine on an empty database of ``backend`` holding every table of the metadata."""
    import_all_models()
    url = f"sqlite:///{directory / 'api.db'}" if backend == "sqlite" else request.getfixturevalue("pg_schema_url")
    engine = make_engine(url)
    if backend == "postgres":
        with engine.begin() as conn:
            schema = conn.execute(text("select current_schema()")).scalar_one()
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    SQLModel.metadata.create_all(engine)
    return engine


def empty(engine: Engine) -> None:
    """Delete every row of every table (children first), keeping the schema."""
    with engine.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture(scope="module")
def database(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """One database per backend and test module."""
    eng = fresh_engine(backend, request, tmp_path_factory.mktemp("api"))
    yield eng
    eng.dispose()


@pytest.fixture
def engine(database: Engine) -> Engine:
    """The module's database, emptied before the test (read-only modules override this to keep rows)."""
    empty(database)
    return database


@pytest.fixture(scope="session")
def apps() -> dict[str, FastAPI]:
    return {}


@pytest.fixture
def make_client(engine: Engine, apps: dict[str, FastAPI]) -> Callable[..., TestClient]:
    """``make_client(admin_token)``: a client of the app configured with that token ("" = read-only API)."""

    def build(admin_token: str = TOKEN) -> TestClient:
        app = apps.get(admin_token)
        if app is None:
            app = apps[admin_token] = create_app(Settings(web=WebConfig(admin_token=admin_token,
                                                                        base_url="http://testserver")), engine)
        app.state.engine = engine
        return TestClient(app, headers={"Authorization": f"Token {admin_token}"} if admin_token else None)

    return build


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client(TOKEN)


@pytest.fixture
def auth() -> dict[str, str]:
    return {"Authorization": f"Token {TOKEN}"}


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s

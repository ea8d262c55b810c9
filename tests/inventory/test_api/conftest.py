"""Fixtures of the REST API tests: a real database (SQLite file, then PostgreSQL), the app, a client.

The engine is built in one fixture over ``db_url`` (tests/conftest.py), which runs each test on SQLite and
on PostgreSQL (skipped on a laptop without PostgreSQL, required under CI).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlmodel import SQLModel

from infra_monitor.config import Settings, WebConfig
from infra_monitor.db import import_all_models, make_engine
from web.app import create_app

TOKEN = "t0ken-for-api-tests"


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    import_all_models()
    eng = make_engine(db_url)
    SQLModel.metadata.create_all(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def make_client(engine: Engine) -> Callable[[str], TestClient]:
    """A client of an app whose ``web.admin_token`` is the given one ("" = read-only API)."""

    def build(admin_token: str = TOKEN) -> TestClient:
        settings = Settings(web=WebConfig(admin_token=admin_token))
        return TestClient(create_app(settings, engine))

    return build


@pytest.fixture
def client(make_client: Callable[[str], TestClient]) -> TestClient:
    return make_client(TOKEN)


@pytest.fixture
def auth() -> dict[str, str]:
    return {"Authorization": f"Token {TOKEN}"}


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s

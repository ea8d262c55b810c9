"""Fixtures for the status persistence tests: a real database holding the inventory and status tables,
with a small province in it. ``status_db`` runs on SQLite then PostgreSQL (the store's SQL differs per
dialect); ``sqlite_db`` is for tests of delivery, where the backend does not matter."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlmodel import SQLModel

from infra_monitor.db import import_all_models, make_engine
from tests.status.inventory import Province, build_province


def _engine_with_tables(url: str) -> Engine:
    import_all_models()
    engine = make_engine(url)
    SQLModel.metadata.create_all(engine)
    return engine


@pytest.fixture
def status_db(db_url: str) -> Iterator[Engine]:
    """An engine on a fresh database (each backend) with every table created from the models."""
    engine = _engine_with_tables(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_db(sqlite_url: str) -> Iterator[Engine]:
    """An engine on a fresh SQLite file with every table created from the models."""
    engine = _engine_with_tables(sqlite_url)
    yield engine
    engine.dispose()


@pytest.fixture
def province(status_db: Engine) -> Province:
    with Session(status_db) as session:
        return build_province(session)


@pytest.fixture
def sqlite_province(sqlite_db: Engine) -> Province:
    with Session(sqlite_db) as session:
        return build_province(session)

"""Fixtures for the status persistence tests: a real database (SQLite file, then PostgreSQL) holding the
inventory and status tables, with a small province in it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlmodel import SQLModel

from infra_monitor.db import import_all_models, make_engine
from tests.status.inventory import Province, build_province


@pytest.fixture
def status_db(db_url: str) -> Iterator[Engine]:
    """An engine on a fresh database with every table created from the models."""
    import_all_models()
    engine = make_engine(db_url)
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def province(status_db: Engine) -> Province:
    with Session(status_db) as session:
        return build_province(session)

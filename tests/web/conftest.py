"""Fixtures of the status-page tests: a database holding a small built province, settings, a test client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from infra_monitor.config import Settings, load_settings
from infra_monitor.db import make_engine
from infra_monitor.readmodel import ReadModel
from tests.users import ADMIN_TOKEN
from tests.web.builders import HOSTILE, Province


@pytest.fixture
def web_url(tmp_path: Path) -> str:
    """A fresh SQLite file (test modules that must also run on PostgreSQL override this with ``db_url``)."""
    return f"sqlite:///{tmp_path / 'web.db'}"


@pytest.fixture
def engine(web_url: str) -> Iterator[Engine]:
    eng = make_engine(web_url)
    yield eng
    eng.dispose()


@pytest.fixture
def settings(web_url: str) -> Settings:
    return load_settings(None, environ={"INFRA_MONITOR_DATABASE__URL": web_url,
                                        "INFRA_MONITOR_WEB__ADMIN_TOKEN": ADMIN_TOKEN})


@pytest.fixture
def province(engine: Engine) -> Province:
    """Ten communes (the first named like an XSS attempt), all UP, fresh heartbeats."""
    return Province.build(engine, communes=10, names=[HOSTILE])


@pytest.fixture
def rm(engine: Engine, settings: Settings, province: Province) -> ReadModel:
    return ReadModel(engine, settings, cache_ttl_s=0)


@pytest.fixture
def client(engine: Engine, settings: Settings, province: Province) -> Iterator[TestClient]:
    """The real app on the province's database, with the aggregate cache off so every request reads the DB."""
    from web.app import create_app

    app = create_app(settings, engine)
    app.state.readmodel.cache.ttl_s = 0
    with TestClient(app, headers={"Authorization": f"Token {ADMIN_TOKEN}"}) as c:
        yield c

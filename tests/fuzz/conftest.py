"""Fixtures of the fuzz tests: a migrated SQLite file holding a small province, the real app on it, a client
with the admin token and the app's OpenAPI spec. Module-scoped: the fuzz run writes into its database.
Hypothesis keeps its caches in a temporary directory, not in a ``.hypothesis`` of the working tree."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis.configuration import set_hypothesis_home_dir
from sqlalchemy.engine import Engine

from infra_monitor.config import DatabaseConfig, Settings, WebConfig
from infra_monitor.db import make_engine, upgrade
from tests.web.builders import Province

ADMIN_TOKEN = "fuzz-admin-token-0123456789"
ADMIN = {"Authorization": f"Token {ADMIN_TOKEN}"}


def pytest_configure(config: pytest.Config) -> None:
    """Hypothesis' caches (it writes some while pytest collects) go to a temporary directory."""
    home = Path(tempfile.mkdtemp(prefix="hypothesis-"))
    config.add_cleanup(lambda: shutil.rmtree(home, ignore_errors=True))
    set_hypothesis_home_dir(home)


@pytest.fixture(scope="module")
def fuzz_province(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Province]:
    """A fresh SQLite file migrated by alembic, holding a province of three communes (so ids exist)."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}")
    upgrade(engine)
    yield Province.build(engine, communes=3)
    engine.dispose()


@pytest.fixture(scope="module")
def fuzz_engine(fuzz_province: Province) -> Engine:
    return fuzz_province.engine


@pytest.fixture(scope="module")
def fuzz_app(fuzz_engine: Engine) -> FastAPI:
    """The real app with the admin token configured and the anonymous public summary on."""
    from web.app import create_app

    settings = Settings(database=DatabaseConfig(url=str(fuzz_engine.url)),
                        web=WebConfig(admin_token=ADMIN_TOKEN, public_summary=True))
    return create_app(settings, fuzz_engine)


@pytest.fixture(scope="module")
def api(fuzz_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(fuzz_app, headers=ADMIN, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope="module")
def spec(api: TestClient) -> dict[str, Any]:
    response = api.get("/api/openapi.json")
    assert response.status_code == 200
    return dict(response.json())

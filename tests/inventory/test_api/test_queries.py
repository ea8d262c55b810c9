"""A list costs the same number of SQL queries whatever its page size (no N+1), and pages are capped."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from inventory.models import Tag
from tests.inventory.test_api.builders import many_devices, province

DEVICES = 520
TAGS = 1010


@pytest.fixture(scope="module")
def data(database: Engine) -> None:
    with Session(database, expire_on_commit=False) as session:
        many_devices(session, province(session), DEVICES)
        session.execute(insert(Tag), [{"slug": f"tag-{i}", "name": f"Tag {i}"} for i in range(TAGS)])
        session.commit()


@pytest.fixture
def engine(database: Engine, data: None) -> Engine:
    return database


@contextmanager
def counting_queries(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def queries_for(client: TestClient, engine: Engine, url: str, limit: int) -> tuple[int, int]:
    with counting_queries(engine) as statements:
        resp = client.get(url, params={"limit": limit})
    assert resp.status_code == 200, resp.text
    return len(statements), len(resp.json()["results"])


@pytest.mark.parametrize("url", [
    "/api/dcim/devices/",
    "/api/dcim/interfaces/",
    "/api/ipam/ip-addresses/",
    "/api/dcim/sites/",
    "/api/dcim/regions/",
    "/api/circuits/circuit-terminations/",
    "/api/extras/object-changes/",
])
def test_list_query_count_does_not_grow_with_page_size(client: TestClient, engine: Engine, url: str) -> None:
    client.get(url)  # warm the connection pool so both measurements start alike
    small, small_rows = queries_for(client, engine, url, 5)
    large, large_rows = queries_for(client, engine, url, 500)
    assert small == large
    assert small_rows == min(5, large_rows)


def test_device_page_of_500_loads_each_relation_once(client: TestClient, engine: Engine) -> None:
    count, rows = queries_for(client, engine, "/api/dcim/devices/", 500)
    assert rows == 500
    # count + page + one IN query for each of the 8 relations (site, role, type, platform, rack, parent,
    # SNMP profile, primary IP); on SQLite also the BEGIN the engine issues itself
    assert count - (1 if engine.dialect.name == "sqlite" else 0) <= 2 + 8


def test_limit_defaults_to_50_and_is_capped_at_1000(client: TestClient) -> None:
    assert len(client.get("/api/extras/tags/").json()["results"]) == 50
    capped = client.get("/api/extras/tags/", params={"limit": 5000}).json()
    assert capped["count"] == TAGS
    assert len(capped["results"]) == 1000
    assert capped["next"] == "http://testserver/api/extras/tags/?limit=1000&offset=1000"
    assert len(client.get(capped["next"]).json()["results"]) == TAGS - 1000

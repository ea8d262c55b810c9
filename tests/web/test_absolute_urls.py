"""Absolute URLs come from ``web.base_url`` (``web.public_base()``), never from the request's Host header: a
client sending ``Host: evil.example`` gets ``url`` fields, pagination links, API roots and redirects that start
with the configured base (with its path prefix, if any). On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from infra_monitor.config import Settings, WebConfig
from web.app import create_app

TOKEN = "t0ken-for-url-tests"
EVIL = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}


def _client(engine: Engine, **web: Any) -> TestClient:
    app = create_app(Settings(web=WebConfig(admin_token=TOKEN, **web)), engine)
    return TestClient(app, headers={"Authorization": f"Token {TOKEN}"}, follow_redirects=False)


@pytest.fixture
def filled(migrated_engine: Engine) -> Engine:
    with _client(migrated_engine) as c:
        for slug in ("ubnd-a", "ubnd-b", "ubnd-c"):
            assert c.post("/api/tenancy/tenants/", json={"slug": slug, "name": slug}).status_code == 201
        window = {"name": "w", "start": "2027-01-01T01:00:00", "end": "2027-01-01T02:00:00"}
        for _ in range(3):
            assert c.post("/api/status/maintenance/", json=window).status_code == 201
    return migrated_engine


def _links(c: TestClient) -> list[str]:
    """Every absolute URL of the answers that carry one."""
    page = c.get("/api/tenancy/tenants/?limit=1&offset=1", headers=EVIL).json()
    out = [page["next"], page["previous"], *(r["url"] for r in page["results"])]
    out += list(c.get("/api/", headers=EVIL).json().values())
    out += list(c.get("/api/tenancy/", headers=EVIL).json().values())
    windows = c.get("/api/status/maintenance/?limit=1&offset=1", headers=EVIL).json()
    out += [windows["next"], windows["previous"]]
    out.append(c.get("/api/tenancy/tenants", headers=EVIL).headers["location"])   # trailing-slash redirect
    return out


@pytest.fixture
def configured(filled: Engine) -> Iterator[TestClient]:
    with _client(filled, base_url="https://giamsat.example.vn") as c:
        yield c


def test_links_start_with_the_configured_base_whatever_the_host_header(configured: TestClient) -> None:
    links = _links(configured)
    assert len(links) >= 12
    assert all(link.startswith("https://giamsat.example.vn/api/") for link in links), links
    page = configured.get("/api/tenancy/tenants/?limit=1", headers=EVIL).json()
    assert page["next"] == "https://giamsat.example.vn/api/tenancy/tenants/?limit=1&offset=1"
    assert configured.get(page["next"]).json()["results"][0]["slug"] == "ubnd-b"


def test_a_path_prefix_of_the_base_is_in_every_link(filled: Engine) -> None:
    with _client(filled, base_url="https://giamsat.example.vn/im/") as c:
        links = _links(c)
        assert all(link.startswith("https://giamsat.example.vn/im/api/") for link in links), links
        # behind a proxy that strips the prefix and behind one that passes it on
        assert c.get("/api/tenancy/tenants/", headers=EVIL).json()["count"] == 3
        assert c.get("/im/api/tenancy/tenants/", headers=EVIL).json()["count"] == 3


def test_without_base_url_links_use_the_configured_host_and_port(filled: Engine) -> None:
    with _client(filled, host="10.20.0.5", port=8080) as c:
        links = _links(c)
    assert all(link.startswith("http://10.20.0.5:8080/api/") for link in links), links

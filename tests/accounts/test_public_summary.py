"""``web.public_summary``: off by default; on, anyone reads coverage and counts at /public and
/api/public/summary, and nothing that locates or names equipment."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine

from infra_monitor.config import Settings, WebConfig
from tests.users import ADMIN_TOKEN
from tests.web.builders import Province


def _client(engine: Engine, public: bool) -> TestClient:
    from web.app import create_app

    app = create_app(Settings(web=WebConfig(public_summary=public, admin_token=ADMIN_TOKEN)), engine)
    app.state.readmodel.cache.ttl_s = 0
    return TestClient(app, follow_redirects=False)


def test_public_summary_is_off_by_default(migrated_engine: Engine) -> None:
    Province.build(migrated_engine, communes=3)
    client = _client(migrated_engine, public=False)
    assert client.get("/public").status_code == 303
    assert client.get("/api/public/summary").status_code == 401
    signed = {"Authorization": f"Token {ADMIN_TOKEN}"}
    assert client.get("/api/public/summary", headers=signed).status_code == 404
    assert "/public" not in client.get("/login").text


def test_public_summary_shows_counts_and_nothing_that_locates_equipment(migrated_engine: Engine) -> None:
    Province.build(migrated_engine, communes=3)
    with migrated_engine.connect() as conn:
        names = list(conn.execute(text("SELECT name FROM device")).scalars())
        hosts = list(conn.execute(text("SELECT host FROM ip_address")).scalars())
        sites = list(conn.execute(text("SELECT name FROM site")).scalars())
    client = _client(migrated_engine, public=True)
    assert 'href="/public"' in client.get("/login").text
    page = client.get("/public")
    assert page.status_code == 200 and 'id="public-counts"' in page.text
    data = client.get("/api/public/summary").json()
    assert {row["level"] for row in data["coverage"]} >= {"commune", "district"}
    assert sum(data["devices"].values()) == len(names)
    secrets = names + hosts + sites
    for body in (page.text, str(data)):
        leaked = [s for s in secrets if s in body]
        assert leaked == []
    assert "<a href=\"/sites" not in page.text
    assert client.get("/api/dcim/sites/").status_code == 401        # the rest stays closed
    assert client.get("/").status_code == 303

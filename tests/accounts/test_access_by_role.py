"""Access through the real app, tried with no token, a viewer, an operator, a read-only operator token, an
expired token, a revoked token, a disabled user, a user's admin token and the configured admin token.

Every page and read endpoint needs a user; inventory writes need admin; maintenance windows and reports
need operator; the change log records who wrote.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from infra_monitor.accounts.tokens import revoke_token
from infra_monitor.accounts.users import set_active
from infra_monitor.config import Settings, WebConfig
from tests.users import ADMIN_TOKEN, bearer, token_for

SITE = {"slug": "so-tt-tt", "name": "Sở Thông tin và Truyền thông", "category": "department"}
READS = ["/api/dcim/sites/", "/api/dcim/devices/", "/api/ipam/ip-addresses/", "/api/circuits/circuits/",
         "/api/extras/object-changes/", "/api/extras/snmp-profiles/", "/api/status/events/",
         "/api/status/maintenance/", "/api/status/overview", "/api/openapi.json", "/api/docs"]
PAGES = ["/", "/sites", "/map", "/events", "/reports", "/inventory/sites"]


def _window() -> dict[str, object]:
    start = datetime.now(UTC) + timedelta(hours=1)
    return {"name": "Bảo trì", "scope_type": "site", "scope": "so-tt-tt", "kind": "one_off",
            "start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()}


@pytest.fixture
def app_client(migrated_engine: Engine) -> Iterator[TestClient]:
    from web.app import create_app

    app = create_app(Settings(web=WebConfig(admin_token=ADMIN_TOKEN)), migrated_engine)
    with TestClient(app, follow_redirects=False) as client:
        yield client


@pytest.fixture
def tokens(migrated_engine: Engine) -> dict[str, str]:
    now = datetime.now(UTC)
    out = {
        "viewer": token_for(migrated_engine, "vien", "viewer"),
        "operator": token_for(migrated_engine, "van-hanh", "operator"),
        "operator_ro": token_for(migrated_engine, "van-hanh", "operator", read_only=True),
        "admin_user": token_for(migrated_engine, "quan-tri", "admin"),
        "expired": token_for(migrated_engine, "vien", "viewer", expires=now + timedelta(seconds=1),
                             now=now - timedelta(hours=1)),
    }
    with migrated_engine.begin() as conn:    # expire it without waiting
        conn.execute(text("UPDATE account_token SET expires = :t WHERE id = (SELECT max(id) FROM account_token)"),
                     {"t": (now - timedelta(minutes=1)).replace(tzinfo=None)})
    return out


def test_without_a_token_only_login_static_and_health_answer(app_client: TestClient) -> None:
    for path in READS:
        resp = app_client.get(path)
        assert resp.status_code == 401, path
        assert resp.headers["www-authenticate"] == "Token"
        assert "sites" not in resp.text and "so-tt" not in resp.text
    for path in PAGES:
        resp = app_client.get(path)
        assert resp.status_code == 303 and resp.headers["location"].startswith("/login"), path
    assert app_client.get("/sites?level=commune").headers["location"] == "/login?next=%2Fsites%3Flevel%3Dcommune"
    assert app_client.post("/api/dcim/sites/", json=SITE).status_code == 401
    assert app_client.get("/login").status_code == 200
    assert app_client.get("/static/app.css").status_code == 200
    assert app_client.get("/healthz").text == "ok"
    assert app_client.get("/public").status_code == 303           # public_summary is off by default
    assert app_client.get("/api/public/summary").status_code == 401


@pytest.mark.parametrize("header", ["Token wrong-token", "Bearer imt_0123456789ab_nope", "Token ", "Basic dDBrZW4="])
def test_a_wrong_token_reads_nothing(app_client: TestClient, header: str) -> None:
    for path in ("/api/dcim/sites/", "/api/extras/snmp-profiles/", "/"):
        assert app_client.get(path, headers={"Authorization": header}).status_code in (401, 303)
    assert app_client.get("/api/dcim/sites/", headers={"Authorization": header}).status_code == 401


def test_expired_revoked_and_disabled_tokens_are_refused(app_client: TestClient, tokens: dict[str, str],
                                                         migrated_engine: Engine) -> None:
    resp = app_client.get("/api/dcim/sites/", headers=bearer(tokens["expired"]))
    assert resp.status_code == 401 and "expired" in resp.json()["detail"]
    assert app_client.get("/api/dcim/sites/", headers=bearer(tokens["viewer"])).status_code == 200
    with Session(migrated_engine) as session:
        revoke_token(session, tokens["viewer"].split("_")[1])
        session.commit()
    assert app_client.get("/api/dcim/sites/", headers=bearer(tokens["viewer"])).status_code == 401
    assert app_client.get("/api/dcim/sites/", headers=bearer(tokens["operator"])).status_code == 200
    with Session(migrated_engine) as session:
        set_active(session, "van-hanh", False)
        session.commit()
    resp = app_client.get("/api/dcim/sites/", headers=bearer(tokens["operator"]))
    assert resp.status_code == 401 and "disabled" in resp.json()["detail"]


def test_each_role_gets_exactly_its_access(app_client: TestClient, tokens: dict[str, str]) -> None:
    viewer, operator, ro = bearer(tokens["viewer"]), bearer(tokens["operator"]), bearer(tokens["operator_ro"])
    admin_user, admin = bearer(tokens["admin_user"]), {"Authorization": f"Token {ADMIN_TOKEN}"}
    for who in (viewer, operator, ro, admin_user, admin):
        for path in READS:
            assert app_client.get(path, headers=who).status_code == 200, path
        for path in PAGES:
            expected = 403 if who is viewer and path == "/reports" else 200
            assert app_client.get(path, headers=who).status_code == expected, path

    # inventory writes: admin only
    assert app_client.post("/api/dcim/sites/", json=SITE, headers=viewer).status_code == 403
    refused = app_client.post("/api/dcim/sites/", json=SITE, headers=operator)
    assert refused.status_code == 403 and "admin role" in refused.json()["detail"]
    assert app_client.post("/api/dcim/sites/", json=SITE, headers=ro).status_code == 403
    assert app_client.post("/api/dcim/sites/", json=SITE, headers=admin_user).status_code == 201
    assert app_client.patch("/api/dcim/sites/1/", json={"description": "x"}, headers=admin).status_code == 200

    # maintenance windows: operator and up, never through a read-only token
    assert app_client.post("/api/status/maintenance/", json=_window(), headers=viewer).status_code == 403
    ro_refused = app_client.post("/api/status/maintenance/", json=_window(), headers=ro)
    assert ro_refused.status_code == 403 and "read-only" in ro_refused.json()["detail"]
    created = app_client.post("/api/status/maintenance/", json=_window(), headers=operator)
    assert created.status_code == 201, created.text

    # running a report: operator and up
    report = "/api/reports/coverage?from=2026-11-01&to=2026-12-01"
    assert app_client.get(report, headers=viewer).status_code == 403
    assert app_client.get(report, headers=operator).status_code == 200
    assert app_client.get(report, headers=admin).status_code == 200

    # the change log names the real actor
    changes = app_client.get("/api/extras/object-changes/", headers=viewer).json()["results"]
    actors = {c["actor"] for c in changes}
    assert "quan-tri (token #4)" in actors and "api:admin" in actors
    assert any(a.startswith("van-hanh (token #") for a in actors)


def test_snmp_user_names_and_secrets_need_a_user(app_client: TestClient, tokens: dict[str, str]) -> None:
    admin = {"Authorization": f"Token {ADMIN_TOKEN}"}
    made = app_client.post("/api/extras/snmp-profiles/", headers=admin, json={
        "name": "v3", "version": "3", "user": "noc-user", "auth_protocol": "sha", "auth_key": "k" * 12})
    assert made.status_code == 201, made.text
    assert "noc-user" not in app_client.get("/api/extras/snmp-profiles/").text
    seen = app_client.get("/api/extras/snmp-profiles/", headers=bearer(tokens["viewer"])).text
    assert "noc-user" in seen and "k" * 12 not in seen

"""Hostile or broken requests get a short 4xx (or one short 500), never a traceback: ids beyond BIGINT,
JSON nested 100,000 deep, an unexpected exception."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from infra_monitor.config import load_settings
from tests.web.builders import Province
from web.app import create_app

HUGE = "99999999999999999999"   # > 2^63


@pytest.fixture
def hostile(engine, web_url: str, province: Province):  # type: ignore[no-untyped-def]
    settings = load_settings(None, environ={"INFRA_MONITOR_DATABASE__URL": web_url,
                                            "INFRA_MONITOR_WEB__ADMIN_TOKEN": "t0ken-for-tests"})
    app = create_app(settings, engine)

    @app.get("/api/test-boom", include_in_schema=False)
    def boom() -> None:
        raise RuntimeError("boom " + "x" * 5000)

    with TestClient(app, raise_server_exceptions=False, headers={"Authorization": "Token t0ken-for-tests"}) as client:
        yield client


@pytest.mark.parametrize("url", [f"/api/status/devices/{HUGE}", f"/api/status/devices/{HUGE}/series",
                                 f"/api/status/maintenance/{HUGE}/", "/api/status/devices/0"])
def test_ids_beyond_bigint_are_4xx(hostile: TestClient, url: str) -> None:
    r = hostile.get(url)
    assert 400 <= r.status_code < 500, (url, r.status_code, r.text[:200])


def test_device_page_with_a_huge_id_is_not_found(hostile: TestClient) -> None:
    assert hostile.get(f"/devices/{HUGE}").status_code == 404


@pytest.mark.parametrize("path", ["/api/dcim/sites/", "/api/status/maintenance/"])
def test_json_nested_100000_deep_is_400(hostile: TestClient, path: str) -> None:
    body = "[" * 100_000 + "]" * 100_000
    r = hostile.post(path, content=body, headers={"Content-Type": "application/json",
                                                  "Authorization": "Token t0ken-for-tests"})
    assert r.status_code == 400, r.text[:200]


def test_an_unexpected_error_is_one_short_line_and_a_json_500(hostile: TestClient,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="web.errors"):
        r = hostile.get("/api/test-boom")
    assert r.status_code == 500 and r.json()["detail"].startswith("internal error")
    assert "boom" not in r.text and "Traceback" not in r.text
    lines = [rec for rec in caplog.records if rec.name == "web.errors" and rec.levelno >= logging.ERROR]
    assert len(lines) == 1 and len(lines[0].getMessage()) < 400 and lines[0].exc_info is None
    assert r.headers["x-request-id"] in lines[0].getMessage()


@pytest.mark.parametrize("url", ["/", "/sites", "/reports", "/api/status/overview", "/static/app.css",
                                 "/api/test-boom"])
def test_every_answer_carries_the_security_headers(hostile: TestClient, url: str) -> None:
    h = hostile.get(url).headers
    assert "script-src 'self'" in h["content-security-policy"] and "'unsafe-eval'" not in h[
        "content-security-policy"]
    assert "frame-ancestors 'none'" in h["content-security-policy"]
    assert (h["x-frame-options"], h["x-content-type-options"], h["referrer-policy"]) == (
        "DENY", "nosniff", "same-origin")

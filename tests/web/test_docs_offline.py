"""``/api/docs`` works on an isolated network: Swagger UI comes from the app itself (``/static/swagger/``), the
page references no http(s) URL outside the app, carries the app's strict Content-Security-Policy (no inline
script), and renders every operation in Debian's chromium with every request to another origin blocked."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from infra_monitor.config import Settings, WebConfig
from infra_monitor.db import make_engine
from tests.browser import CHROMIUM, CHROMIUM_ARGS, require_chromium, served
from tests.users import ensure_user, sign_in
from tests.web.builders import Province
from web.app import create_app
from web.headers import CSP

TOKEN = "t0ken-for-docs-tests"
WAIT_MS = 30_000
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


@pytest.fixture
def docs_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'docs.db'}")
    Province.build(engine, communes=2)
    ensure_user(engine, "truc-ca", "operator")
    yield engine
    engine.dispose()


def _app(engine: Engine) -> object:
    return create_app(Settings(web=WebConfig(admin_token=TOKEN)), engine)


def test_docs_page_is_local_and_under_the_strict_csp(docs_engine: Engine) -> None:
    with TestClient(_app(docs_engine), headers={"Authorization": f"Token {TOKEN}"}) as client:  # type: ignore[arg-type]
        r = client.get("/api/docs")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        assert r.headers["content-security-policy"] == CSP
        assert re.findall(r"https?://", r.text) == []          # nothing from outside the app
        assert "<script>" not in r.text and "onload=" not in r.text   # no inline script
        sources = re.findall(r'(?:src|href)="([^"]+)"', r.text)
        assert sources and all(s.startswith("/static/") for s in sources), sources
        for src in sources:
            asset = client.get(src)
            assert asset.status_code == 200, src
            assert asset.headers["content-security-policy"] == CSP
        assert client.get("/api/openapi.json").json()["paths"]
    with TestClient(_app(docs_engine)) as anonymous:   # type: ignore[arg-type]
        assert anonymous.get("/api/docs").status_code == 401


def test_docs_render_every_operation_in_chromium_without_outside_network(docs_engine: Engine) -> None:
    require_chromium()
    from playwright.sync_api import Route, sync_playwright

    app = _app(docs_engine)
    with TestClient(app, headers={"Authorization": f"Token {TOKEN}"}) as client:   # type: ignore[arg-type]
        spec = client.get("/api/openapi.json").json()
    expected = {f"operations-{op.get('tags', ['default'])[0]}-{op['operationId']}"
                for ops in spec["paths"].values() for op in ops.values()}
    SHOTS.mkdir(parents=True, exist_ok=True)
    with served(app) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            outside: list[str] = []
            problems: list[str] = []

            def isolate(route: Route) -> None:     # the isolated network: only the app answers
                if route.request.url.startswith(base + "/"):
                    route.continue_()
                else:
                    outside.append(route.request.url)
                    route.abort()

            page.route("**/*", isolate)
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            sign_in(page, base, "truc-ca")
            page.goto(base + "/api/docs")
            page.wait_for_selector(".opblock", timeout=WAIT_MS)
            page.screenshot(path=str(SHOTS / "api_docs.png"))
            seen: set[str] = set()
            for _ in range(2000):                  # Swagger UI draws the sections in view: scroll through all
                seen.update(page.locator(".opblock").evaluate_all("els => els.map(e => e.id)"))
                if seen >= expected:
                    break
                page.mouse.wheel(0, 600)
                page.wait_for_timeout(20)
            assert seen == expected and len(expected) > 100
            assert page.locator("#swagger-ui").get_attribute("data-csrf")    # "Try it out" can write
            assert outside == []
            assert problems == []                  # no CSP violation, no script error
        finally:
            browser.close()

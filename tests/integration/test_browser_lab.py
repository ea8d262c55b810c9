"""The operator's view of a real outage: lab hosts, the real poller and web app, Debian's chromium.

The overview is open in the browser; a district router and the communes behind it go dark in the lab
namespace; without a reload the overview shows the district router as the root cause.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from infra_monitor.config import load_settings
from infra_monitor.db import make_engine, upgrade
from infra_monitor.scheduler import PollerThread
from inventory.importer import import_document
from tests.integration.test_outage_lab import COMMUNES, _doc
from tests.requirements import missing
from tests.users import ensure_user, sign_in

pytestmark = [pytest.mark.lab, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_overview_shows_a_lab_outage_without_reloading(lab: Any, tmp_path: Path) -> None:
    if not shutil.which(CHROMIUM) or not os.path.exists(CHROMIUM):
        missing(f"{CHROMIUM} is not installed (apt-get install chromium)")
    import uvicorn
    from playwright.sync_api import expect, sync_playwright

    from web.app import create_app

    names = ["dc-core", "rt-h1", "rt-h2", "rt-x", *[f"rt-{c}" for c in COMMUNES]]
    ips = dict(zip(names, lab.add_hosts(len(names)), strict=True))
    url = f"sqlite:///{tmp_path / 'live.db'}"
    settings = load_settings(None, environ={
        "INFRA_MONITOR_DATABASE__URL": url, "INFRA_MONITOR_PROBES__ICMP__INTERVAL_S": "2",
        "INFRA_MONITOR_PROBES__ICMP__TIMEOUT_S": "0.5", "INFRA_MONITOR_PROBES__ICMP__PACKETS": "1",
        "INFRA_MONITOR_PROBES__ICMP__RETRIES": "1", "INFRA_MONITOR_PROBES__ICMP__JITTER_S": "0",
        "INFRA_MONITOR_PROBES__SNMP__ENABLED": "false", "INFRA_MONITOR_PROBES__TCP__ENABLED": "false",
        "INFRA_MONITOR_PROBES__HTTP__ENABLED": "false",
    })
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as s:
        assert import_document(s, _doc(ips), source="lab").ok
    ensure_user(engine, "truc-ca", "viewer")
    poller = PollerThread(settings, engine)
    server = uvicorn.Server(uvicorn.Config(create_app(settings, engine), host="127.0.0.1", port=_free_port(),
                                           log_level="warning"))
    web = threading.Thread(target=server.run, daemon=True)
    poller.start()
    web.start()
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert web.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        base = f"http://127.0.0.1:{server.config.port}"
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                page = browser.new_page(viewport={"width": 1366, "height": 768})
                sign_in(page, base, "truc-ca", next_path="/?lang=en")
                # Locators, not wait_for_function: the pages' CSP forbids eval, and the test runs under it.
                expect(page.locator(".count.s-up .n")).to_have_text(str(len(names)), timeout=20_000)
                page.evaluate("window.__notReloaded = true")
                page.screenshot(path=str(SHOTS / "lab_01_all_up.png"), full_page=True)
                for name in ["rt-h1", *[f"rt-{c}" for c in COMMUNES]]:
                    lab.host_down(ips[name])
                page.locator("#problems", has_text="rt-h1").wait_for(timeout=30_000)
                expect(page.locator(".count.s-unreachable .n")).to_have_text(str(len(COMMUNES)), timeout=30_000)
                assert page.evaluate("window.__notReloaded") is True
                assert page.locator(".count.s-down .n").inner_text().strip() == "1"
                page.screenshot(path=str(SHOTS / "lab_02_district_down.png"), full_page=True)
            finally:
                browser.close()
    finally:
        server.should_exit = True
        web.join(timeout=10)
        poller.stop()
        engine.dispose()

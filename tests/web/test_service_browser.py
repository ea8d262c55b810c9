"""The services pages in a real browser (Debian's chromium via Playwright) after a real TCP sweep against a
loopback listener: the list filters (a form in the URL) and sorts by a column; a service page shows its state
pill from its checks, its availability with the time it stands on, and one uPlot graph per check drawn on a
canvas; the overview's hosted-systems panel links the one down; no console error or CSP violation. A
screenshot goes to ``artifacts/screenshots/service.png``."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from infra_monitor.db import make_engine
from tests.browser import CHROMIUM, CHROMIUM_ARGS, require_chromium, served
from tests.users import ensure_user, sign_in
from tests.web.builders import Province

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
WAIT_MS = 20_000


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, dict[str, Any]]]:
    """The app under uvicorn after two real TCP sweeps: "Quản lý văn bản" listens, "Thư điện tử" has one port
    listening and one closed, "Cổng dịch vụ công" is planned (not checked)."""
    require_chromium()
    from infra_monitor.cli import app as cli
    from infra_monitor.config import load_settings
    from inventory.models import Device, IPAddress, Service
    from web.app import create_app

    url = f"sqlite:///{tmp_path / 'services.db'}"
    engine = make_engine(url)
    province = Province.build(engine, communes=2)
    with Session(engine) as s:
        device = s.get(Device, province.core)
        assert device is not None and device.primary_ip_id is not None
        ip = s.get(IPAddress, device.primary_ip_id)
        assert ip is not None
        host = str(ip.address).split("/")[0]
    listener = socket.socket()
    listener.bind((host, 0))
    listener.listen()
    port = listener.getsockname()[1]
    closed = socket.socket()
    closed.bind((host, 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    with Session(engine) as s:
        rows = [Service(device_id=province.core, name="Quản lý văn bản", kind="tcp", ports=[port],
                        counts_toward="hosted_systems", criticality="high"),
                Service(device_id=province.core, name="Thư điện tử", kind="tcp", ports=[port, closed_port],
                        counts_toward="hosted_systems", criticality="critical"),
                Service(device_id=province.core, name="Cổng dịch vụ công", kind="tcp", ports=[port],
                        counts_toward="hosted_systems", status="planned")]
        s.add_all(rows)
        s.commit()
        ids = {r.name: r.id for r in rows}
    monkeypatch.setenv("INFRA_MONITOR_DATABASE__URL", url)
    try:
        for _ in range(2):
            sweep = CliRunner().invoke(cli, ["--lang", "en", "probe", "--once", "--kind", "tcp", "--json"])
            assert sweep.exit_code == 0, sweep.output
    finally:
        listener.close()
    settings = load_settings(None, environ={"INFRA_MONITOR_DATABASE__URL": url})
    ensure_user(engine, "truc-ca", "operator")
    try:
        with served(create_app(settings, engine)) as base:
            yield base, {"ids": ids, "port": port, "closed": closed_port}
    finally:
        engine.dispose()


def _names(page: Any) -> list[str]:
    return [str(n) for n in page.locator("#services-table tbody tr td:first-child a").all_inner_texts()]


def test_services_list_filters_sorts_and_a_service_page_draws_its_checks(live: tuple[str, dict[str, Any]]) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, world = live
    ids = world["ids"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" or
                    "Content Security Policy" in m.text else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            sign_in(page, base, "truc-ca", next_path="/services?lang=en")
            assert sorted(_names(page)) == sorted(ids)
            # sort by name, twice: ascending then descending, the state of the sort in the URL
            page.click("a.sort[data-sort='name']")
            page.wait_for_url(lambda u: "sort=name" in u)
            assert _names(page) == sorted(ids)
            page.click("a.sort[data-sort='name']")
            page.wait_for_url(lambda u: "sort=-name" in u)
            assert _names(page) == sorted(ids, reverse=True)
            # filter: planned ones only, through the form
            page.select_option("#services-filters select[name='status']", "planned")
            page.click("#services-filters button[type='submit']")
            page.wait_for_url(lambda u: "status=planned" in u)
            assert _names(page) == ["Cổng dịch vụ công"]
            page.goto(base + "/services?hosted=yes&sort=name&lang=en")
            expect(page.locator(f"tr[data-service='{ids['Thư điện tử']}']")).to_have_attribute("data-state", "down")
            expect(page.locator(f"tr[data-service='{ids['Quản lý văn bản']}']")).to_have_attribute(
                "data-state", "up")
            expect(page.locator(f"tr[data-service='{ids['Quản lý văn bản']}'] td[data-availability]")
                   ).to_have_attribute("data-availability", "100.0")

            # a service page: its pill, its availability, a drawn graph per check
            page.click(f"a[href='/services/{ids['Thư điện tử']}']")
            page.wait_for_url(lambda u: f"/services/{ids['Thư điện tử']}" in u)
            expect(page.locator("#service-state")).to_have_attribute("data-state", "down")
            expect(page.locator(f"tr[data-check$=':tcp:{world['port']}']")).to_have_attribute("data-state", "up")
            expect(page.locator(f"tr[data-check$=':tcp:{world['closed']}']")).to_have_attribute("data-state", "down")
            expect(page.locator("#service-availability dd[data-period='24h'] .avail")).to_have_text("0.00%")
            expect(page.locator("#service-availability dd[data-period='24h'] .avail-span")).to_contain_text("of 24 h")
            # the port that answers has a latency to draw; the closed one has none and says so
            page.wait_for_selector(f".check-graph[data-check$=':tcp:{world['port']}'][aria-busy='false'] "
                                   ".uplot canvas", state="attached", timeout=WAIT_MS)
            page.wait_for_selector(f".check-graph[data-check$=':tcp:{world['closed']}'][aria-busy='false'] "
                                   ".graph-empty", state="attached", timeout=WAIT_MS)
            page.screenshot(path=str(SHOTS / "service.png"), full_page=True)

            page.goto(base + f"/services/{ids['Quản lý văn bản']}?lang=en")
            expect(page.locator("#service-state")).to_have_attribute("data-state", "up")
            expect(page.locator("#service-availability dd[data-period='24h'] .avail")).to_have_text("100.00%")

            # the overview's panel: counts and a link to the one down
            page.goto(base + "/?lang=en")
            panel = page.locator("#hosted-systems")
            expect(panel.locator("[data-hosted='down'] strong")).to_have_text("1")
            expect(panel.locator("[data-hosted='up'] strong")).to_have_text("1")
            panel.locator(f"a[data-hosted-down='{ids['Thư điện tử']}']").click()
            page.wait_for_url(lambda u: f"/services/{ids['Thư điện tử']}" in u)
            assert problems == [], problems
        finally:
            browser.close()

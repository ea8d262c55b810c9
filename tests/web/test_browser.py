"""The status page in a real browser (Debian's chromium driven by Playwright, never a downloaded browser).

The real app runs under uvicorn on a free loopback port with a temporary SQLite database. The test opens
the overview, switches language, drills into a district, opens a site and waits for its graph to be drawn,
then changes a device's state in the database and watches the overview change without a reload.
Screenshots of every step go to ``artifacts/screenshots/`` (git-ignored).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from infra_monitor.db import make_engine
from tests.browser import CHROMIUM, CHROMIUM_ARGS, require_chromium, served
from tests.users import ensure_user, sign_in
from tests.web.builders import Province

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
WAIT_MS = 20_000


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[str, Province]]:
    """The app served by uvicorn in a thread; yields its base URL and the province behind it."""
    require_chromium()
    from infra_monitor.config import load_settings
    from web.app import create_app

    url = f"sqlite:///{tmp_path / 'browser.db'}"
    engine = make_engine(url)
    province = Province.build(engine, communes=12)
    province.measurements([province.commune_routers[2]], hours=24)
    province.traffic([province.commune_interfaces[2]], bps=35e6, hours=6)
    province.intervals([province.core, *province.district_routers, *province.commune_routers])
    # a 4-second ICMP interval makes the overview refresh every second (a quarter of the interval)
    settings = load_settings(None, environ={"INFRA_MONITOR_DATABASE__URL": url,
                                            "INFRA_MONITOR_PROBES__ICMP__INTERVAL_S": "4",
                                            "INFRA_MONITOR_PROBES__ICMP__TIMEOUT_S": "1"})
    ensure_user(engine, "truc-ca", "operator")
    try:
        with served(create_app(settings, engine)) as base:
            yield base, province
    finally:
        engine.dispose()


def test_operator_walks_from_overview_to_a_site_graph_and_sees_live_changes(live: tuple[str, Province]) -> None:
    from playwright.sync_api import sync_playwright

    base, province = live
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            violations: list[str] = []
            page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
            page.goto(base + "/")
            assert "/login" in page.url                  # nothing is shown before signing in
            page.screenshot(path=str(SHOTS / "00_login_vi.png"), full_page=True)
            sign_in(page, base, "truc-ca")
            assert page.locator("#signed-in").inner_text().startswith("Người dùng: truc-ca")
            assert page.locator(".brand .province").inner_text() == "Tỉnh Bắc Giang"
            assert page.locator("#h-sites").inner_text().startswith("Điểm kết nối theo trạng thái")
            page.screenshot(path=str(SHOTS / "01_overview_vi.png"), full_page=True)

            page.click("#lang-switch")
            page.wait_for_selector("text=Sites by state")
            assert page.locator("html").get_attribute("lang") == "en"
            page.screenshot(path=str(SHOTS / "02_overview_en.png"), full_page=True)

            page.click("#coverage a:has-text('Communes')")
            page.wait_for_url("**/sites?level=commune*")
            page.click("table.sites a[href='/regions/213'] >> nth=0")
            page.wait_for_url("**/regions/213")
            assert page.locator("h1").inner_text().startswith("Thành phố Bắc Giang")
            assert page.locator("table.sites tbody tr").count() == 7  # the district site and six communes
            page.screenshot(path=str(SHOTS / "03_district.png"), full_page=True)

            page.click("table.sites a[href='/sites/xa-002']")
            page.wait_for_selector("#graph-rtt .uplot canvas", state="attached", timeout=WAIT_MS)
            page.wait_for_selector("#graph-util .uplot canvas", state="attached", timeout=WAIT_MS)
            assert "Average" in page.locator("#graph-rtt .u-legend").inner_text(timeout=WAIT_MS)
            page.click("button[data-graph-period='7d']")
            # Selectors, not wait_for_function: the pages' CSP forbids eval, and the tests run under it.
            page.wait_for_selector("#graph-rtt[data-period='7d'][aria-busy='false']", state="attached",
                                   timeout=WAIT_MS)
            assert page.locator("#graph-rtt .graph-empty").count() == 1  # only 5-minute rollups exist yet
            page.click("button[data-graph-period='24h']")
            page.wait_for_selector("#graph-rtt[data-period='24h'] .uplot canvas", state="attached",
                                   timeout=WAIT_MS)
            page.screenshot(path=str(SHOTS / "04_site_graphs.png"), full_page=True)

            page.goto(base + "/?lang=vi")
            page.evaluate("window.__notReloaded = true")
            assert page.locator("#problems").inner_text().count("d215-rt") == 0
            province.cut_district(1)
            province.now += timedelta(seconds=60)
            province.heartbeat()  # a sweep finished: cached aggregates are dropped
            page.locator("#problems", has_text="d215-rt").wait_for(timeout=WAIT_MS)
            assert page.evaluate("window.__notReloaded") is True
            assert page.locator(".count.s-down .n").inner_text() == "1"
            page.screenshot(path=str(SHOTS / "05_overview_live_change.png"), full_page=True)
            assert violations == []   # every page works under the CSP (no inline script, no eval)

            phone = browser.new_page(viewport={"width": 390, "height": 844})
            sign_in(phone, base, "truc-ca")
            assert phone.evaluate("document.documentElement.scrollWidth") <= 390
            phone.screenshot(path=str(SHOTS / "06_overview_phone.png"), full_page=True)
        finally:
            browser.close()

"""The console on a 390 × 844 phone in a real browser (Debian's chromium): on every page each navigation item
is visible and inside the screen, nothing makes the page scroll sideways, and on a site page the graphs
come before the circuit cards. Screenshots go to ``artifacts/screenshots/phone-*.png``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from infra_monitor.db import make_engine
from tests.browser import CHROMIUM, CHROMIUM_ARGS, require_chromium, served
from tests.users import ensure_user, sign_in
from tests.web.builders import Province

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
WIDTH, HEIGHT = 390, 844
WAIT_MS = 20_000


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[str, Province]]:
    """The outage scenario: a district router down and its communes cut off; the site xa-002 has graphs."""
    require_chromium()
    from infra_monitor.config import load_settings
    from web.app import create_app

    url = f"sqlite:///{tmp_path / 'phone.db'}"
    engine = make_engine(url)
    province = Province.build(engine, communes=12)
    province.measurements([province.commune_routers[2]], hours=6)
    province.traffic([province.commune_interfaces[2]], bps=35e6, hours=6)
    province.intervals([province.core, *province.district_routers, *province.commune_routers])
    province.cut_district(1)
    province.event(province.district_routers[1], "up", "down", message="mất nguồn tại UBND huyện")
    settings = load_settings(None, environ={"INFRA_MONITOR_DATABASE__URL": url})
    ensure_user(engine, "truc-ca", "operator")
    try:
        with served(create_app(settings, engine)) as base:
            yield base, province
    finally:
        engine.dispose()


def test_every_page_fits_a_390_px_phone(live: tuple[str, Province]) -> None:
    from playwright.sync_api import sync_playwright

    base, province = live
    SHOTS.mkdir(parents=True, exist_ok=True)
    pages = {"overview": "/", "sites": "/sites", "district": "/regions/215", "site": "/sites/xa-002",
             "device": f"/devices/{province.district_routers[1]}", "events": "/events", "problems": "/problems",
             "map": "/map", "wall": "/wall"}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT}, is_mobile=True, has_touch=True)
            sign_in(page, base, "truc-ca")
            for name, path in pages.items():
                page.goto(base + path)
                items = page.locator("header nav a")
                if name != "wall":                          # the wall has no navigation at all
                    assert items.count() >= 6, name
                for i in range(items.count()):
                    item = items.nth(i)
                    assert item.is_visible(), (name, item.inner_text())
                    box = item.bounding_box()
                    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, (name, box)
                    # the whole label is shown, not cut ("Kiể")
                    assert item.evaluate("a => a.scrollWidth <= a.clientWidth"), (name, item.inner_text())
                width = page.evaluate("document.scrollingElement.scrollWidth")
                assert width <= WIDTH, (name, width)
                page.screenshot(path=str(SHOTS / f"phone-{name}.png"), full_page=True)

            page.goto(base + "/sites/xa-002")
            page.wait_for_selector("#graph-rtt .uplot canvas", state="attached", timeout=WAIT_MS)
            graphs = page.locator("#graphs").bounding_box()
            circuits = page.locator("#circuits").bounding_box()
            state = page.locator("#live-facts").bounding_box()
            assert graphs and circuits and state
            assert state["y"] < graphs["y"] < circuits["y"]     # state, then graphs, then the circuits
            assert graphs["y"] < 2 * HEIGHT                     # within two screens of the top
            assert page.evaluate("document.scrollingElement.scrollWidth") <= WIDTH
            # the circuits are collapsed on a phone: a heading with their count, opened on demand
            assert not page.locator("#circuits-details").evaluate("d => d.open")
            assert not page.locator("#circuits tbody tr").first.is_visible()
            page.screenshot(path=str(SHOTS / "phone-site.png"), full_page=True)
            page.locator("#circuits-details > summary").click()
            assert page.locator("#circuits tbody tr").first.is_visible()
            wide = browser.new_page(viewport={"width": 1366, "height": 900})
            wide.context.add_cookies(page.context.cookies())
            wide.goto(base + "/sites/xa-002")
            assert wide.locator("#circuits-details").evaluate("d => d.open")  # open on a wide screen
        finally:
            browser.close()

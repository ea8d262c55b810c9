"""Every page refreshes itself in a real browser (Debian's chromium): the database changes, the page shows
it without a reload (a marker set on ``window`` survives), and what the operator is doing survives too.

The app runs under uvicorn with a 4-second ICMP interval, so pages refresh every second; the read model's
cache is off so each refresh reads the database the test just changed. Screenshots go to
``artifacts/screenshots/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra_monitor.db import make_engine
from tests.browser import CHROMIUM, CHROMIUM_ARGS, require_chromium, served
from tests.users import ensure_user, sign_in
from tests.web.builders import Province
from tests.web.problems_setup import outage

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
WAIT_MS = 20_000
MARK = "window.__notReloaded = true"
MARKED = "window.__notReloaded === true"


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Province]]:
    """The real app on a fresh province (12 communes), served on a loopback port."""
    require_chromium()
    from infra_monitor.config import load_settings
    from web.app import create_app

    url = f"sqlite:///{tmp_path_factory.mktemp('live') / 'live.db'}"
    engine = make_engine(url)
    province = Province.build(engine, communes=12)
    province.measurements([province.commune_routers[2]], hours=6)
    province.intervals([province.core, *province.district_routers, *province.commune_routers])
    settings = load_settings(None, environ={"INFRA_MONITOR_DATABASE__URL": url,
                                            "INFRA_MONITOR_PROBES__ICMP__INTERVAL_S": "4",
                                            "INFRA_MONITOR_PROBES__ICMP__TIMEOUT_S": "1"})
    ensure_user(engine, "truc-ca", "operator")
    app = create_app(settings, engine)
    app.state.readmodel.cache.ttl_s = 0   # every refresh reads what the test just wrote
    try:
        with served(app) as base:
            yield base, province
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any, live_app: tuple[str, Province]) -> Iterator[Any]:
    """A signed-in operator's tab; every device is UP again afterwards."""
    base, province = live_app
    tab = browser.new_page(viewport={"width": 1366, "height": 900})
    violations: list[str] = []
    tab.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    sign_in(tab, base, "truc-ca")
    yield tab
    tab.close()
    for d in (province.core, *province.district_routers, *province.commune_routers, *province.vc_devices):
        province.set_state(d, "up", cause="none")
    assert violations == []


def test_every_page_shows_a_change_without_a_reload(page: Any, live_app: tuple[str, Province]) -> None:
    base, province = live_app
    SHOTS.mkdir(parents=True, exist_ok=True)
    vc5, rt4, rt6 = province.vc_devices[5], province.commune_routers[4], province.commune_routers[6]
    steps: list[tuple[str, Any, str]] = [
        ("/", lambda: province.cut_district(1), "#problems :text('d215-rt')"),
        ("/sites", lambda: province.set_state(rt4, "down"),
         "#live-sites-table tr[data-slug='xa-004'] [data-state='down']"),
        ("/sites?level=commune&sort=name", lambda: province.set_state(rt6, "down"),
         "#live-sites-counts .count.s-down.nonzero"),
        ("/regions/213", lambda: province.cut_district(0), "#problems :text('d213-rt')"),
        ("/sites/xa-005", lambda: province.set_state(vc5, "down"), "#devices [data-state='down']"),
        (f"/devices/{vc5}", lambda: province.set_state(vc5, "maintenance"), "#live-title [data-state='maintenance']"),
        ("/map", lambda: province.set_state(rt4, "down"), "#live-map a[href='/sites/xa-004'][data-state='down']"),
        ("/events", lambda: province.event(rt6, "up", "down", message="cáp quang đứt"),
         f"#live-events tr[data-event] a[href='/devices/{rt6}']"),
        ("/problems", lambda: outage(province, 1), "#problems-live :text('d215-rt')"),   # a real sweep opens it
    ]
    for path, change, selector in steps:
        page.goto(base + path)
        page.evaluate(MARK)
        assert page.locator(selector).count() == 0, path
        before = page.locator("#live-updated time").inner_text()
        change()
        page.locator(selector).first.wait_for(state="attached", timeout=WAIT_MS)
        assert page.evaluate(MARKED) is True, path
        assert page.locator("#live-updated time").inner_text() != before, path  # "updated hh:mm:ss" moves
        for d in (province.core, *province.district_routers, *province.commune_routers, *province.vc_devices):
            province.set_state(d, "up", cause="none")
    page.screenshot(path=str(SHOTS / "live-events.png"), full_page=True)


def test_the_site_page_keeps_its_graphs_and_the_operators_focus(page: Any, live_app: tuple[str, Province]) -> None:
    base, province = live_app
    page.goto(base + "/sites/xa-002")
    page.wait_for_selector("#graph-rtt .uplot canvas", state="attached", timeout=WAIT_MS)
    page.evaluate("document.querySelector('#graph-rtt .uplot').__drawn = 1; " + MARK)
    link = page.locator("#devices a[href^='/devices/']").first
    href = link.get_attribute("href")
    link.focus()
    page.evaluate("window.scrollTo(0, 400)")
    province.set_state(province.vc_devices[2], "down")
    page.locator("#devices [data-state='down']").first.wait_for(state="attached", timeout=WAIT_MS)
    assert page.evaluate(MARKED) is True
    assert page.evaluate("document.querySelector('#graph-rtt .uplot').__drawn") == 1   # the same chart, not redrawn
    assert page.evaluate("document.activeElement.getAttribute('href')") == href
    assert page.evaluate("window.scrollY") == 400


def test_a_region_with_typed_text_waits_until_the_operator_is_done(page: Any, live_app: tuple[str, Province]) -> None:
    base, province = live_app
    page.goto(base + "/sites")
    page.evaluate(MARK)
    # a form inside a live region (as the problems page's acknowledgement form is): the operator types
    page.evaluate("""document.getElementById('live-sites-table').insertAdjacentHTML('afterbegin',
        '<form id="note"><input id="note-text" name="note" value=""></form>')""")
    page.fill("#note-text", "đang gọi VNPT")
    page.locator("body").click(position={"x": 5, "y": 400})   # focus leaves the field: the form is still dirty
    province.set_state(province.commune_routers[8], "down")
    page.locator("#live-sites-counts .count.s-down.nonzero").wait_for(state="attached", timeout=WAIT_MS)
    rounds = int(page.locator("body").get_attribute("data-live-rounds") or "0")
    page.wait_for_selector(f"body:not([data-live-rounds='{rounds}'])", state="attached", timeout=WAIT_MS)
    assert page.locator("#live-sites-table tr[data-slug='xa-008'] [data-state='down']").count() == 0
    assert page.input_value("#note-text") == "đang gọi VNPT"
    page.fill("#note-text", "")                                # nothing typed any more …
    page.locator("body").click(position={"x": 5, "y": 400})    # … and the focus elsewhere: the region refreshes
    page.locator("#live-sites-table tr[data-slug='xa-008'] [data-state='down']").wait_for(
        state="attached", timeout=WAIT_MS)
    assert page.locator("#note").count() == 0
    assert page.evaluate(MARKED) is True


def test_a_lost_server_shows_the_banner_and_the_page_recovers(page: Any, live_app: tuple[str, Province]) -> None:
    base, province = live_app
    page.goto(base + "/events")
    page.evaluate(MARK)

    def refuse(route: Any) -> None:
        if route.request.headers.get("x-live-regions"):
            route.abort()
        else:
            route.continue_()

    page.route("**/events", refuse)
    rt10 = province.commune_routers[10]   # even communes: no event from the outage sweep
    province.event(rt10, "up", "down", message="mất điện")
    shown = page.locator(f"#live-events tr[data-event] a[href='/devices/{rt10}']")
    page.locator("#connection-lost").wait_for(state="visible", timeout=WAIT_MS)
    assert shown.count() == 0
    page.screenshot(path=str(SHOTS / "live-connection-lost.png"))
    page.unroute("**/events")
    shown.wait_for(state="attached", timeout=WAIT_MS * 3)   # after the back-off
    page.locator("#connection-lost").wait_for(state="hidden", timeout=WAIT_MS)
    assert page.evaluate(MARKED) is True


def test_a_hidden_tab_stops_asking_and_refreshes_on_return(page: Any, live_app: tuple[str, Province]) -> None:
    base, province = live_app
    page.goto(base + "/events")
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if r.headers.get("x-live-regions") else None)
    page.evaluate("""Object.defineProperty(document, 'hidden', {configurable: true, get: () => true});
        document.dispatchEvent(new Event('visibilitychange'))""")
    rt5 = province.commune_routers[0]
    shown = f"#live-events tr[data-event] a[href='/devices/{rt5}']"
    province.event(rt5, "up", "down", message="tab ẩn")
    page.wait_for_timeout(3_500)                              # three refresh periods of this app
    assert asked == [] and page.locator(shown).count() == 0
    page.evaluate("""Object.defineProperty(document, 'hidden', {configurable: true, get: () => false});
        document.dispatchEvent(new Event('visibilitychange'))""")
    page.locator(shown).wait_for(state="attached", timeout=WAIT_MS)
    assert asked


def test_the_server_answers_a_live_request_with_the_regions_only(live_app: tuple[str, Province]) -> None:
    import httpx

    from tests.users import bearer, token_for

    base, province = live_app
    token = token_for(province.engine, "wall-viewer", "viewer")
    with httpx.Client(base_url=base, headers=bearer(token)) as http:
        for path in ("/", "/sites", "/regions/213", "/sites/xa-002", f"/devices/{province.core}", "/map",
                     "/events", "/wall"):
            full = http.get(path).text
            regions = http.get(path, headers={"X-Live-Regions": "1"}).text
            assert "<html" in full and "<html" not in regions and "<nav" not in regions, path
            assert 'id="live-head"' in regions and "data-live-region" in regions, path
            assert len(regions) < len(full), path
        site = http.get("/sites/xa-002", headers={"X-Live-Regions": "1"}).text
        assert 'id="graphs"' not in site and 'id="devices"' in site

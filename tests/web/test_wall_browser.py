"""Wall mode and the dark theme in a real browser (Debian's chromium).

The wall (``/wall``) shows the device counters from the database, the open problems before the districts,
cycles through the districts every ``?cycle=`` seconds and follows a new outage without a reload. The dark
theme follows the browser's preference: dark background, every graph colour defined as ``#rrggbb``, and
text contrast of at least 4.5:1 in both themes. Screenshots go to ``artifacts/screenshots/``.
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

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
WAIT_MS = 20_000
GRAPH_VARS = ("--graph-min", "--graph-avg", "--graph-max", "--graph-loss", "--graph-in", "--graph-out",
              "--graph-commit")
# (text, background) pairs of custom properties that must stay readable
CONTRAST_PAIRS = (("--ink", "--card"), ("--ink", "--bg"), ("--muted", "--card"), ("--accent", "--card"),
                  ("--up", "--up-bg"), ("--down", "--down-bg"), ("--unreachable", "--unreachable-bg"),
                  ("--unknown", "--unknown-bg"), ("--maintenance", "--maintenance-bg"), ("--up", "--card"),
                  ("--down", "--card"), ("--unreachable", "--card"), ("--warn-ink", "--warn-bg"),
                  ("--fresh-ink", "--fresh-bg"), ("--stalepill-ink", "--stalepill-bg"),
                  ("--on-accent", "--accent"))


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[str, Province]]:
    require_chromium()
    from infra_monitor.config import load_settings
    from web.app import create_app

    url = f"sqlite:///{tmp_path / 'wall.db'}"
    engine = make_engine(url)
    province = Province.build(engine, communes=8)
    province.intervals([province.core, *province.district_routers, *province.commune_routers])
    settings = load_settings(None, environ={"INFRA_MONITOR_DATABASE__URL": url,
                                            "INFRA_MONITOR_PROBES__ICMP__INTERVAL_S": "4",
                                            "INFRA_MONITOR_PROBES__ICMP__TIMEOUT_S": "1"})
    ensure_user(engine, "truc-ca", "operator")
    app = create_app(settings, engine)
    app.state.readmodel.cache.ttl_s = 0
    try:
        with served(app) as base:
            yield base, province
    finally:
        engine.dispose()


def _luminance(hex_colour: str) -> float:
    def channel(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def _contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _vars(page: Any, names: tuple[str, ...]) -> dict[str, str]:
    values: dict[str, str] = page.evaluate(
        "names => Object.fromEntries(names.map(n => [n, getComputedStyle(document.documentElement)"
        ".getPropertyValue(n).trim()]))", list(names))
    return values


def _rgb(css: str) -> tuple[int, ...]:
    return tuple(int(float(x)) for x in css[css.index("(") + 1:css.index(")")].split(",")[:3])


def test_the_wall_shows_counters_problems_first_and_cycles_districts(live: tuple[str, Province]) -> None:
    from playwright.sync_api import sync_playwright

    base, province = live
    SHOTS.mkdir(parents=True, exist_ok=True)
    province.cut_district(1)      # d215-rt DOWN, the four communes behind it (router + codec) UNREACHABLE
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            sign_in(page, base, "truc-ca")
            page.click("#wall-link")                      # the overview links to it
            page.wait_for_url("**/wall")
            page.goto(base + "/wall?cycle=3")
            page.evaluate("window.__notReloaded = true")
            assert page.locator("nav").count() == 0       # no navigation chrome
            assert page.locator("html").get_attribute("class") == "theme-dark"
            counters = page.locator("#wall-counters")
            assert counters.locator("[data-device-state='down'] .n").inner_text() == "1"
            assert counters.locator("[data-device-state='unreachable'] .n").inner_text() == "8"
            up = 1 + 2 + 2 * 8 - 9                          # core, district routers, commune routers + codecs
            assert counters.locator("[data-device-state='up'] .n").inner_text() == str(up)
            assert counters.locator("tr[data-level='commune']").inner_text().split()[-2] == "4/230"

            problems, districts = page.locator("#wall-problems"), page.locator("#wall-districts")
            first = problems.locator("li").first
            assert "d215-rt" in first.inner_text() and "8" in first.locator(".behind").inner_text()
            p_box, d_box = problems.bounding_box(), districts.bounding_box()
            assert p_box and d_box and p_box["x"] <= d_box["x"] and p_box["y"] <= d_box["y"]
            big = float(page.evaluate(
                "parseFloat(getComputedStyle(document.querySelector('#wall-counters .n')).fontSize)"))
            assert big >= 80                                # readable from across the room

            # districts cycle: the one with the outage first, then the other, then back
            page.wait_for_selector("body[data-district-shown='215']", state="attached", timeout=WAIT_MS)
            assert page.locator(".wall-district[data-district='215']").is_visible()
            shown = page.locator(".wall-district[data-district='215']").inner_text()
            assert "Tân Sỏi 001" in shown and "Tân Sỏi 000" not in shown   # commune 0 is in the other district
            assert page.locator(".wall-district[data-district='215'] .wall-sites li").count() == 5  # + UBND
            page.screenshot(path=str(SHOTS / "wall.png"))
            page.wait_for_selector("body[data-district-shown='213']", state="attached", timeout=WAIT_MS)
            assert page.locator(".wall-district[data-district='215']").is_hidden()
            page.wait_for_selector("body[data-district-shown='215']", state="attached", timeout=WAIT_MS)

            # live: the other district goes down too, without a reload
            province.cut_district(0)
            counters.locator("[data-device-state='down'] .n", has_text="2").wait_for(timeout=WAIT_MS)
            problems.locator("li", has_text="d213-rt").wait_for(timeout=WAIT_MS)
            assert page.evaluate("window.__notReloaded") is True
            page.screenshot(path=str(SHOTS / "wall-two-districts.png"))
        finally:
            browser.close()


def test_the_dark_theme_follows_the_browser_and_stays_readable(live: tuple[str, Province]) -> None:
    from playwright.sync_api import sync_playwright

    base, province = live
    SHOTS.mkdir(parents=True, exist_ok=True)
    province.measurements([province.commune_routers[2]], hours=3)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            sign_in(page, base, "truc-ca")
            backgrounds = {}
            for scheme in ("light", "dark"):
                page.emulate_media(color_scheme=scheme)
                page.goto(base + "/")
                backgrounds[scheme] = _rgb(page.evaluate("getComputedStyle(document.body).backgroundColor"))
                graph = _vars(page, GRAPH_VARS)
                assert all(len(v) == 7 and v.startswith("#") for v in graph.values()), (scheme, graph)
                assert len(set(graph.values())) == len(GRAPH_VARS), (scheme, graph)   # distinct lines
                names = tuple({n for pair in CONTRAST_PAIRS for n in pair})
                colours = _vars(page, names)
                for fg, bg in CONTRAST_PAIRS:
                    assert _contrast(colours[fg], colours[bg]) >= 4.5, (scheme, fg, bg, colours[fg], colours[bg])
                for key in GRAPH_VARS:               # lines stand out from the card they are drawn on
                    assert _contrast(graph[key], colours["--card"]) >= 3, (scheme, key)
                page.screenshot(path=str(SHOTS / f"{scheme}-overview.png"), full_page=True)
            assert sum(backgrounds["dark"]) < 3 * 40 < sum(backgrounds["light"])

            page.emulate_media(color_scheme="dark")
            page.goto(base + "/sites/xa-002")
            page.wait_for_selector("#graph-rtt .uplot canvas", state="attached", timeout=WAIT_MS)
            card = _rgb(page.evaluate("getComputedStyle(document.querySelector('#graphs')).backgroundColor"))
            assert sum(card) < 3 * 60
            page.screenshot(path=str(SHOTS / "dark-site.png"), full_page=True)

            page.emulate_media(color_scheme="light")       # the wall is dark whatever the preference
            page.goto(base + "/wall")
            assert sum(_rgb(page.evaluate("getComputedStyle(document.body).backgroundColor"))) < 3 * 40
        finally:
            browser.close()

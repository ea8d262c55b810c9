"""In Chromium, the outage of issue 11: a district router cut off with 38 devices behind it, driven through
real sweeps. Each operator view tells it the same way (root cause first, the cut-off devices under it) and is
saved as a screenshot under artifacts/screenshots/ (outage-*.png); the header's search box finds a site."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from infra_monitor.db import make_engine
from tests.browser import CHROMIUM, CHROMIUM_ARGS, require_chromium, served
from tests.users import ensure_user, sign_in
from tests.web.builders import Province
from tests.web.problems_setup import outage

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
COMMUNES = 38  # 19 communes behind each district router: 38 devices (router + codec) cut off


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[str, Province]]:
    require_chromium()
    from infra_monitor.config import load_settings
    from web.app import create_app

    url = f"sqlite:///{tmp_path / 'outage.db'}"
    engine = make_engine(url)
    province = Province.build(engine, communes=COMMUNES)
    province.measurements([province.commune_routers[1], province.district_routers[1]], hours=6)
    outage(province, 0, minutes=-12)
    settings = load_settings(None, environ={"INFRA_MONITOR_DATABASE__URL": url})
    ensure_user(engine, "truc-ca", "operator")
    try:
        with served(create_app(settings, engine)) as base:
            yield base, province
    finally:
        engine.dispose()


def test_the_outage_reads_the_same_on_every_view_and_is_saved_as_screenshots(live: tuple[str, Province]) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, province = live
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 1000})
            sign_in(page, base, "truc-ca", next_path="/")
            problems = page.locator("#problems")
            expect(problems).to_contain_text("d213-rt")
            expect(problems).to_contain_text("38")
            feed = page.locator("#h-events ~ .table-wrap tbody tr").first
            expect(feed).to_have_class("ev-group")
            expect(feed).to_contain_text("d213-rt")
            page.screenshot(path=str(SHOTS / "outage-overview.png"), full_page=True)

            page.goto(f"{base}/problems")
            row = page.locator("#problems-live tr[data-state='open']")
            expect(row).to_have_count(1)
            expect(row).to_contain_text("d213-rt")
            expect(row).to_contain_text("38")
            page.screenshot(path=str(SHOTS / "outage-problems.png"), full_page=True)

            page.goto(f"{base}/regions/213")
            expect(page.locator("h1")).to_contain_text("Thành phố Bắc Giang")
            expect(page.locator("main")).to_contain_text("d213-rt")
            page.screenshot(path=str(SHOTS / "outage-district.png"), full_page=True)

            cut_off = province.commune_sites[0]
            page.goto(f"{base}/sites/{cut_off}")
            expect(page.locator("#live-title")).to_contain_text("Bị cô lập")
            expect(page.locator("main")).to_contain_text("d213-rt")
            page.screenshot(path=str(SHOTS / "outage-site.png"), full_page=True)

            page.goto(f"{base}/sites?lang=en")
            page.fill("#top-search input[name=q]", "tan soi 005")
            page.press("#top-search input[name=q]", "Enter")
            page.wait_for_url(lambda url: "/search?" in url)
            expect(page.locator("#search-sites")).to_contain_text("UBND xã Tân Sỏi 005")
        finally:
            browser.close()
    for name in ("overview", "problems", "district", "site"):
        assert (SHOTS / f"outage-{name}.png").stat().st_size > 10_000, name

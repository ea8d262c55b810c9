"""In Chromium: an operator opens the problems list during a district outage, opens the problem, acknowledges
it with a comment and sees the acknowledgement on the problem and in the list (screenshot saved)."""

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


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[str, Province]]:
    require_chromium()
    from infra_monitor.config import load_settings
    from web.app import create_app

    url = f"sqlite:///{tmp_path / 'browser.db'}"
    engine = make_engine(url)
    province = Province.build(engine, communes=12)
    outage(province, 0, minutes=-25)
    settings = load_settings(None, environ={"INFRA_MONITOR_DATABASE__URL": url})
    ensure_user(engine, "truc-ca", "operator")
    try:
        with served(create_app(settings, engine)) as base:
            yield base, province
    finally:
        engine.dispose()


def test_an_operator_acknowledges_a_problem_in_the_browser_and_sees_the_acknowledgement(
    live: tuple[str, Province]
) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, _province = live
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            sign_in(page, base, "truc-ca", next_path="/problems")
            expect(page.locator("nav a[href='/problems']")).to_have_attribute("aria-current", "page")
            row = page.locator("#problems-live tr[data-state='open']")
            expect(row).to_have_count(1)
            expect(row.locator("[data-ack]")).to_have_attribute("data-ack", "no")
            row.locator("a[href^='/problems/']").click()
            page.wait_for_url(lambda url: "/problems/" in url)
            expect(page.locator("#h-members")).to_contain_text("12")
            page.fill("#ack-comment", "Đã báo VNPT, đang xử lý cáp quang")
            page.click("#ack-submit")
            expect(page.locator("#ack-state [data-ack]")).to_have_attribute("data-ack", "yes")
            expect(page.locator("#ack-state")).to_contain_text("truc-ca")
            expect(page.locator("#ack-state")).to_contain_text("Đã báo VNPT, đang xử lý cáp quang")
            expect(page.locator("#problem-history li[data-action='acknowledged']")).to_contain_text("truc-ca")
            expect(page.locator("#unack-form")).to_be_visible()
            page.goto(base + "/problems")
            expect(page.locator("#problems-live tr[data-state='open'] [data-ack]")).to_have_attribute(
                "data-ack", "yes")
            page.screenshot(path=str(SHOTS / "problems.png"), full_page=True)
        finally:
            browser.close()

"""In Chromium: the readiness board of a meeting 15 minutes away counts down every second, and a new
readiness check (the district behind which two communes were cut off came back) shows on the open board
without a reload: counters, the "recovered" line and the rooms. An operator's "check now" is recorded, and
the create form refuses a past start and schedules a meeting of the communes of one district."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from infra_monitor.config import Settings
from infra_monitor.db import make_engine
from tests.browser import CHROMIUM, CHROMIUM_ARGS, require_chromium, served
from tests.meetings.setup import check_now, meeting_with_check
from tests.users import ensure_user, sign_in
from tests.web.builders import Province

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
HMS = re.compile(r"Bắt đầu sau (\d\d):(\d\d):(\d\d)")


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[str, Province, Settings, int]]:
    require_chromium()
    from infra_monitor.config import load_settings
    from web.app import create_app

    url = f"sqlite:///{tmp_path / 'browser.db'}"
    engine = make_engine(url)
    province = Province.build(engine, communes=4)
    province.cut_district(0)   # xa-000 and xa-002 UNREACHABLE behind d213-rt
    # a 4 s ICMP interval makes the pages refresh every second
    settings = load_settings(None, environ={"INFRA_MONITOR_DATABASE__URL": url,
                                            "INFRA_MONITOR_PROBES__ICMP__INTERVAL_S": "4"})
    meeting_id = meeting_with_check(province, settings, minutes=15)
    ensure_user(engine, "truc-ca", "operator")
    try:
        with served(create_app(settings, engine)) as base:
            yield base, province, settings, meeting_id
    finally:
        engine.dispose()


def _seconds(text: str) -> int:
    found = HMS.search(text)
    assert found, text
    h, m, s = (int(x) for x in found.groups())
    return h * 3600 + m * 60 + s


def test_the_board_counts_down_and_shows_a_new_check_without_a_reload(
        live: tuple[str, Province, Settings, int]) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, province, settings, meeting_id = live
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            sign_in(page, base, "truc-ca", next_path=f"/meetings/{meeting_id}")
            expect(page.locator("nav a[href='/meetings']")).to_have_attribute("aria-current", "page")
            countdown = page.locator("#countdown")
            expect(countdown).to_have_text(HMS)
            expect(countdown).to_have_attribute("data-ticking", "yes")   # the script runs (not the server's text)
            first = _seconds(countdown.inner_text())
            time.sleep(1.2)
            second = _seconds(countdown.inner_text())
            assert 13 * 60 < second < first <= 15 * 60, (first, second)
            expect(page.locator("#count-not-ready")).to_contain_text("2")
            expect(page.locator("#rooms tr[data-ready='no']")).to_have_count(2)
            expect(page.locator("#rooms tr[data-ready='no']").first).to_have_attribute("data-reasons",
                                                                                       "site_unreachable")
            expect(page.locator("#rooms tr[data-ready='no']").first).to_contain_text("d213-rt")
            page.evaluate("window.__sameDocument = 'yes'")
            # the district comes back; the next check (as the poller stores it) shows up on its own
            province.set_state(province.district_routers[0], "up", cause="none")
            for rt, vc in zip(province.commune_routers[0::2], province.vc_devices[0::2], strict=True):
                province.set_state(rt, "up", cause="none")
                province.set_state(vc, "up", cause="none")
            check_id = check_now(province, settings, meeting_id)
            expect(page.locator("#checked-at")).to_have_attribute("data-check", str(check_id), timeout=15_000)
            expect(page.locator("#count-not-ready")).to_contain_text("0")
            expect(page.locator("#count-ready")).to_contain_text("4")
            expect(page.locator("#recovered")).to_contain_text("Phòng họp")
            expect(page.locator("#rooms tr[data-ready='no']")).to_have_count(0)
            assert page.evaluate("window.__sameDocument") == "yes"   # no reload happened
            assert _seconds(countdown.inner_text()) < second          # and the countdown kept going
            page.screenshot(path=str(SHOTS / "meeting-board.png"), full_page=True)
            page.click("#check-now")
            expect(page.locator("#check-requested")).to_be_visible()
            expect(page.locator("#pending-request")).to_be_visible()
            # an operator schedules the next meeting with the form (CSRF-protected); a past start is refused
            page.goto(base + "/meetings")
            page.fill("#f-title", "Giao ban tuần sau")
            page.fill("#f-start", "01/01/2020 08:00")
            page.fill("#f-mcu", "dc-core-01")
            page.select_option("#f-level", "commune")
            page.select_option("#f-district", "215")
            page.click("#f-submit")
            expect(page.locator("#meeting-errors [data-error='start']")).to_be_visible()
            later = (datetime.now(TZ) + timedelta(hours=2)).strftime("%d/%m/%Y %H:%M")
            page.fill("#f-start", later)
            page.click("#f-submit")
            page.wait_for_url(re.compile(r"/meetings/\d+$"))
            expect(page.locator("h1")).to_have_text("Giao ban tuần sau")
            expect(page.locator("#countdown")).to_have_text(re.compile(r"Bắt đầu sau 0[12]:\d\d:\d\d"))
            expect(page.locator("#never-checked")).to_be_visible()
        finally:
            browser.close()

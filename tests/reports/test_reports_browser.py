"""The reports page in a real browser (Debian's chromium driven by Playwright, never a downloaded browser).

The real app runs under uvicorn on a free loopback port with a built province in SQLite. The operator
opens ``/reports``, fills the form, asks for the preview, sees the key figures, downloads the xlsx file
through its button and opens it with openpyxl; on a 390 px wide phone the form is not cut. Screenshots go
to ``artifacts/screenshots/`` (git-ignored). Missing chromium skips on a laptop and fails under ``CI``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from openpyxl import load_workbook

from infra_monitor.db import make_engine
from tests.browser import CHROMIUM, CHROMIUM_ARGS, require_chromium, served
from tests.reports.test_reports_api import TZ
from tests.users import ensure_user, sign_in
from tests.web.builders import Province

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
WAIT_MS = 30_000


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[str, Province]]:
    """The app served by uvicorn in a thread; yields its base URL and the province behind it."""
    require_chromium()
    from infra_monitor.config import load_settings
    from web.app import create_app

    url = f"sqlite:///{tmp_path / 'reports.db'}"
    engine = make_engine(url)
    province = Province.build(engine, communes=12)
    province.intervals([province.core, *province.district_routers, *province.commune_routers[:10]])
    province.intervals(province.commune_routers[10:], down_minutes=120)
    province.measurements(province.commune_routers[:2], hours=3)
    province.traffic(province.commune_interfaces[:2], bps=70e6, hours=3)
    settings = load_settings(None, environ={"INFRA_MONITOR_DATABASE__URL": url})
    ensure_user(engine, "truc-ca", "operator")
    try:
        with served(create_app(settings, engine)) as base:
            yield base, province
    finally:
        engine.dispose()


def _not_cut(page: Page, selector: str) -> dict[str, float]:
    """Widths of the document and of ``selector``, and how far its widest control reaches."""
    return page.evaluate(  # type: ignore[no-any-return]
        """sel => {
             const el = document.querySelector(sel);
             const right = Math.max(...[...el.querySelectorAll('input, select, button, label')]
                                     .filter(c => c.offsetParent !== null)
                                     .map(c => c.getBoundingClientRect().right));
             return {docScroll: document.documentElement.scrollWidth, docClient: document.documentElement.clientWidth,
                     scroll: el.scrollWidth, client: el.clientWidth, right: right};
           }""", selector)


def test_operator_previews_a_report_and_downloads_the_xlsx(live: tuple[str, Province], tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    base, province = live
    today = province.now.astimezone(TZ).date()
    start, end = today - timedelta(days=14), today + timedelta(days=1)
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True)
            page = context.new_page()
            sign_in(page, base, "truc-ca", next_path="/?lang=vi")
            page.click("header nav a[href='/reports']")
            page.wait_for_url("**/reports")
            assert page.locator("h1").inner_text() == "Báo cáo"
            assert page.locator("#preview").count() == 0

            page.select_option("#r-kind", "availability")
            page.fill("#r-from", start.isoformat())
            page.fill("#r-to", end.isoformat())
            page.fill("#r-threshold_pct", "99.5")
            page.check("#r-maintenance_as_down")
            assert not page.locator("#r-tier_reference").is_visible()  # datacenter only
            page.select_option("#r-kind", "datacenter")
            assert page.locator("#r-tier_reference").is_visible()
            page.select_option("#r-kind", "availability")
            page.screenshot(path=str(SHOTS / "reports_01_form.png"), full_page=True)

            page.click("#preview-button")
            page.wait_for_selector("#preview #summary dt", timeout=WAIT_MS)
            assert "kind=availability" in page.url and f"from={start.isoformat()}" in page.url
            assert "Báo cáo khả dụng hạ tầng mạng" in page.locator("#preview-title").inner_text()
            summary = page.locator("#summary").inner_text()
            assert "Khả dụng toàn mạng" in summary or "Khả dụng" in summary
            assert page.locator("#preview-table tbody tr").count() >= 1
            assert page.locator("#r-threshold_pct").input_value() == "99.5"  # the form keeps the values
            assert page.locator("#r-maintenance_as_down").is_checked()
            page.screenshot(path=str(SHOTS / "reports_02_preview.png"), full_page=True)

            with page.expect_download(timeout=WAIT_MS) as info:
                page.click("#downloads a[data-format='xlsx']")
            download = info.value
            assert download.suggested_filename == (
                f"bao-cao-availability-{start.isoformat()}_{end.isoformat()}.xlsx")
            saved = tmp_path / download.suggested_filename
            download.save_as(saved)
            wb = load_workbook(saved)
            assert wb.sheetnames[0] == "Tổng hợp" and len(wb.sheetnames) > 1
            values = [row[1] for row in wb["Tổng hợp"].iter_rows(values_only=True) if row and row[0]]
            assert f"{start:%d/%m/%Y} – {today:%d/%m/%Y}" in values  # the period asked for
            assert "99,50" in values  # the threshold typed in the form

            phone = context.new_page()
            phone.set_viewport_size({"width": 390, "height": 844})
            phone.goto(page.url)
            phone.wait_for_selector("#preview #summary", timeout=WAIT_MS)
            for selector in ("#report-form", "#preview"):
                w = _not_cut(phone, selector)
                assert w["docScroll"] <= w["docClient"], w
                assert w["scroll"] <= w["client"], (selector, w)
                assert w["right"] <= 390, (selector, w)
            phone.screenshot(path=str(SHOTS / "reports_03_phone.png"), full_page=True)
            phone.goto(base + "/reports?lang=en&kind=datacenter&from=2026-11-05&to=2026-11-01")
            assert phone.locator("#err-to").is_visible()
            w = _not_cut(phone, "#report-form")
            assert w["docScroll"] <= w["docClient"] and w["scroll"] <= w["client"] and w["right"] <= 390, w
            phone.screenshot(path=str(SHOTS / "reports_04_phone_errors.png"), full_page=True)
        finally:
            browser.close()

"""Graphs in a real browser (Debian's chromium via Playwright): uPlot served by the app, ranges 1 h and 7 d,
readable axes (no repeated labels, dd/mm days, loss on 0–100 %), hover values in the legend, distinct
colours, the committed rate line, the range remembered across pages, and no CSP violation or console error.
A screenshot goes to ``artifacts/screenshots/graphs.png``."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from infra_monitor.db import make_engine
from infra_monitor.storage.writer import InterfaceRecord, ResultRecord, write_interface_samples, write_results
from tests.browser import CHROMIUM, CHROMIUM_ARGS, require_chromium, served
from tests.users import ensure_user, sign_in
from tests.web.builders import Province

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
WAIT_MS = 20_000
COMMITTED = "Băng thông cam kết"


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[str, Province]]:
    """The app under uvicorn; commune 1's router checked every 5 minutes for 8.5 days (every minute in the
    last 2 hours, with a lost check), its circuit's interface sampled every minute for 3 hours."""
    require_chromium()
    from infra_monitor.config import load_settings
    from web.app import create_app

    url = f"sqlite:///{tmp_path / 'graphs.db'}"
    engine = make_engine(url)
    now = datetime.now(UTC).replace(microsecond=0)
    p = Province.build(engine, communes=3, now=now)
    router, interface = p.commune_routers[1], p.commune_interfaces[1]
    records: list[ResultRecord] = []
    ts, i = now - timedelta(hours=204), 0
    while ts < now:
        every = timedelta(minutes=1) if now - ts < timedelta(hours=2) else timedelta(minutes=5)
        if i == 7:
            records.append(ResultRecord(ts, router, "icmp", False, loss_pct=100.0, error="timeout"))
        else:
            rtt = 0.01 + (i % 7) * 0.003  # a LAN: tiny, close values, where repeated labels showed up
            records.append(ResultRecord(ts, router, "icmp", True, rtt * 0.8, rtt, rtt * 1.6, 0.0))
        ts += every
        i = (i + 1) % 50
    samples = [InterfaceRecord(now - timedelta(minutes=k), interface, 1, in_bps=35e6 + (k % 9) * 1e6,
                               out_bps=6e6 + (k % 4) * 1e5) for k in range(180)]
    with engine.begin() as conn:
        for k in range(0, len(records), 2000):
            write_results(conn, records[k:k + 2000], day_offset_s=7 * 3600)
        write_interface_samples(conn, samples, day_offset_s=7 * 3600)
    settings = load_settings(None, environ={"INFRA_MONITOR_DATABASE__URL": url})
    ensure_user(engine, "truc-ca", "operator")
    try:
        with served(create_app(settings, engine)) as base:
            yield base, p
    finally:
        engine.dispose()


def _wait_drawn(page: object, metric: str, period: str) -> None:
    page.wait_for_selector(  # type: ignore[attr-defined]
        f"#graph-{metric}[data-period='{period}'][aria-busy='false'] .uplot canvas", state="attached",
        timeout=WAIT_MS)


def _ticks(page: object, metric: str, axis: str) -> list[str]:
    raw = page.locator(f"#graph-{metric}").get_attribute(f"data-{axis}-ticks")  # type: ignore[attr-defined]
    return raw.split("|") if raw else []


def _no_consecutive_repeats(labels: list[str]) -> bool:
    return all(a != b for a, b in itertools.pairwise(labels))


def test_graphs_are_readable_switch_ranges_and_show_values_on_hover(live: tuple[str, Province]) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, province = live
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" or
                    "Content Security Policy" in m.text else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            sign_in(page, base, "truc-ca", next_path="/sites/xa-001")
            for metric in ("rtt", "loss", "util"):
                _wait_drawn(page, metric, "24h")
            assert page.locator("script[src='/static/uplot/uPlot.iife.min.js']").count() == 1
            assert page.locator("#graphs[data-live-keep]").count() == 1

            # 24 h, in Vietnamese: decimal comma, labels that differ, times HH:mm
            y = _ticks(page, "rtt", "y")
            assert len(y) >= 3 and _no_consecutive_repeats(y) and "," in y[1], y
            assert y[-1].endswith(" ms")
            x = _ticks(page, "rtt", "x")
            assert len(x) >= 4 and _no_consecutive_repeats(x), x
            assert all(len(t) == 5 and t[2] in ":/" for t in x), x
            loss_y = _ticks(page, "loss", "y")
            assert loss_y[0] == "0" and loss_y[-1] == "100 %", loss_y  # a fixed 0–100 % axis

            # distinct colours for min, average and max in the legend
            markers = page.locator("#graph-rtt .u-legend .u-series .u-marker")
            colours = [markers.nth(k).evaluate("e => getComputedStyle(e).borderColor") for k in (1, 2, 3)]
            assert len(set(colours)) == 3, colours

            # hovering shows the values at the cursor, with units
            page.locator("#graph-rtt .u-over").scroll_into_view_if_needed()
            box = page.locator("#graph-rtt .u-over").bounding_box()
            assert box is not None
            page.mouse.move(box["x"] + box["width"] * 0.97, box["y"] + box["height"] / 2)
            values = page.locator("#graph-rtt .u-legend .u-series .u-value")
            expect(values.nth(2)).to_have_text(re.compile(r"^\d+,\d+ ms$"), timeout=WAIT_MS)  # the average
            assert "/" in values.nth(0).inner_text()  # the time at the cursor: dd/mm HH:mm

            # the committed rate is a labelled dashed line on the traffic graph
            assert COMMITTED in page.locator("#graph-util .u-legend").inner_text()
            page.locator("#graph-util .u-over").scroll_into_view_if_needed()
            box = page.locator("#graph-util .u-over").bounding_box()
            assert box is not None
            page.mouse.move(box["x"] + box["width"] * 0.98, box["y"] + box["height"] / 2)
            commit = page.locator("#graph-util .u-legend .u-series .u-value").nth(3)
            expect(commit).to_have_text("100 Mbps", timeout=WAIT_MS)  # the circuit's 100 000 kbps

            # 1 hour: minutes
            page.click("button[data-graph-period='1h']")
            _wait_drawn(page, "rtt", "1h")
            assert page.locator("#graph-rtt").get_attribute("data-step") == "120"
            x = _ticks(page, "rtt", "x")
            assert len(x) >= 4 and _no_consecutive_repeats(x) and all(":" in t for t in x), x

            # 7 days: one tick per day, dd/mm, no day skipped
            page.click("button[data-graph-period='7d']")
            _wait_drawn(page, "rtt", "7d")
            x = _ticks(page, "rtt", "x")
            assert len(x) in (7, 8) and all(len(t) == 5 and t[2] == "/" for t in x), x
            days = [datetime.strptime(f"{t}/2000", "%d/%m/%Y") for t in x]
            assert {(b - a).days % 366 for a, b in itertools.pairwise(days)} == {1}, x  # 31/12 → 01/01 too
            assert _no_consecutive_repeats(_ticks(page, "rtt", "y"))
            page.screenshot(path=str(SHOTS / "graphs.png"), full_page=True)

            # the range is remembered on the next page (the router's own page)
            page.goto(base + f"/devices/{province.commune_routers[1]}")
            _wait_drawn(page, "rtt", "7d")
            assert page.locator("button[data-graph-period='7d']").get_attribute("aria-pressed") == "true"
            assert problems == [], problems
        finally:
            browser.close()

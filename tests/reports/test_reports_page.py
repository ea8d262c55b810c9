"""The reports page ``/reports`` through the real app, on a built province in SQLite and in PostgreSQL.

The form in Vietnamese and English with its defaults (the previous full month), the server-side preview
(header, the document's summary labels and notes, the first rows of its first table, download links to
the API with the same parameters), and errors next to their field in the page's language, values kept.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from infra_monitor.reports.document import ReportKind
from infra_monitor.reports.params import previous_month
from tests.reports.test_reports_api import TZ, build_client, period
from tests.web.builders import Province

KINDS = [k.value for k in ReportKind]


@pytest.fixture
def site(db_url: str) -> Iterator[tuple[TestClient, Province]]:
    yield from build_client(db_url)


def _form_query(province: Province, kind: str = "availability", **extra: str) -> str:
    start, end = period(province)
    params = {"kind": kind, "from": start.isoformat(), "to": end.isoformat(), **extra}
    return "&".join(f"{k}={v}" for k, v in params.items())


def _value(page: str, name: str) -> str:
    m = re.search(rf'<input type="\w+" name="{name}" id="r-{name}" value="([^"]*)"', page)
    assert m, f"no input {name}"
    return html.unescape(m.group(1))


def _downloads(page: str) -> dict[str, str]:
    return {m.group(2): html.unescape(m.group(1))
            for m in re.finditer(r'<a class="button" href="([^"]+)" data-format="(\w+)" download>', page)}


@pytest.mark.parametrize(("lang", "title", "labels"), [
    ("vi", "<title>Báo cáo", ("Loại báo cáo", "Từ ngày", "Đến ngày (không tính)", "Cơ cấu hành chính tại ngày",
                              "Ngôn ngữ báo cáo", "Ngưỡng khả dụng đạt (%)", "Tiêu chuẩn phân mức", "Xem trước")),
    ("en", "<title>Reports", ("Report", "From", "To (exclusive)", "Administrative structure as of",
                              "Report language", "Availability target (%)", "Tier reference", "Preview")),
])
def test_form_with_defaults(site: tuple[TestClient, Province], lang: str, title: str, labels: tuple[str, ...]) -> None:
    client, province = site
    r = client.get(f"/reports?lang={lang}")
    assert r.status_code == 200
    page = r.text
    assert page.startswith("<!doctype html>") and f'<html lang="{lang}">' in page and title in page
    assert '<a href="/reports" aria-current="page">' in page
    assert all(label in page for label in labels)
    for name in ("kind", "report_lang", "tier_reference"):
        assert f'<select name="{name}"' in page
    start, end = previous_month(province.now.astimezone(TZ).date())
    assert _value(page, "from") == start.isoformat() and _value(page, "to") == end.isoformat()
    assert _value(page, "as_of") == "" and _value(page, "threshold_pct") == "99"
    assert f'<option value="{lang}" lang="{lang}" selected>' in page  # report language defaults to the page's
    assert 'id="preview"' not in page and 'id="downloads"' not in page


def test_navigation_links_to_the_reports_page(site: tuple[TestClient, Province]) -> None:
    client, _ = site
    assert '<a href="/reports">Báo cáo</a>' in client.get("/?lang=vi").text
    assert '<a href="/reports">Reports</a>' in client.get("/sites?lang=en").text


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_preview_shows_the_documents_summary_notes_and_first_rows(site: tuple[TestClient, Province],
                                                                   lang: str) -> None:
    client, province = site
    query = _form_query(province, report_lang=lang, threshold_pct="99.5", maintenance_as_down="true")
    r = client.get(f"/reports?lang=vi&{query}")
    assert r.status_code == 200, r.text
    page = html.unescape(r.text)
    start, end = period(province)
    doc = client.get(f"/api/reports/availability?from={start}&to={end}&threshold_pct=99.5"
                     "&maintenance_as_down=true").json()
    assert f'id="preview" lang="{lang}"' in page
    assert doc["header"]["title"][lang] in page
    assert f"{start:%d/%m/%Y} – {end - timedelta(days=1):%d/%m/%Y}" in page
    for item in doc["summary"]:
        assert f"<dt>{item['label'][lang]}</dt>" in page
    for note in doc["notes"]:
        assert note[lang] in page
    first = doc["tables"][0]
    assert first["title"][lang] in page
    assert all(re.search(rf'<th( class="num")?>{re.escape(c["label"][lang])}</th>', page) for c in first["columns"])
    rows = re.search(r'<table class="responsive preview-table" id="preview-table">.*?</table>', page, re.S)
    assert rows and rows.group(0).count("<tr>") == 1 + min(10, len(first["rows"]))
    assert "Xem trước" in page  # headings in the page's language
    # the form keeps what was asked
    assert _value(page, "threshold_pct") == "99.5"
    assert 'name="maintenance_as_down" id="r-maintenance_as_down" value="true" checked' in page


def test_download_links_carry_the_same_parameters(site: tuple[TestClient, Province]) -> None:
    client, province = site
    start, end = period(province)
    query = _form_query(province, "datacenter", report_lang="en", tier_reference="uptime", no_data_as_down="true",
                        as_of=start.isoformat())
    page = client.get(f"/reports?{query}").text
    links = _downloads(page)
    assert set(links) == {"json", "csv", "xlsx", "pdf"}
    for fmt, href in links.items():
        url = urlsplit(href)
        assert url.path == "/api/reports/datacenter"
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        assert q == {"from": start.isoformat(), "to": end.isoformat(), "as_of": start.isoformat(), "lang": "en",
                     "tier_reference": "uptime", "no_data_as_down": "true", "format": fmt}
    r = client.get(links["xlsx"])
    assert r.status_code == 200 and r.headers["content-disposition"].startswith("attachment;")
    assert load_workbook(io.BytesIO(r.content)).sheetnames[0] == "Summary"
    doc = client.get(links["json"]).json()
    assert doc["header"]["parameters"]["tier_reference"] == "uptime" and doc["header"]["as_of"] == start.isoformat()


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_previews(site: tuple[TestClient, Province], kind: str) -> None:
    client, province = site
    r = client.get(f"/reports?{_form_query(province, kind)}")
    assert r.status_code == 200, r.text
    assert 'id="summary"' in r.text and f'<option value="{kind}" selected>' in r.text


@pytest.mark.parametrize(("lang", "to_error", "pct_error"), [
    ("vi", "Ngày “đến” phải sau ngày “từ”", "Giá trị phải từ 0 đến 100."),
    ("en", "“To” must be after “from”", "Must be between 0 and 100."),
])
def test_errors_next_to_their_field_in_the_page_language(site: tuple[TestClient, Province], lang: str,
                                                         to_error: str, pct_error: str) -> None:
    client, _ = site
    r = client.get(f"/reports?lang={lang}&kind=capacity&from=2026-11-05&to=2026-11-01&threshold_pct=200"
                   "&as_of=05-11-2026&no_data_as_down=true")
    assert r.status_code == 422
    page = r.text
    assert 'id="form-errors"' in page and 'id="preview"' not in page and 'id="downloads"' not in page
    err_to = re.search(r'aria-describedby="err-to"><span class="field-error" id="err-to">([^<]+)</span>', page)
    assert err_to and to_error in err_to.group(1)
    assert f'<span class="field-error" id="err-threshold_pct">{pct_error}</span>' in page
    assert 'id="err-as_of"' in page and 'id="err-from"' not in page
    # the values are kept as typed
    assert _value(page, "from") == "2026-11-05" and _value(page, "to") == "2026-11-01"
    assert _value(page, "threshold_pct") == "200" and _value(page, "as_of") == "05-11-2026"
    assert '<option value="capacity" selected>' in page
    assert 'id="r-no_data_as_down" value="true" checked' in page


def test_missing_dates_and_unknown_kind_are_form_errors(site: tuple[TestClient, Province]) -> None:
    client, _ = site
    page = client.get("/reports?lang=en&kind=weather&from=&to=").text
    assert '<span class="field-error" id="err-from">Required.</span>' in page
    assert '<span class="field-error" id="err-to">Required.</span>' in page
    assert 'id="err-kind"' in page and "choose one of: coverage" in page


def test_the_preview_url_is_shareable(site: tuple[TestClient, Province]) -> None:
    """The same query string gives the same preview to anyone (no session state)."""
    client, province = site
    query = _form_query(province, "coverage", report_lang="vi")
    first = client.get(f"/reports?lang=en&{query}").text
    fresh = TestClient(client.app, headers=dict(client.headers))
    second = fresh.get(f"/reports?lang=en&{query}").text
    strip = re.compile(r"<dt>Generated at</dt><dd>[^<]*</dd>|<span id=\"fresh-pill\">.*?</span></span>", re.S)
    assert strip.sub("", first) == strip.sub("", second)


def test_what_the_engine_rejects_shows_next_to_the_period(site: tuple[TestClient, Province],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import web.api.reports

    client, province = site

    def too_strict(*_a: object, **_kw: object) -> None:
        raise ValueError("no reports on a full moon")

    monkeypatch.setattr(web.api.reports, "params_for", too_strict)
    page = client.get(f"/reports?lang=vi&{_form_query(province)}").text
    assert '<span class="field-error" id="err-to">Giá trị không hợp lệ: no reports on a full moon</span>' in page

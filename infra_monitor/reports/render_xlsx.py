"""XLSX output of a report (openpyxl): a summary sheet first, then one sheet per table.

Cells keep real types so Excel computes with them: PCT as a fraction with ``0.00%``, DURATION as an Excel
time fraction (seconds / 86400) with ``[h]:mm:ss``, DATETIME as a naive local datetime (the header says
``(GMT+7)``) with ``dd/mm/yyyy hh:mm``, DATE ``dd/mm/yyyy``, INT ``#,##0``, FLOAT/RATE ``#,##0.00``
(Excel shows the separators of the reader's locale). ENUM and BOOL are translated text; None is ``—``.

Text is never a formula: openpyxl stores any string starting with ``=`` as a formula, so every text cell
is written as a string (``data_type = "s"``) and one that a spreadsheet could read as a formula
(= + - @ TAB CR) also gets Excel's *quote prefix* style, the native form of the OWASP leading apostrophe.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta, tzinfo

from openpyxl import Workbook
from openpyxl.cell.cell import Cell as XlCell
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from infra_monitor.reports.document import Cell, Column, ColumnType, ReportDocument, Text, parameter_label
from infra_monitor.reports.formatting import (
    NOT_MEASURABLE,
    NUMERIC_TYPES,
    fmt_bool,
    fmt_datetime,
    format_param,
    format_value,
    gmt_label,
    header_label,
    nfc,
    period_text,
    to_local,
    tr,
    tz_of,
)
from inventory.csvsafe import is_injectable

NUMBER_FORMATS = {
    ColumnType.PCT: "0.00%",
    ColumnType.DURATION: "[h]:mm:ss",
    ColumnType.DATETIME: "dd/mm/yyyy hh:mm",
    ColumnType.DATE: "dd/mm/yyyy",
    ColumnType.INT: "#,##0",
    ColumnType.FLOAT: "#,##0.00",
    ColumnType.RATE: "#,##0.00",
}
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
_BOLD = Font(bold=True)
_TOP = Border(top=Side(style="thin"))
_L = {
    "summary_sheet": Text(vi="Tổng hợp", en="Summary"),
    "province": Text(vi="Tỉnh", en="Province"),
    "issuer": Text(vi="Cơ quan ban hành", en="Issued by"),
    "period": Text(vi="Kỳ báo cáo", en="Period"),
    "measured_until": Text(vi="Số liệu đo đến", en="Measured until"),
    "as_of": Text(vi="Cơ cấu hành chính tại ngày", en="Administrative structure as of"),
    "generated_at": Text(vi="Thời điểm lập", en="Generated at"),
    "parameters": Text(vi="Tham số", en="Parameters"),
    "figures": Text(vi="Số liệu tổng hợp", en="Key figures"),
    "notes": Text(vi="Ghi chú", en="Notes"),
}


def set_text(cell: XlCell, text: str) -> None:
    """A string cell that no spreadsheet evaluates (see the module docstring)."""
    cell.value = nfc(text)
    cell.data_type = "s"
    if is_injectable(cell.value):
        cell.quotePrefix = True


def write_value(cell: XlCell, value: Cell, ctype: ColumnType, choices: dict[str, Text], lang: str,
                tz: tzinfo) -> None:
    """One typed value into ``cell`` with its number format."""
    if value is None:
        set_text(cell, NOT_MEASURABLE)
        cell.alignment = Alignment(horizontal="right" if ctype in NUMERIC_TYPES else "center")
        return
    if ctype == ColumnType.BOOL or isinstance(value, bool):
        set_text(cell, fmt_bool(bool(value), lang))
        return
    if ctype == ColumnType.ENUM or ctype == ColumnType.TEXT or isinstance(value, str):
        set_text(cell, format_value(value, ctype, lang, tz, choices))
        return
    if isinstance(value, datetime):
        cell.value = to_local(value, tz).replace(tzinfo=None)
        cell.number_format = NUMBER_FORMATS[ColumnType.DATETIME]
        return
    if isinstance(value, date):
        cell.value = value
        cell.number_format = NUMBER_FORMATS[ColumnType.DATE]
        return
    if ctype == ColumnType.PCT:
        cell.value = round(value / 100.0, 12)
    elif ctype == ColumnType.DURATION:
        cell.value = value / 86400.0
    else:
        cell.value = value
    cell.number_format = NUMBER_FORMATS.get(ctype, "General")


def _cut(text: str, size: int) -> str:
    """``text`` cut to ``size`` characters, at a word boundary when one is not too far back."""
    if len(text) <= size:
        return text
    head = text[:size]
    space = head.rfind(" ")
    return (head[:space] if space >= size * 2 // 3 else head).rstrip()


def sheet_title(text: str, used: set[str]) -> str:
    """A valid, unique sheet name: no []:*?/\\, no leading/trailing apostrophe, at most 31 characters."""
    base = _BAD_SHEET_CHARS.sub(" ", nfc(text))
    base = re.sub(r"\s+", " ", base).strip().strip("'").strip() or "Sheet"
    name, n = _cut(base, 31), 2
    while name.casefold() in used:
        suffix = f" ({n})"
        name, n = _cut(base, 31 - len(suffix)) + suffix, n + 1
    used.add(name.casefold())
    return name


def column_label(column: Column, lang: str, tz: tzinfo, at: datetime) -> str:
    label = header_label(column, lang, units=column.type == ColumnType.RATE)
    return f"{label} {gmt_label(tz, at)}" if column.type == ColumnType.DATETIME else label


def _fit_widths(ws: Worksheet, widths: dict[int, int], maximum: int = 60) -> None:
    for idx, width in widths.items():
        ws.column_dimensions[get_column_letter(idx)].width = max(8, min(maximum, width + 2))


def _summary_sheet(ws: Worksheet, doc: ReportDocument, lang: str, tz: tzinfo) -> None:
    h = doc.header
    ws.cell(row=1, column=1)
    set_text(ws.cell(row=1, column=1), tr(h.title, lang))
    ws.cell(row=1, column=1).font = Font(bold=True, size=14)
    widths = {1: 12, 2: 12}
    row = 3

    def line(label: str, value: str | None = None, *, bold: bool = False) -> XlCell:
        nonlocal row
        set_text(ws.cell(row=row, column=1), label)
        widths[1] = max(widths[1], len(label))
        if bold:
            ws.cell(row=row, column=1).font = _BOLD
        cell = ws.cell(row=row, column=2)
        if value is not None:
            set_text(cell, value)
            widths[2] = max(widths[2], min(len(value), 80))
        row += 1
        return cell

    line(tr(_L["province"], lang), nfc(h.province))
    issuer = tr(h.issuer, lang)
    line(tr(_L["issuer"], lang), f"{tr(h.issuer_parent, lang)} – {issuer}" if h.issuer_parent else issuer)
    line(tr(_L["period"], lang), period_text(h, lang))
    if h.measured_until < h.period_end:
        line(tr(_L["measured_until"], lang), fmt_datetime(h.measured_until, tz))
    write_value(line(tr(_L["as_of"], lang)), h.as_of, ColumnType.DATE, {}, lang, tz)
    line(tr(_L["generated_at"], lang), fmt_datetime(h.generated_at, tz))
    if h.parameters:
        row += 1
        line(tr(_L["parameters"], lang), bold=True)
        for key, value in h.parameters.items():
            line(nfc(parameter_label(str(key), lang)), format_param(value, lang, tz))
    if doc.summary:
        row += 1
        line(tr(_L["figures"], lang), bold=True)
        for item in doc.summary:
            label = tr(item.label, lang)
            cell = line(f"{label} {gmt_label(tz, h.generated_at)}" if item.type == ColumnType.DATETIME else label)
            write_value(cell, item.value, item.type, item.choices, lang, tz)
            widths[2] = max(widths[2], len(format_value(item.value, item.type, lang, tz, item.choices)))
    if doc.notes:
        row += 1
        line(tr(_L["notes"], lang), bold=True)
        for i, note in enumerate(doc.notes, 1):
            cell = line(f"{i}.", tr(note, lang))
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    _fit_widths(ws, widths, maximum=80)


def _table_sheet(ws: Worksheet, columns: list[Column], rows: list[dict[str, Cell]],
                 total: dict[str, Cell] | None, lang: str, tz: tzinfo, at: datetime) -> None:
    widths: dict[int, int] = {}
    for j, column in enumerate(columns, 1):
        cell = ws.cell(row=1, column=j)
        set_text(cell, column_label(column, lang, tz, at))
        cell.font = _BOLD
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        widths[j] = min(len(str(cell.value)), 30)
    r = 2
    for values in [*rows, *([total] if total is not None else [])]:
        for j, column in enumerate(columns, 1):
            value = values.get(column.key)
            if values is total and value is None:
                continue  # a totals row leaves blank what it does not total
            cell = ws.cell(row=r, column=j)
            write_value(cell, value, column.type, column.choices, lang, tz)
            if column.type == ColumnType.DURATION and isinstance(value, int | float):
                shown = len(str(timedelta(seconds=int(value)))) + 1
            else:
                shown = len(format_value(value, column.type, lang, tz, column.choices))
            widths[j] = max(widths[j], shown)
        r += 1
    if total is not None:
        for j in range(1, len(columns) + 1):
            cell = ws.cell(row=r - 1, column=j)
            cell.font = _BOLD
            cell.border = _TOP
    ws.freeze_panes = "A2"
    if columns:
        last = r - 1 if total is None else r - 2
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(last, 1)}"
    _fit_widths(ws, widths)


def render_xlsx(doc: ReportDocument, lang: str = "vi") -> bytes:
    """The workbook as bytes: summary sheet first, then the tables in document order."""
    tz = tz_of(doc.header)
    wb = Workbook()
    summary = wb.active
    assert summary is not None
    used: set[str] = set()
    summary.title = sheet_title(tr(_L["summary_sheet"], lang), used)
    _summary_sheet(summary, doc, lang, tz)
    for table in doc.tables:
        ws = wb.create_sheet(sheet_title(tr(table.title, lang), used))
        _table_sheet(ws, table.columns, table.rows, table.total, lang, tz, doc.header.generated_at)
    wb.properties.title = tr(doc.header.title, lang)
    wb.properties.creator = "infra-monitor"
    generated = doc.header.generated_at.astimezone(UTC).replace(tzinfo=None)  # core properties are UTC
    wb.properties.created = wb.properties.modified = generated
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()

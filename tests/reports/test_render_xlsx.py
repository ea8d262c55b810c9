"""XLSX output, read back with openpyxl: sheet order, typed cells, number formats, panes, no formulas."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime, timedelta

import pytest
from openpyxl import Workbook, load_workbook

from infra_monitor.reports.render_xlsx import render_xlsx, sheet_title
from tests.reports.sample_doc import INJECTIONS, NFC_NAME, sample_doc


@pytest.fixture(scope="module")
def raw() -> bytes:
    return render_xlsx(sample_doc(), "vi")


@pytest.fixture(scope="module")
def wb(raw: bytes) -> Workbook:
    return load_workbook(io.BytesIO(raw))


def test_sheet_order_and_names(wb: Workbook) -> None:
    assert wb.sheetnames[0] == "Tổng hợp"
    assert wb.sheetnames[1] == "Khả dụng theo huyện"
    assert len(wb.sheetnames) == 3
    assert all(len(n) <= 31 for n in wb.sheetnames)


def test_sheet_title_rules() -> None:
    used: set[str] = set()
    assert sheet_title("A/B: [x]*?\\", used) == "A B x"
    long = "Tình trạng hoạt động của các điểm cấp xã và cấp huyện"
    first, second = sheet_title(long, used), sheet_title(long, used)
    assert len(first) <= 31 and len(second) <= 31 and first != second and second.endswith("(2)")


def test_summary_sheet(wb: Workbook) -> None:
    ws = wb["Tổng hợp"]
    assert ws["A1"].value.startswith("Báo cáo tình trạng") and ws["A1"].font.b
    cells = {ws.cell(row=r, column=1).value: ws.cell(row=r, column=2) for r in range(1, ws.max_row + 1)}
    assert cells["Kỳ báo cáo"].value == "01/12/2026 – 31/12/2026"
    assert cells["Cơ quan ban hành"].value == "UBND tỉnh Bắc Giang – Sở Thông tin và Truyền thông"
    assert cells["Tỷ lệ kết nối"].value == pytest.approx(0.9866) and cells["Tỷ lệ kết nối"].number_format == "0.00%"
    assert cells["Khả dụng toàn mạng"].value == "—"
    assert cells["Tổng thời gian gián đoạn"].number_format == "[h]:mm:ss"
    assert cells["Sự cố đầu tiên (GMT+7)"].value == datetime(2026, 12, 15, 0, 30)
    assert cells["Cấp thấp nhất"].value == "Cấp xã"
    assert cells["Đã đo đủ"].value == "có"
    assert "Ghi chú" in cells and "levels" in cells


def test_table_sheet(wb: Workbook) -> None:
    ws = wb.worksheets[2]
    assert ws.freeze_panes == "A2"
    header = [c.value for c in ws[1]]
    assert header[0] == "Tên điểm" and header[5] == "Lần mất kết nối cuối (GMT+7)"
    assert all(c.font.b for c in ws[1])
    row = {h: c for h, c in zip(header, ws[2], strict=True)}
    assert row["Khả dụng"].value == 1 and row["Khả dụng"].number_format == "0.00%"
    assert row["Thời gian gián đoạn"].value == timedelta(seconds=5)
    assert row["Thời gian gián đoạn"].number_format == "[h]:mm:ss"
    assert row["Lần mất kết nối cuối (GMT+7)"].value == datetime(2026, 12, 15, 0, 30)  # naive local
    assert row["Lần mất kết nối cuối (GMT+7)"].number_format == "dd/mm/yyyy hh:mm"
    assert row["Cấp"].value == "Cấp huyện" and row["Đang hoạt động"].value == "có"
    assert row["Lưu lượng TB (kbit/s)"].number_format == "#,##0.00"
    assert row["Thay đổi thiết bị"].value == -2 and row["Thay đổi thiết bị"].number_format == "#,##0"
    assert ws.cell(row=3, column=4).value == "—"  # PCT None
    assert ws.cell(row=8, column=1).value == NFC_NAME
    assert ws.max_row == 1 + 200 + 1
    total = ws[ws.max_row]
    assert total[0].value == "Tổng cộng" and total[0].font.b and total[3].value is None
    assert ws.column_dimensions["A"].width > ws.column_dimensions["C"].width >= 8
    dist = wb.worksheets[1]
    assert dist["D2"].number_format == "dd/mm/yyyy"


def test_text_is_never_a_formula(wb: Workbook, raw: bytes) -> None:
    ws = wb.worksheets[2]
    for i, name in enumerate(INJECTIONS):
        cell = ws.cell(row=2 + i, column=1)
        # XML turns a raw CR into LF on reading; what matters is that it stays quoted text
        assert cell.value in (name, name.replace("\r", "\n")) and cell.data_type == "s" and cell.quotePrefix
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        assert all("<f>" not in zf.read(n).decode() for n in zf.namelist() if n.startswith("xl/worksheets/"))


def test_english() -> None:
    wb = load_workbook(io.BytesIO(render_xlsx(sample_doc(rows=3), "en")))
    assert wb.sheetnames[0] == "Summary"
    assert [c.value for c in wb.worksheets[2][1]][:3] == ["Site", "District", "Level"]
    assert wb.worksheets[2]["G2"].value == "yes"

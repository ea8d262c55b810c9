"""CSV output: a zip of summary.csv + one csv per table, UTF-8 BOM, machine values, injection neutralised."""

from __future__ import annotations

import csv
import io
import unicodedata
import zipfile

import pytest

from infra_monitor.reports.render_csv import render_csv
from tests.reports.sample_doc import INJECTIONS, NFC_NAME, sample_doc


def _read(data: bytes) -> tuple[list[str], dict[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        return names, {n: zf.read(n) for n in names}


def _rows(raw: bytes) -> list[list[str]]:
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


@pytest.fixture(scope="module")
def files() -> tuple[list[str], dict[str, bytes]]:
    return _read(render_csv(sample_doc(), "vi"))


def test_members_and_order(files: tuple[list[str], dict[str, bytes]]) -> None:
    names, _ = files
    assert names == ["summary.csv", "districts.csv", "sites.csv"]


def test_header_labels_and_machine_values(files: tuple[list[str], dict[str, bytes]]) -> None:
    _, data = files
    rows = _rows(data["sites.csv"])
    assert rows[0] == ["Tên điểm", "Huyện", "Cấp", "Khả dụng (%)", "Thời gian gián đoạn (s)",
                       "Lần mất kết nối cuối", "Đang hoạt động", "Lưu lượng TB (kbit/s)", "Thay đổi thiết bị"]
    assert len(rows) == 1 + 200 + 1  # header, rows, total
    first = rows[1]
    assert first[2] == "Cấp huyện"              # ENUM label
    assert first[3] == "100.0"                  # raw pct, '.' decimal
    assert first[4] == "5"                      # seconds
    assert first[5] == "2026-12-15T00:30:00+07:00"  # local ISO 8601 with offset: the day after in UTC terms
    assert first[6] == "có"
    assert first[7] == "1234.5"
    assert first[8] == "-2"                     # a negative number is a numeric cell: not mangled
    assert rows[2][3] == ""                     # None: empty cell
    assert rows[-1][0] == "Tổng cộng" and rows[-1][3] == ""
    dist = _rows(data["districts.csv"])
    assert dist[1][3] == "2026-12-01"


def test_injection_neutralised(files: tuple[list[str], dict[str, bytes]]) -> None:
    _, data = files
    names = [r[0] for r in _rows(data["sites.csv"])[1:1 + len(INJECTIONS)]]
    assert names == ["'" + n for n in INJECTIONS]
    assert all(not r[0].startswith(("=", "+", "-", "@", "\t", "\r")) for r in _rows(data["sites.csv"]))


def test_nfc(files: tuple[list[str], dict[str, bytes]]) -> None:
    _, data = files
    for raw in data.values():
        assert unicodedata.is_normalized("NFC", raw.decode("utf-8-sig"))
    assert _rows(data["sites.csv"])[7][0] == NFC_NAME


def test_summary(files: tuple[list[str], dict[str, bytes]]) -> None:
    _, data = files
    rows = _rows(data["summary.csv"])
    assert rows[0] == ["Chỉ tiêu", "Giá trị"]
    values = dict((r[0], r[1]) for r in rows[1:])
    assert values["Tỉnh"] == "Bắc Giang"
    assert values["Cơ quan ban hành"] == "Sở Thông tin và Truyền thông"
    assert values["Từ (bao gồm)"] == "2026-12-01T00:00:00+07:00"
    assert values["Tỷ lệ kết nối (%)"] == "98.66"
    assert values["Khả dụng toàn mạng (%)"] == ""
    assert values["Tổng thời gian gián đoạn (s)"] == "3900"
    assert values["Cấp thấp nhất"] == "Cấp xã"
    assert values["levels"] == "district, commune"


def test_english() -> None:
    _, data = _read(render_csv(sample_doc(rows=3), "en"))
    rows = _rows(data["sites.csv"])
    assert rows[0][:4] == ["Site", "District", "Level", "Availability (%)"]
    assert rows[1][2] == "District" and rows[1][6] == "yes"
    assert _rows(data["summary.csv"])[0] == ["Item", "Value"]

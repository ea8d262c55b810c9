"""PDF output, checked with Debian's poppler-utils (pdftotext, pdfinfo, pdffonts): Decree 30 header,
Vietnamese text intact, A4, embedded Tinos/Liberation fonts, page numbers from page 2, margins."""

from __future__ import annotations

import re
import subprocess
import time
import unicodedata
from pathlib import Path

import pytest

from infra_monitor.reports.render_pdf import FontCandidate, FontMissingError, find_font, render_html, render_pdf
from tests.reports.sample_doc import NFC_NAME, sample_doc
from tests.requirements import missing, require_commands

MM = 72 / 25.4


@pytest.fixture(scope="module")
def pdf_vi(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    doc = sample_doc()
    started = time.perf_counter()
    data = render_pdf(doc, "vi")
    elapsed = time.perf_counter() - started
    path = tmp_path_factory.mktemp("pdf") / "vi.pdf"
    path.write_bytes(data)
    return path, elapsed


@pytest.fixture(scope="module")
def pdf_en(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pdf") / "en.pdf"
    path.write_bytes(render_pdf(sample_doc(rows=30), "en"))
    return path


def _run(*args: str | Path) -> str:
    require_commands(str(args[0]))
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, check=True).stdout


def _text(path: Path, first: int | None = None, last: int | None = None) -> str:
    pages = [*(["-f", str(first)] if first else []), *(["-l", str(last)] if last else [])]
    return _run("pdftotext", *pages, path, "-")


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _pages(path: Path) -> int:
    return int(re.search(r"^Pages:\s+(\d+)", _run("pdfinfo", path), re.M).group(1))  # type: ignore[union-attr]


def test_starts_as_pdf(pdf_vi: tuple[Path, float]) -> None:
    path, _elapsed = pdf_vi   # speed is measured by bench/bench_reports.py, never asserted in a test
    assert path.read_bytes().startswith(b"%PDF-")


def test_decree_header_and_vietnamese_text(pdf_vi: tuple[Path, float]) -> None:
    text = _text(pdf_vi[0])
    assert unicodedata.is_normalized("NFC", text)
    flat = _flat(text)
    for expected in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                     "Bắc Giang, ngày 05 tháng 01 năm 2027", "UBND TỈNH BẮC GIANG",
                     "SỞ THÔNG TIN VÀ TRUYỀN THÔNG", "Báo cáo tình trạng hoạt động mạng truyền số liệu",
                     "Nơi nhận:", "- Lưu: VT, TTCNTT.", "98,66 %", "1 giờ 05 phút", "15/12/2026 00:30 (GMT+7)",
                     "Cấp xã", NFC_NAME, "Ghi chú", "Thời gian bảo trì theo kế hoạch không tính là gián đoạn.",
                     "I. Tình hình chung", "II. Chi tiết theo điểm", "Ngưỡng 99 %", "Chiều vào", "Chiều ra",
                     '=HYPERLINK("http://', "Tổng cộng"):
        assert expected in flat, expected


def test_a4_several_pages(pdf_vi: tuple[Path, float]) -> None:
    info = _run("pdfinfo", pdf_vi[0])
    w, h = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info).groups())  # type: ignore[union-attr]
    assert (w, h) == (pytest.approx(595.28, abs=0.01), pytest.approx(841.89, abs=0.01))
    assert _pages(pdf_vi[0]) > 1


def test_fonts_embedded(pdf_vi: tuple[Path, float]) -> None:
    lines = _run("pdffonts", pdf_vi[0]).splitlines()[2:]
    assert lines, "no fonts listed"
    for line in lines:
        name, emb = line.split()[0], line.split()[-5]
        assert emb == "yes", line
        assert "Tinos" in name or "Liberation" in name, line


def test_page_numbers_from_page_two(pdf_vi: tuple[Path, float]) -> None:
    path = pdf_vi[0]
    first = [ln for ln in _text(path, 1, 1).splitlines() if ln.strip()]
    second = [ln for ln in _text(path, 2, 2).splitlines() if ln.strip()]
    pages = _pages(path)
    last = [ln for ln in _text(path, pages, pages).splitlines() if ln.strip()]
    assert first[0].strip() != "1" and "1" not in [ln.strip() for ln in first[:3]]
    assert second[0].strip() == "2"
    assert last[0].strip() == str(pages)


def test_margins_and_top_page_number(pdf_vi: tuple[Path, float]) -> None:
    html = _run("pdftotext", "-bbox", "-f", "2", "-l", "3", pdf_vi[0], "-")
    words = [(float(a), float(b), float(c), float(d), w) for a, b, c, d, w in re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', html)]
    assert words
    assert min(w[0] for w in words) >= 30 * MM - 1              # left 30 mm
    assert max(w[2] for w in words) <= 595.28 - 15 * MM + 1     # right 15 mm
    body = [w for w in words if w[4] not in ("2", "3")]
    assert min(w[1] for w in body) >= 20 * MM - 1               # top 20 mm
    assert max(w[3] for w in body) <= 841.89 - 20 * MM + 1      # bottom 20 mm
    number = [w for w in words if w[4] == "2" and w[3] < 20 * MM]
    assert number, "page number in the top margin"
    assert abs((number[0][0] + number[0][2]) / 2 - (30 * MM + (595.28 - 15 * MM)) / 2) < 3  # centred


def test_english_labels_national_title_kept(pdf_en: Path) -> None:
    flat = _flat(_text(pdf_en))
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in flat and "Độc lập - Tự do - Hạnh phúc" in flat
    assert "Bắc Giang, 05 January 2027" in flat
    assert "Recipients:" in flat and "Key figures" in flat and "Nơi nhận" not in flat
    assert "98.66%" in flat and "1 h 05 min" in flat


def test_html_structure() -> None:
    html = render_html(sample_doc(rows=5), "vi")
    assert unicodedata.is_normalized("NFC", html)
    assert html.count("<thead>") == 3  # summary + two tables: header rows repeat on every page
    assert html.count("<svg") == 2
    assert "&lt;" not in html or "HYPERLINK" in html


def test_missing_font_names_the_package(tmp_path: Path) -> None:
    with pytest.raises(FontMissingError, match="apt-get install -y fonts-croscore"):
        find_font((FontCandidate("Tinos", tmp_path, "Tinos", "fonts-croscore"),))


def test_liberation_fallback(tmp_path: Path) -> None:
    liberation = Path("/usr/share/fonts/truetype/liberation2")
    if not (liberation / "LiberationSerif-Regular.ttf").is_file():
        missing("fonts-liberation2 is not installed (make test installs it: apt-get install fonts-liberation2)")
    font = find_font((FontCandidate("Tinos", tmp_path, "Tinos", "fonts-croscore"),
                      FontCandidate("Liberation Serif", liberation, "LiberationSerif", "fonts-liberation2")))
    assert font.family == "Liberation Serif" and len(font.files) == 4
    assert 'src: url("file:///usr/share/fonts/truetype/liberation2/' in font.font_face_css()

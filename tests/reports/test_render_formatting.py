"""Value formatting per column type and language (infra_monitor.reports.formatting) and the chart SVG."""

from __future__ import annotations

import unicodedata
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime

import pytest

from infra_monitor.reports.document import Chart, ChartSeries, ColumnType, t
from infra_monitor.reports.formatting import (
    fmt_duration,
    format_value,
    period_text,
    place_date_line,
    tz_of,
)
from infra_monitor.reports.render_svg import chart_svg, nice_ticks
from inventory.csvsafe import neutralise, restore
from tests.reports.sample_doc import LEVELS, NFC_NAME, NFD_NAME, sample_doc

TZ = tz_of(sample_doc(rows=1).header)
S = ColumnType


@pytest.mark.parametrize(("value", "ctype", "vi", "en"), [
    (99.98, S.PCT, "99,98 %", "99.98%"),
    (None, S.PCT, "—", "—"),
    (1234, S.INT, "1.234", "1,234"),
    (-2, S.INT, "-2", "-2"),
    (1234.5, S.FLOAT, "1.234,50", "1,234.50"),
    (12500.0, S.RATE, "12,5 Mbps", "12.5 Mbps"),
    (3900, S.DURATION, "1 giờ 05 phút", "1 h 05 min"),
    (40, S.DURATION, "40 giây", "40 s"),
    (303, S.DURATION, "5 phút 03 giây", "5 min 03 s"),
    (2 * 86400 + 3 * 3600 + 300, S.DURATION, "2 ngày 03 giờ 05 phút", "2 d 03 h 05 min"),
    (True, S.BOOL, "có", "yes"),
    (False, S.BOOL, "không", "no"),
    (date(2027, 1, 5), S.DATE, "05/01/2027", "05/01/2027"),
    (datetime(2026, 12, 14, 17, 30, tzinfo=UTC), S.DATETIME, "15/12/2026 00:30 (GMT+7)", "15/12/2026 00:30 (GMT+7)"),
    (datetime(2026, 12, 14, 17, 30), S.DATETIME, "15/12/2026 00:30 (GMT+7)", "15/12/2026 00:30 (GMT+7)"),
])
def test_format_value(value: object, ctype: ColumnType, vi: str, en: str) -> None:
    assert format_value(value, ctype, "vi", TZ) == vi  # type: ignore[arg-type]
    assert format_value(value, ctype, "en", TZ) == en  # type: ignore[arg-type]


def test_enum_through_choices_and_unknown_code() -> None:
    assert format_value("commune", S.ENUM, "vi", TZ, LEVELS) == "Cấp xã"
    assert format_value("commune", S.ENUM, "en", TZ, LEVELS) == "Commune"
    assert format_value("hamlet", S.ENUM, "en", TZ, LEVELS) == "hamlet"


def test_text_is_nfc() -> None:
    assert NFD_NAME != NFC_NAME
    out = format_value(NFD_NAME, S.TEXT, "vi", TZ)
    assert out == NFC_NAME and unicodedata.is_normalized("NFC", out)


def test_negative_duration_and_timedelta() -> None:
    from datetime import timedelta

    assert fmt_duration(timedelta(hours=1, minutes=5), "vi") == "1 giờ 05 phút"
    assert fmt_duration(-40, "en") == "-40 s"


def test_place_date_line_decree_padding() -> None:
    doc = sample_doc(rows=1)
    assert place_date_line(doc.header, "vi") == "Bắc Giang, ngày 05 tháng 01 năm 2027"
    march = doc.header.model_copy(update={"generated_at": datetime(2027, 3, 9, 18, 0, tzinfo=UTC)})
    assert place_date_line(march, "vi") == "Bắc Giang, ngày 10 tháng 3 năm 2027"
    feb = doc.header.model_copy(update={"generated_at": datetime(2027, 2, 20, 1, 0, tzinfo=UTC)})
    assert place_date_line(feb, "vi") == "Bắc Giang, ngày 20 tháng 02 năm 2027"
    assert place_date_line(doc.header, "en") == "Bắc Giang, 05 January 2027"


def test_period_text_local_days_end_exclusive() -> None:
    doc = sample_doc(rows=1)
    assert period_text(doc.header, "vi") == "01/12/2026 – 31/12/2026"
    odd = doc.header.model_copy(update={"period_end": datetime(2026, 12, 2, 5, 0, tzinfo=UTC)})
    assert period_text(odd, "vi") == "01/12/2026 00:00 – 02/12/2026 12:00 (GMT+7)"


@pytest.mark.parametrize("text", ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "\tX", "\rY"])
def test_neutralise(text: str) -> None:
    assert neutralise(text) == "'" + text
    assert neutralise("Xã " + text) == "Xã " + text
    assert restore(neutralise(text)) == text and restore("'quoted") == "'quoted"


def test_nice_ticks_distinct_labels() -> None:
    for lo, hi in ((90, 100), (99, 100), (99.9, 100), (0, 2100), (0, 1)):
        ticks, dec = nice_ticks(lo, hi)
        labels = [f"{v:.{dec}f}" for v in ticks]
        assert len(set(labels)) == len(labels) >= 3
        assert ticks[0] >= lo - 1e-9 and ticks[-1] <= hi + (ticks[1] - ticks[0])


def test_chart_svg_is_valid_and_respects_range() -> None:
    doc = sample_doc(rows=1)
    svg = chart_svg(doc.chart("availability"), "vi", "Tinos")
    root = ET.fromstring(svg)
    texts = [el.text for el in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "90" in texts and "100" in texts and "0" not in texts  # value_min/value_max respected
    assert "Ngưỡng 99 %" in texts
    assert "—" in texts  # Hiệp Hòa is not measurable
    two = chart_svg(doc.chart("traffic"), "en", "Tinos")
    texts2 = [el.text for el in ET.fromstring(two).iter("{http://www.w3.org/2000/svg}text")]
    assert "In" in texts2 and "Out" in texts2  # legend for two series


def test_chart_svg_escapes_labels() -> None:
    chart = Chart(key="c", title=t("a", "a"), unit="%", labels=["<b>&"],
                  series=[ChartSeries(name=t("x", "x"), values=[50.0])])
    ET.fromstring(chart_svg(chart, "vi"))

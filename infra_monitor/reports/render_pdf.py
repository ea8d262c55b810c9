"""PDF output of a report: HTML from a Jinja2 template, laid out by WeasyPrint per Decree 30/2020/NĐ-CP.

WeasyPrint shapes text with pango/HarfBuzz, so Vietnamese (stacked and decomposed diacritics) comes out
right, and CSS paged media gives the decree's A4 margins and "page number from page 2" rule. The font is a
serif with every Vietnamese glyph, embedded: Tinos (Debian ``fonts-croscore``), else Liberation Serif 2.x
(``fonts-liberation2``); without either :class:`FontMissingError` names the package to install — never a
silent fallback to a font without Vietnamese glyphs. See ``docs/reports-pdf.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from infra_monitor.reports.document import Column, ColumnType, ReportDocument, Section, Table, Text, parameter_label
from infra_monitor.reports.formatting import (
    NUMERIC_TYPES,
    fmt_date,
    fmt_datetime,
    fmt_number,
    format_cell,
    format_param,
    format_value,
    gmt_label,
    nfc,
    period_text,
    place_date_line,
    tr,
    tz_of,
)
from infra_monitor.reports.render_svg import chart_svg

TEMPLATES = Path(__file__).with_name("templates")
NATIONAL_TITLE = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
NATIONAL_MOTTO = "Độc lập - Tự do - Hạnh phúc"
STYLES = ("Regular", "Bold", "Italic", "BoldItalic")
_FACES = {"Regular": ("normal", "normal"), "Bold": ("bold", "normal"), "Italic": ("normal", "italic"),
          "BoldItalic": ("bold", "italic")}


@dataclass(frozen=True)
class FontCandidate:
    family: str
    directory: Path
    stem: str
    package: str

    def files(self) -> dict[str, Path]:
        return {style: self.directory / f"{self.stem}-{style}.ttf" for style in STYLES}


FONT_CANDIDATES = (
    FontCandidate("Tinos", Path("/usr/share/fonts/truetype/croscore"), "Tinos", "fonts-croscore"),
    FontCandidate("Liberation Serif", Path("/usr/share/fonts/truetype/liberation2"), "LiberationSerif",
                  "fonts-liberation2"),
)


class FontMissingError(RuntimeError):
    """No serif font with the Vietnamese glyphs is installed."""


@dataclass(frozen=True)
class ReportFont:
    family: str
    files: dict[str, Path] = field(default_factory=dict)

    def font_face_css(self) -> str:
        rules = []
        for style, path in self.files.items():
            weight, slant = _FACES[style]
            rules.append(f'@font-face {{ font-family: "{self.family}"; src: url("{path.as_uri()}");'
                         f" font-weight: {weight}; font-style: {slant}; }}")
        return "\n".join(rules)


def find_font(candidates: tuple[FontCandidate, ...] = FONT_CANDIDATES) -> ReportFont:
    """The first candidate with all four styles installed, else :class:`FontMissingError`."""
    for cand in candidates:
        files = cand.files()
        if all(p.is_file() for p in files.values()):
            return ReportFont(cand.family, files)
    wanted = " or ".join(f"{c.family} ({c.directory}/{c.stem}-*.ttf)" for c in candidates)
    raise FontMissingError(
        f"the pdf needs a serif font with Vietnamese glyphs: {wanted} is missing; "
        f"install it with: sudo apt-get install -y {candidates[0].package if candidates else 'fonts-croscore'}")


_L = {
    "period": Text(vi="Kỳ báo cáo", en="Reporting period"),
    "as_of": Text(vi="Cơ cấu hành chính tại ngày", en="Administrative structure as of"),
    "measured_until": Text(vi="Số liệu đo đến", en="Measured until"),
    "generated_at": Text(vi="Thời điểm lập báo cáo", en="Generated at"),
    "province": Text(vi="Tỉnh", en="Province"),
    "summary": Text(vi="Số liệu tổng hợp", en="Key figures"),
    "item": Text(vi="Chỉ tiêu", en="Item"),
    "value": Text(vi="Giá trị", en="Value"),
    "notes": Text(vi="Ghi chú", en="Notes"),
    "recipients": Text(vi="Nơi nhận:", en="Recipients:"),
    "table": Text(vi="Bảng", en="Table"),
    "figure": Text(vi="Biểu đồ", en="Chart"),
    "more_rows": Text(vi="… và {n} dòng khác (đầy đủ trong tệp xlsx, csv, json của cùng báo cáo).",
                      en="… and {n} more rows (all of them in the xlsx, csv and json of the same report)."),
}


def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    return env


_ENV: Environment | None = None


def _table_ctx(table: Table, lang: str, doc: ReportDocument, number: int) -> dict[str, Any]:
    tz = tz_of(doc.header)

    def text(column: Column, values: dict[str, Any], total: bool) -> str:
        if total and values.get(column.key) is None:
            return ""  # a totals row leaves blank what it does not total
        value = values.get(column.key)
        if column.type == ColumnType.DATETIME and isinstance(value, datetime):
            return fmt_datetime(value, tz, label=False)  # the zone is in the column header
        return format_cell(column, value, lang, tz)

    def cells(values: dict[str, Any], total: bool = False) -> list[dict[str, Any]]:
        return [{"text": text(c, values, total), "cls": _cell_class(c)} for c in table.columns]

    limit = table.pdf_max_rows if table.pdf_max_rows is not None else len(table.rows)

    def label(column: Column) -> str:
        base = tr(column.label, lang)
        return f"{base} {gmt_label(tz, doc.header.generated_at)}" if column.type == ColumnType.DATETIME else base

    return {
        "number": number,
        "title": tr(table.title, lang),
        "description": tr(table.description, lang),
        "wide": len(table.columns) > 6,
        "landscape": len(table.columns) > LANDSCAPE_COLUMNS,
        "columns": [{"label": label(c), "cls": _cell_class(c)} for c in table.columns],
        "rows": [cells(r) for r in table.rows[:limit]],
        "more": (tr(_L["more_rows"], lang).format(n=fmt_number(len(table.rows) - limit, lang))
                 if len(table.rows) > limit else ""),
        "total": cells(table.total, total=True) if table.total is not None else None,
    }


# Tables wider than this go on A4 landscape pages (same margins) in a smaller type, so no column is cut.
LANDSCAPE_COLUMNS = 10


def _cell_class(column: Column) -> str:
    if column.type == ColumnType.DURATION:
        return "num wrap"  # "18 ngày 06 giờ 15 phút" may break between units
    if column.type in NUMERIC_TYPES:
        return "num"
    if column.type in (ColumnType.DATE, ColumnType.DATETIME, ColumnType.BOOL):
        return "mid"
    return "txt"


def context(doc: ReportDocument, lang: str, font: ReportFont) -> dict[str, Any]:
    """What the template needs, every text already formatted, translated and NFC."""
    h, tz = doc.header, tz_of(doc.header)
    facts = [(tr(_L["period"], lang), period_text(h, lang)), (tr(_L["province"], lang), nfc(h.province)),
             (tr(_L["as_of"], lang), fmt_date(h.as_of))]
    if h.measured_until < h.period_end:
        facts.append((tr(_L["measured_until"], lang), fmt_datetime(h.measured_until, tz)))
    facts.append((tr(_L["generated_at"], lang), fmt_datetime(h.generated_at, tz)))
    facts += [(nfc(parameter_label(str(k), lang)), format_param(v, lang, tz)) for k, v in h.parameters.items()]
    summary = [(tr(s.label, lang), format_value(s.value, s.type, lang, tz, s.choices)) for s in doc.summary]

    placed_tables = {k for s in doc.sections for k in s.tables}
    placed_charts = {k for s in doc.sections for k in s.charts}
    sections = list(doc.sections)
    rest_t = [tb.key for tb in doc.tables if tb.key not in placed_tables]
    rest_c = [c.key for c in doc.charts if c.key not in placed_charts]
    if rest_t or rest_c:  # nothing in the document is left out of the pdf
        sections.append(Section(title=Text(vi="", en=""), tables=rest_t, charts=rest_c))
    counters = {"table": 0, "figure": 0}

    def section_ctx(sec: Section) -> dict[str, Any]:
        tables = []
        for key in sec.tables:
            counters["table"] += 1
            tables.append(_table_ctx(doc.table(key), lang, doc, counters["table"]))
        charts = []
        for key in sec.charts:
            counters["figure"] += 1
            chart = doc.chart(key)
            charts.append({"number": counters["figure"], "title": tr(chart.title, lang),
                           "svg": Markup(chart_svg(chart, lang, font.family))})
        return {"title": tr(sec.title, lang), "paragraphs": [tr(p, lang) for p in sec.paragraphs],
                "tables": tables, "charts": charts}

    recipients = [nfc(r) if r.lstrip().startswith(("-", "–")) else f"- {nfc(r)}" for r in h.recipients]
    return {
        "lang": lang,
        "font_family": font.family,
        "issuer_parent": tr(h.issuer_parent, lang).upper() if h.issuer_parent else "",
        "issuer": tr(h.issuer, lang).upper(),
        "national_title": NATIONAL_TITLE,
        "national_motto": NATIONAL_MOTTO,
        "place_date": place_date_line(h, lang),
        "title": tr(h.title, lang),
        "created": h.generated_at.isoformat(),
        "facts": facts,
        "summary": summary,
        "notes": [tr(n, lang) for n in doc.notes],
        "sections": [section_ctx(s) for s in sections],
        "recipients": recipients,
        "labels": {k: tr(v, lang) for k, v in _L.items()},
    }


def render_html(doc: ReportDocument, lang: str = "vi", font: ReportFont | None = None) -> str:
    """The HTML handed to WeasyPrint (useful to debug the layout in a browser)."""
    global _ENV
    font = font or find_font()
    if _ENV is None:
        _ENV = _env()
    html = _ENV.get_template("report.html").render(**context(doc, lang, font))
    return nfc(html)


def render_pdf(doc: ReportDocument, lang: str = "vi") -> bytes:
    """The report as PDF bytes (A4, fonts embedded)."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    font = find_font()
    fonts = FontConfiguration()
    css = CSS(string=font.font_face_css() + "\n" + (TEMPLATES / "report.css").read_text("utf-8")
              + f'\nhtml, svg {{ font-family: "{font.family}"; }}\n', font_config=fonts)
    html = HTML(string=render_html(doc, lang, font), base_url=str(TEMPLATES))
    pdf = html.write_pdf(stylesheets=[css], font_config=fonts)
    if pdf is None:  # only when a target is given
        raise RuntimeError("WeasyPrint returned no pdf")
    return bytes(pdf)

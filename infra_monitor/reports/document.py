"""The report document: the one typed, versioned structure every output format renders.

A report is computed once (see :mod:`infra_monitor.reports.engine`) into a :class:`ReportDocument`: a
header (kind, period ``[start, end)``, as-of date of the administrative structure, parameters), a summary
(labelled key figures), notes, tables and charts. Cells hold raw values (percentages as 0–100 floats,
durations as whole seconds, datetimes in UTC, enumerated values as codes); the renderers (json, csv, xlsx,
pdf) format them for a language. Because every format reads the same document, the formats cannot
disagree. Labels carry both languages so a rendered file needs nothing but the document.

The JSON form is ``ReportDocument.model_dump(mode="json")``; its schema (``docs/report-schema.json``) is
``ReportDocument.model_json_schema()``. ``SCHEMA_VERSION`` changes on any incompatible change.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = "1.0"
LANGS = ("vi", "en")


class Text(BaseModel):
    """A text in Vietnamese and English."""

    model_config = ConfigDict(frozen=True)
    vi: str
    en: str

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.vi


def t(vi: str, en: str) -> Text:
    return Text(vi=vi, en=en)


class ColumnType(StrEnum):
    TEXT = "text"          # str
    INT = "int"            # int
    FLOAT = "float"        # float, 2 decimals
    PCT = "pct"            # float 0..100 (or None: not measurable), shown "99,98 %"
    DURATION = "duration"  # int seconds, shown "1 h 05 min 03 s" / in xlsx as [h]:mm:ss
    DATETIME = "datetime"  # datetime (UTC), shown in the report's time zone
    DATE = "date"          # date
    RATE = "rate"          # float kbit/s
    ENUM = "enum"          # str code, shown through Column.choices
    BOOL = "bool"          # bool, shown "có/không" / "yes/no"


Cell = str | int | float | bool | datetime | date | None


class Column(BaseModel):
    model_config = ConfigDict(frozen=True)
    key: str
    label: Text
    type: ColumnType = ColumnType.TEXT
    choices: dict[str, Text] = Field(default_factory=dict, description="labels of ENUM codes")

    def label_of(self, value: Any, lang: str) -> str:
        """The label of an ENUM code (the code itself when unknown)."""
        choice = self.choices.get(str(value)) if value is not None else None
        return choice.get(lang) if choice is not None else ("" if value is None else str(value))


class Table(BaseModel):
    """One table: the same in a csv file, an xlsx sheet and a pdf section."""

    key: str = Field(description="file/sheet name: [a-z0-9_]+")
    title: Text
    description: Text | None = None
    columns: list[Column]
    rows: list[dict[str, Cell]] = Field(default_factory=list, description="one dict per row, keyed by column key")
    total: dict[str, Cell] | None = Field(default=None, description="an optional totals row")
    pdf_max_rows: int | None = Field(default=None, description="the pdf shows only the first rows (the table is "
                                     "sorted worst first) and says how many more the other formats hold")


class SummaryItem(BaseModel):
    key: str
    label: Text
    value: Cell
    type: ColumnType = ColumnType.TEXT
    choices: dict[str, Text] = Field(default_factory=dict)

    def as_column(self) -> Column:
        return Column(key=self.key, label=self.label, type=self.type, choices=self.choices)


class ChartKind(StrEnum):
    BAR = "bar"              # one bar per label (horizontal in the pdf)


class ChartSeries(BaseModel):
    name: Text
    values: list[float | None]


class Chart(BaseModel):
    """A bar chart: ``labels`` on one axis, one or two series of values (same unit), optional reference
    lines (a threshold)."""

    key: str
    title: Text
    kind: ChartKind = ChartKind.BAR
    unit: str = Field(description="'%' or 'kbit/s'…")
    labels: list[str]
    series: list[ChartSeries]
    references: list[tuple[Text, float]] = Field(default_factory=list, description="(label, value) lines")
    value_max: float | None = Field(default=None, description="axis maximum (100 for percentages)")
    value_min: float | None = Field(default=None, description="axis minimum (e.g. 90 to zoom availabilities)")


class Section(BaseModel):
    """Where a table or chart sits in the pdf: under a heading, with paragraphs before it."""

    title: Text
    paragraphs: list[Text] = Field(default_factory=list)
    tables: list[str] = Field(default_factory=list, description="keys of tables")
    charts: list[str] = Field(default_factory=list, description="keys of charts")


PARAMETER_LABELS: dict[str, Text] = {
    "threshold_pct": t("Ngưỡng khả dụng (%)", "Availability threshold (%)"),
    "utilisation_threshold_pct": t("Ngưỡng sử dụng băng thông (%)", "Utilisation threshold (%)"),
    "maintenance_as_down": t("Tính thời gian bảo trì là gián đoạn", "Maintenance counted as downtime"),
    "no_data_as_down": t("Tính thời gian không có dữ liệu là gián đoạn", "No data counted as downtime"),
    "tier_reference": t("Tiêu chuẩn tham chiếu mức", "Tier reference"),
    "timezone": t("Múi giờ", "Time zone"),
}


def parameter_label(key: str, lang: str) -> str:
    """The label of a header parameter (the key itself when unknown)."""
    label = PARAMETER_LABELS.get(key)
    return label.get(lang) if label is not None else key


class ReportKind(StrEnum):
    COVERAGE = "coverage"
    AVAILABILITY = "availability"
    DATACENTER = "datacenter"
    CAPACITY = "capacity"
    VIDEOCONFERENCE = "videoconference"


class ReportHeader(BaseModel):
    schema_version: str = SCHEMA_VERSION
    kind: ReportKind
    title: Text
    province: str = Field(description="province named in the report (from the structure at the as-of date)")
    issuer: Text = Field(description="issuing body, top left of the pdf")
    issuer_parent: Text | None = Field(default=None, description="the body above the issuer (line above it)")
    place: str = Field(description="place in the date line ('Bắc Giang, ngày …')")
    generated_at: datetime = Field(description="UTC")
    period_start: datetime = Field(description="UTC, inclusive")
    period_end: datetime = Field(description="UTC, exclusive")
    measured_until: datetime = Field(description="UTC: min(period_end, generated_at); later time is not measured")
    as_of: date = Field(description="date of the administrative structure the report counts against")
    timezone: str = "Asia/Ho_Chi_Minh"
    parameters: dict[str, Any] = Field(default_factory=dict)
    recipients: list[str] = Field(default_factory=list, description="'Nơi nhận' lines of the pdf")


class ReportDocument(BaseModel):
    header: ReportHeader
    summary: list[SummaryItem] = Field(default_factory=list)
    notes: list[Text] = Field(default_factory=list, description="caveats that must travel with the figures")
    sections: list[Section] = Field(default_factory=list)
    tables: list[Table] = Field(default_factory=list)
    charts: list[Chart] = Field(default_factory=list)

    def table(self, key: str) -> Table:
        return next(tb for tb in self.tables if tb.key == key)

    def chart(self, key: str) -> Chart:
        return next(c for c in self.charts if c.key == key)

    def summary_value(self, key: str) -> Cell:
        return next(s.value for s in self.summary if s.key == key)

"""Human formatting of report values, per :class:`ColumnType` and language (used by the pdf and for labels).

Vietnamese: decimal comma and dot thousands (``99,98 %``, ``1.234``); English: decimal point and comma
thousands (``99.98%``, ``1,234``). Dates ``dd/mm/yyyy`` in both; datetimes are converted from UTC to the
report's time zone and labelled (``05/01/2027 03:00 (GMT+7)``). Durations ``1 giờ 05 phút`` / ``1 h 05 min``
(seconds when under an hour). ``None`` is "not measurable" and shows as ``—``. Every returned text is NFC.

Number and date primitives come from :mod:`infra_monitor.readmodel.fmt` so reports read like the pages.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from infra_monitor.readmodel.fmt import bitrate, gmt_label, local_dt, number, zone
from infra_monitor.reports.document import Cell, Column, ColumnType, ReportHeader, Text

NOT_MEASURABLE = "—"
NUMERIC_TYPES = frozenset({ColumnType.INT, ColumnType.FLOAT, ColumnType.PCT, ColumnType.DURATION, ColumnType.RATE})

_BOOL = {"vi": ("có", "không"), "en": ("yes", "no")}
_DURATION_UNITS = {"vi": ("ngày", "giờ", "phút", "giây"), "en": ("d", "h", "min", "s")}
_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
              "October", "November", "December")


def nfc(text: str) -> str:
    """``text`` in Unicode NFC (decomposed Vietnamese diacritics composed)."""
    return unicodedata.normalize("NFC", text)


def nfc_deep(value: Any) -> Any:
    """NFC on every string (and dict key) of a JSON-like structure."""
    if isinstance(value, str):
        return nfc(value)
    if isinstance(value, dict):
        return {nfc_deep(k): nfc_deep(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [nfc_deep(v) for v in value]
    return value


def tr(text: Text | None, lang: str) -> str:
    """A :class:`Text` in ``lang``, NFC; empty for None."""
    return "" if text is None else nfc(text.get(lang))


def tz_of(header: ReportHeader) -> tzinfo:
    return zone(header.timezone)


def as_utc(dt: datetime) -> datetime:
    """A datetime as aware UTC (naive values are UTC by the document's contract)."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def to_local(dt: datetime, tz: tzinfo) -> datetime:
    """Aware local datetime of a UTC datetime."""
    return as_utc(dt).astimezone(tz)


def fmt_date(value: date) -> str:
    """``05/01/2027`` (both languages)."""
    return value.strftime("%d/%m/%Y")


def fmt_datetime(value: datetime, tz: tzinfo, *, label: bool = True) -> str:
    """``05/01/2027 03:00 (GMT+7)`` from a UTC datetime."""
    return local_dt(as_utc(value), tz, label=label)


def fmt_number(value: float | int, lang: str, decimals: int = 0) -> str:
    return number(value, lang, decimals)


def fmt_pct(value: float, lang: str, decimals: int = 2) -> str:
    """``99,98 %`` (Vietnamese puts a space before the sign) / ``99.98%``."""
    return f"{number(value, lang, decimals)}{' %' if lang == 'vi' else '%'}"


def fmt_rate(kbps: float, lang: str) -> str:
    """A kbit/s value with a scaled unit (``12,5 Mbps``), as on the pages."""
    return bitrate(kbps * 1000.0, lang)


def fmt_duration(value: float | int | timedelta, lang: str) -> str:
    """``40 giây``, ``5 phút 03 giây``, ``1 giờ 05 phút``, ``2 ngày 03 giờ 05 phút`` (and English units)."""
    seconds = round(value.total_seconds() if isinstance(value, timedelta) else value)
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    d_u, h_u, m_u, s_u = _DURATION_UNITS["en" if lang == "en" else "vi"]
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        text = f"{days} {d_u} {hours:02d} {h_u} {minutes:02d} {m_u}"
    elif hours:
        text = f"{hours} {h_u} {minutes:02d} {m_u}"
    elif minutes:
        text = f"{minutes} {m_u} {secs:02d} {s_u}"
    else:
        text = f"{secs} {s_u}"
    return sign + text


def fmt_bool(value: bool, lang: str) -> str:
    yes, no = _BOOL["en" if lang == "en" else "vi"]
    return yes if value else no


def format_value(value: Cell, ctype: ColumnType, lang: str, tz: tzinfo,
                 choices: dict[str, Text] | None = None) -> str:
    """One value as text for a reader (pdf, labels); ``—`` for None."""
    if value is None:
        return NOT_MEASURABLE
    text: str
    if ctype == ColumnType.ENUM:
        choice = (choices or {}).get(str(value))
        text = choice.get(lang) if choice is not None else str(value)
    elif ctype == ColumnType.BOOL:
        text = fmt_bool(bool(value), lang)
    elif isinstance(value, bool):
        text = fmt_bool(value, lang)
    elif ctype == ColumnType.DATETIME and isinstance(value, datetime):
        text = fmt_datetime(value, tz)
    elif ctype == ColumnType.DATE and isinstance(value, date):
        text = fmt_date(value.date() if isinstance(value, datetime) else value)
    elif isinstance(value, int | float) and ctype in NUMERIC_TYPES:
        if ctype == ColumnType.INT:
            text = fmt_number(value, lang, 0)
        elif ctype == ColumnType.FLOAT:
            text = fmt_number(value, lang, 2)
        elif ctype == ColumnType.PCT:
            text = fmt_pct(value, lang)
        elif ctype == ColumnType.DURATION:
            text = fmt_duration(value, lang)
        else:
            text = fmt_rate(value, lang)
    elif isinstance(value, datetime):
        text = fmt_datetime(value, tz)
    elif isinstance(value, date):
        text = fmt_date(value)
    else:
        text = str(value)
    return nfc(text)


def format_cell(column: Column, value: Cell, lang: str, tz: tzinfo) -> str:
    return format_value(value, column.type, lang, tz, column.choices)


def format_param(value: Any, lang: str, tz: tzinfo) -> str:
    """A header parameter (free-form JSON-like value) as text."""
    if value is None:
        return NOT_MEASURABLE
    if isinstance(value, bool):
        return fmt_bool(value, lang)
    if isinstance(value, datetime):
        return fmt_datetime(value, tz)
    if isinstance(value, date):
        return fmt_date(value)
    if isinstance(value, int | float):
        return fmt_number(value, lang, 0 if isinstance(value, int) or float(value).is_integer() else 2)
    if isinstance(value, list | tuple | set):
        return ", ".join(format_param(v, lang, tz) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{nfc(str(k))}: {format_param(v, lang, tz)}" for k, v in value.items())
    return nfc(str(value))


def period_text(header: ReportHeader, lang: str) -> str:
    """The period in local time: ``01/11/2026 – 30/11/2026`` when it runs midnight to midnight (the end is
    exclusive, so the last day shown is the day before), else ``… 00:00 – … 12:00 (GMT+7)``."""
    tz = tz_of(header)
    start, end = to_local(header.period_start, tz), to_local(header.period_end, tz)
    if start.time() == end.time() == datetime.min.time():
        last = (end - timedelta(days=1)).date()
        return f"{fmt_date(start.date())} – {fmt_date(max(last, start.date()))}"
    return f"{fmt_datetime(start, tz, label=False)} – {fmt_datetime(end, tz, label=False)} {gmt_label(tz, end)}"


def place_date_line(header: ReportHeader, lang: str) -> str:
    """``Bắc Giang, ngày 05 tháng 01 năm 2027`` from generated_at in local time (Decree 30/2020: days below
    10 and months 1 and 2 get a leading zero); ``Bắc Giang, 05 January 2027`` in English."""
    local = to_local(header.generated_at, tz_of(header)).date()
    if lang == "en":
        return nfc(f"{header.place}, {local.day:02d} {_MONTHS_EN[local.month - 1]} {local.year}")
    month = f"{local.month:02d}" if local.month <= 2 else str(local.month)
    return nfc(f"{header.place}, ngày {local.day:02d} tháng {month} năm {local.year}")


# --- spreadsheets (csv, xlsx) ---------------------------------------------------------------------------

_UNIT_SUFFIX = {ColumnType.PCT: "%", ColumnType.DURATION: "s", ColumnType.RATE: "kbit/s"}


def header_label(column: Column, lang: str, *, units: bool) -> str:
    """A column label; with ``units`` the raw unit is appended (``Khả dụng (%)``, ``Thời gian (s)``)."""
    label = tr(column.label, lang)
    unit = _UNIT_SUFFIX.get(column.type)
    return f"{label} ({unit})" if units and unit and f"({unit})" not in label else label

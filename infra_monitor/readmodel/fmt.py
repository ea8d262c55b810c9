"""Formatting shared by the pages and the CLI: local times labelled (GMT+7), Vietnamese numbers, durations.

Vietnamese conventions: dates ``dd/mm/yyyy HH:MM``, decimal comma and dot thousands (``99,98%``,
``1.234``), from Babel's CLDR data for vi-VN; English keeps the same date layout (operators read one
format) with en-US numbers.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.numbers import format_decimal

LOCALES = {"vi": "vi_VN", "en": "en_US"}


@lru_cache(maxsize=8)
def _locale(lang: str) -> Locale:
    return Locale.parse(LOCALES.get(lang, "vi_VN"))


def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def gmt_label(tz: tzinfo, at: datetime | None = None) -> str:
    """``(GMT+7)`` for Asia/Ho_Chi_Minh; minutes shown only when not whole hours (``(GMT+5:30)``)."""
    offset = (at or datetime.now(UTC)).astimezone(tz).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    h, m = divmod(abs(minutes), 60)
    return f"(GMT{sign}{h}{f':{m:02d}' if m else ''})"


def local_dt(dt: datetime | None, tz: tzinfo, *, seconds: bool = False, label: bool = True) -> str:
    """``27/11/2026 10:34 (GMT+7)``; an empty string for None."""
    if dt is None:
        return ""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    local = dt.astimezone(tz)
    text = local.strftime("%d/%m/%Y %H:%M:%S" if seconds else "%d/%m/%Y %H:%M")
    return f"{text} {gmt_label(tz, dt)}" if label else text


def local_time(dt: datetime | None, tz: tzinfo) -> str:
    """``10:34:05`` local time of day, for "updated at" marks."""
    if dt is None:
        return ""
    return dt.astimezone(tz).strftime("%H:%M:%S")


def number(value: float | int | None, lang: str, decimals: int = 0) -> str:
    """``1.234,5`` in Vietnamese, ``1,234.5`` in English; ``—`` for None."""
    if value is None:
        return "—"
    # Round as Python does (binary value, half to even) so every figure matches the reports' arithmetic,
    # then let CLDR place the separators.
    rounded = f"{value:.{decimals}f}"
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    return format_decimal(rounded, format=pattern, locale=_locale(lang), decimal_quantization=False)


def percent(value: float | None, lang: str, decimals: int = 2) -> str:
    """``99,98%`` in Vietnamese, ``99.98%`` in English; ``—`` for None."""
    if value is None:
        return "—"
    return f"{number(value, lang, decimals)}%"


def bitrate(bps: float | None, lang: str) -> str:
    """A bit rate with a unit: ``12,5 Mbps``."""
    if bps is None:
        return "—"
    for unit, scale in (("Gbps", 1e9), ("Mbps", 1e6), ("kbps", 1e3)):
        if abs(bps) >= scale:
            return f"{number(bps / scale, lang, 1)} {unit}"
    return f"{number(bps, lang, 0)} bps"


def duration(delta: timedelta | float | None, lang: str) -> str:
    """Short human duration: ``2 ngày 3 giờ`` / ``2 d 3 h``, ``5 phút`` / ``5 min``, ``40 giây`` / ``40 s``."""
    if delta is None:
        return "—"
    seconds = int(delta.total_seconds() if isinstance(delta, timedelta) else delta)
    seconds = max(seconds, 0)
    units = (("ngày", "d", 86400), ("giờ", "h", 3600), ("phút", "min", 60), ("giây", "s", 1))
    first = next((i for i, u in enumerate(units) if seconds >= u[2]), len(units) - 1)
    parts: list[str] = []
    for vi, en, size in units[first:first + 2]:
        n, seconds = divmod(seconds, size)
        if n or not parts:
            parts.append(f"{n} {vi if lang == 'vi' else en}")
    return " ".join(parts)

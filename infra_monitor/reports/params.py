"""What a report is asked for: kind, period ``[start, end)``, as-of date and the switches of each report.

Periods are given as local dates (Asia/Ho_Chi_Minh by default): ``--from 2026-11-01 --to 2026-12-01`` is
November, from local midnight to local midnight, stored as UTC instants. The as-of date of the
administrative structure defaults to the last day of the period.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, model_validator

from infra_monitor.reports.document import ReportKind


class TierReference(StrEnum):
    TCVN_9250_2012 = "tcvn9250-2012"
    TIA_942 = "tia-942"
    UPTIME = "uptime"


class ReportParams(BaseModel):
    kind: ReportKind
    start: datetime = Field(description="UTC, inclusive")
    end: datetime = Field(description="UTC, exclusive")
    as_of: date
    timezone: str = "Asia/Ho_Chi_Minh"
    threshold_pct: float = Field(99.0, ge=0, le=100, description="a site meets the target at or above this")
    utilisation_threshold_pct: float = Field(80.0, gt=0, le=1000, description="capacity: 'hours above' level")
    maintenance_as_down: bool = Field(False, description="count maintenance as downtime instead of excluding it")
    no_data_as_down: bool = Field(False, description="count time without data as downtime instead of excluding it")
    tier_reference: TierReference = TierReference.TCVN_9250_2012

    @model_validator(mode="after")
    def _check(self) -> ReportParams:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("period bounds must be timezone-aware")
        if self.end <= self.start:
            raise ValueError(f"the period is empty: 'to' ({self.end.isoformat()}) must be after 'from' "
                             f"({self.start.isoformat()})")
        return self


def local_midnight(day: date, tz: str) -> datetime:
    """UTC instant of local midnight starting ``day``."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(tz)).astimezone(UTC)


def params_for(kind: ReportKind | str, start: date, end: date, as_of: date | None = None, *,
               timezone: str = "Asia/Ho_Chi_Minh", **options: object) -> ReportParams:
    """Params for the local dates ``[start, end)`` (``end`` exclusive); as-of defaults to ``end - 1 day``."""
    if end <= start:
        raise ValueError(f"the period is empty: 'to' ({end.isoformat()}) must be after 'from' ({start.isoformat()});"
                         " 'to' is exclusive")
    return ReportParams(kind=ReportKind(kind), start=local_midnight(start, timezone), end=local_midnight(end, timezone),
                        as_of=as_of or end - timedelta(days=1), timezone=timezone, **options)  # type: ignore[arg-type]


def previous_month(today: date) -> tuple[date, date]:
    """``[first day of last month, first day of this month)``."""
    first = today.replace(day=1)
    prev = (first - timedelta(days=1)).replace(day=1)
    return prev, first


def previous_quarter(today: date) -> tuple[date, date]:
    """``[first day of the last full quarter, first day of this quarter)``."""
    q_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    prev_end = q_start
    month = q_start.month - 3
    year = q_start.year
    if month < 1:
        month += 12
        year -= 1
    return date(year, month, 1), prev_end

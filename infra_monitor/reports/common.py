"""Pieces every report shares: labels of levels and states, the availability columns, the policy switches.

Availability follows :mod:`infra_monitor.status.engine.availability`: ``up / (up + down_own + down_parent)``, with
maintenance and no-data time shown but left out of the denominator unless the report's switches count them
as downtime. ``covered_pct`` says what share of the period the figure rests on (the denominator over the
whole period, future included), so 100 % after one minute of data reads as what it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from infra_monitor.reports.dataset import Dataset
from infra_monitor.reports.document import Cell, Column, ColumnType, Text, t
from infra_monitor.reports.params import ReportParams
from infra_monitor.reports.timeline import OutageStats, Segment, downtime_buckets, outage_stats, outages, totals
from infra_monitor.status.engine.availability import Availability

ZERO = timedelta(0)

LEVELS: dict[str, Text] = {
    "datacenter": t("Trung tâm dữ liệu", "Data center"),
    "department": t("Sở, ban, ngành", "Departments"),
    "district": t("Cấp huyện", "Districts"),
    "commune": t("Cấp xã", "Communes"),
    "unit": t("Đơn vị trực thuộc", "Other units"),
    "vc": t("Điểm cầu truyền hình", "Videoconference endpoints"),
}
END_STATES: dict[str, Text] = {
    "up": t("Hoạt động", "Up"),
    "down": t("Mất kết nối (tự hỏng)", "Down (own failure)"),
    "unreachable": t("Không tới được (lỗi phía trên)", "Unreachable (upstream failure)"),
    "maintenance": t("Bảo trì", "Maintenance"),
    "no_data": t("Không có dữ liệu", "No data"),
    "not_monitored": t("Không giám sát", "Not monitored"),
}
BOOL_NOTE = t("có/không", "yes/no")


PDF_DETAIL_ROWS = 40   # detail tables (per site, device, circuit) show their worst rows in the pdf
PDF_LIST_ROWS = 100    # gap lists


def worst_first(rows: list[dict[str, Cell]], key: str = "availability_pct") -> list[dict[str, Cell]]:
    """Rows by ascending ``key`` (worst first), rows without a figure after them, stable otherwise."""
    def order(r: dict[str, Cell]) -> tuple[bool, float]:
        v = r.get(key)
        return (not isinstance(v, int | float), float(v) if isinstance(v, int | float) else 0.0)
    return sorted(rows, key=order)


def vi_num(value: float) -> str:
    """A threshold in a Vietnamese label: decimal comma (``99,5``), no trailing zeros."""
    return f"{value:g}".replace(".", ",")


def col(key: str, vi: str, en: str, type_: ColumnType = ColumnType.TEXT, choices: dict[str, Text] | None = None
        ) -> Column:
    return Column(key=key, label=t(vi, en), type=type_, choices=choices or {})


def level_col(key: str = "level") -> Column:
    return col(key, "Cấp", "Level", ColumnType.ENUM, LEVELS)


def state_col(key: str = "state_at_end", vi: str = "Trạng thái cuối kỳ", en: str = "State at end") -> Column:
    return col(key, vi, en, ColumnType.ENUM, END_STATES)


def availability_columns() -> list[Column]:
    D, PCT, INT = ColumnType.DURATION, ColumnType.PCT, ColumnType.INT
    return [
        col("availability_pct", "Khả dụng", "Availability", PCT),
        col("covered_pct", "Phần kỳ có số liệu", "Share of period measured", PCT),
        col("up_s", "Thời gian hoạt động", "Up", D),
        col("down_own_s", "Mất kết nối (tự hỏng)", "Down (own failure)", D),
        col("down_parent_s", "Không tới được (phía trên)", "Unreachable (upstream)", D),
        col("maintenance_s", "Bảo trì", "Maintenance", D),
        col("no_data_s", "Không có dữ liệu", "No data", D),
        col("outages", "Số lần gián đoạn", "Outages", INT),
        col("longest_outage_s", "Gián đoạn dài nhất", "Longest outage", D),
        col("mttr_s", "Thời gian khắc phục TB (MTTR)", "MTTR", D),
    ]


def availability_pct(av: Availability, p: ReportParams) -> float | None:
    up, down = up_down(av, p)
    return None if up + down == ZERO else 100.0 * (up / (up + down))


def up_down(av: Availability, p: ReportParams) -> tuple[timedelta, timedelta]:
    down = av.down_own + av.down_parent
    if p.maintenance_as_down:
        down += av.maintenance
    if p.no_data_as_down:
        down += av.no_data
    return av.up, down


def covered_pct(av: Availability, p: ReportParams, members: int = 1) -> float:
    period = (p.end - p.start) * max(members, 1)
    up, down = up_down(av, p)
    return 100.0 * ((up + down) / period) if period > ZERO else 0.0


def seconds(td: timedelta | None) -> int | None:
    return None if td is None else round(td.total_seconds())


def stats_of(segs: list[Segment], ds: Dataset) -> OutageStats:
    p = ds.params
    down = downtime_buckets(p.maintenance_as_down, p.no_data_as_down)
    return ds.once("stats", segs, lambda: outage_stats(outages(segs, ds.stop, down)))


def availability_cells(av: Availability, p: ReportParams, stats: OutageStats | None, members: int = 1
                       ) -> dict[str, Cell]:
    out: dict[str, Cell] = {
        "availability_pct": availability_pct(av, p), "covered_pct": covered_pct(av, p, members),
        "up_s": seconds(av.up), "down_own_s": seconds(av.down_own), "down_parent_s": seconds(av.down_parent),
        "maintenance_s": seconds(av.maintenance), "no_data_s": seconds(av.no_data),
    }
    if stats is not None:
        out.update(outages=stats.count, longest_outage_s=seconds(stats.longest), mttr_s=seconds(stats.mttr))
    else:
        out.update(outages=None, longest_outage_s=None, mttr_s=None)
    return out


def sum_av(items: Iterable[Availability]) -> Availability:
    acc = Availability()
    for a in items:
        acc = acc + a
    return acc


def site_totals(ds: Dataset, site_id: int) -> Availability:
    return totals(ds.site_tl.get(site_id, []))


def merge_stats(items: Iterable[OutageStats]) -> OutageStats:
    """Outage figures of a group: counts add up, longest is the maximum, MTTR is weighted by closed outages."""
    lst = list(items)
    closed = [(s.mttr, s.count - s.open) for s in lst if s.mttr is not None and s.count - s.open > 0]
    n = sum(k for _m, k in closed)
    mttr = sum((m * k for m, k in closed), ZERO) / n if n else None
    longest = max((s.longest for s in lst if s.longest is not None), default=None)
    return OutageStats(count=sum(s.count for s in lst), longest=longest, mttr=mttr, open=sum(s.open for s in lst))


def params_summary(p: ReportParams) -> dict[str, Any]:
    """The parameters that shape this kind of report (the others would only confuse a reader)."""
    out: dict[str, Any] = {}
    if p.kind != "capacity":
        out.update(threshold_pct=p.threshold_pct, maintenance_as_down=p.maintenance_as_down,
                   no_data_as_down=p.no_data_as_down)
    else:
        out["utilisation_threshold_pct"] = p.utilisation_threshold_pct
    if p.kind == "datacenter":
        out["tier_reference"] = p.tier_reference.value
    out["timezone"] = p.timezone
    return out


def policy_note(p: ReportParams) -> Text:
    m_vi = "tính là gián đoạn" if p.maintenance_as_down else "không tính vào mẫu số"
    m_en = "counted as downtime" if p.maintenance_as_down else "left out of the denominator"
    n_vi = "tính là gián đoạn" if p.no_data_as_down else "không tính vào mẫu số"
    n_en = "counted as downtime" if p.no_data_as_down else "left out of the denominator"
    return t(f"Khả dụng tính theo thời gian từ các khoảng trạng thái (không đếm mẫu). Thời gian bảo trì: {m_vi}; "
             f"thời gian không có dữ liệu: {n_vi}. Cột “Phần kỳ có số liệu” cho biết con số dựa trên bao nhiêu "
             "phần của kỳ báo cáo.",
             f"Availability is time-based, from state intervals (never sample counts). Maintenance: {m_en}; "
             f"time without data: {n_en}. “Share of period measured” says how much of the period a figure "
             "rests on.")

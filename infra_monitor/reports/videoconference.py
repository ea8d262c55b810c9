"""Videoconference report: the endpoints against the plan's target, their state and availability.

By level (the category of the endpoint's site) and by district on the as-of date: endpoints inventoried
against the target for ``vc``, reachable at the end of the period, their availability (the codec's own
timeline) and how many meet the threshold. Each endpoint is listed with its site's network state beside its
own, so a room whose router answers but whose codec is silent reads as "network up, not ready".
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from infra_monitor.reports.common import (
    END_STATES,
    PDF_DETAIL_ROWS,
    availability_cells,
    availability_columns,
    availability_pct,
    col,
    level_col,
    merge_stats,
    stats_of,
    sum_av,
    worst_first,
)
from infra_monitor.reports.coverage import codec_state
from infra_monitor.reports.dataset import Dataset, VCInfo
from infra_monitor.reports.document import Cell, Chart, ChartSeries, ColumnType, Section, SummaryItem, Table, Text, t
from infra_monitor.reports.structure import placement
from infra_monitor.reports.timeline import END_STATE, end_segment, totals

READINESS = {"ready": t("Sẵn sàng", "Ready"),
             "codec_silent": t("Mạng tốt, thiết bị HNTH im lặng", "Network up, codec silent"),
             "site_unreachable": t("Điểm không tới được", "Site unreachable"),
             "site_down": t("Mạng tại điểm hỏng", "Site network down"),
             "maintenance": t("Bảo trì", "Maintenance"),
             "no_data": t("Không có dữ liệu", "No data"),
             "not_monitored": t("Không giám sát", "Not monitored")}


def readiness(ds: Dataset, v: VCInfo) -> str:
    codec = codec_state(ds, v.device_id)
    seg = end_segment(ds.site_tl.get(v.site_id, []))
    site = END_STATE[seg.bucket] if seg else "no_data"
    if codec == "up":
        return "ready"
    if codec == "not_monitored":
        return "not_monitored"
    if site == "up":
        return "codec_silent"
    if site in ("down", "unreachable", "maintenance"):
        return {"down": "site_down", "unreachable": "site_unreachable"}.get(site, "maintenance")
    return "maintenance" if codec == "maintenance" else "no_data"


def _group(ds: Dataset, eps: list[VCInfo]) -> dict[str, Cell]:
    tls = [ds.device_tl[v.device_id] for v in eps if v.device_id in ds.device_tl]
    av = sum_av(totals(tl) for tl in tls)
    c = Counter(readiness(ds, v) for v in eps)
    return {"endpoints": len(eps), "ready": c["ready"], "not_ready": len(eps) - c["ready"],
            "codec_silent": c["codec_silent"],
            "meeting_threshold": sum(1 for tl in tls if (a := availability_pct(totals(tl), ds.params)) is not None
                                     and a >= ds.params.threshold_pct),
            **availability_cells(av, ds.params, merge_stats(stats_of(tl, ds) for tl in tls), len(tls))}


def meetings_table(ds: Dataset, conn: Connection) -> Table:
    """Meetings held in the period: the rooms ready at the last readiness check before each start."""
    from infra_monitor.meetings.views import ready_at_start

    with Session(bind=conn) as session:
        held: list[dict[str, Any]] = ready_at_start(session, ds.params.start, ds.params.end)
    S = ColumnType
    return Table(key="vc_meetings", title=t("Họp đã tổ chức: phòng sẵn sàng", "Meetings held: rooms ready"),
                 columns=[col("title", "Cuộc họp", "Meeting"), col("start", "Bắt đầu", "Start", S.DATETIME),
                          col("checked", "Phòng đã kiểm tra", "Rooms checked", S.INT),
                          col("ready", "Phòng sẵn sàng", "Rooms ready", S.INT),
                          col("not_ready_rooms", "Phòng chưa sẵn sàng", "Rooms not ready")],
                 rows=[{k: r[k] for k in ("title", "start", "checked", "ready", "not_ready_rooms")} for r in held])


def build(ds: Dataset, conn: Connection | None = None
          ) -> tuple[list[SummaryItem], list[Text], list[Section], list[Table], list[Chart]]:
    live = {s.id for s in ds.live_sites()}
    eps = sorted((v for v in ds.vc.values() if v.site_id in live),
                 key=lambda v: (ds.sites[v.site_id].category, ds.sites[v.site_id].name))
    by_level: dict[str, list[VCInfo]] = defaultdict(list)
    by_district: dict[tuple[str, str], list[VCInfo]] = defaultdict(list)
    rows = []
    for v in eps:
        site = ds.sites[v.site_id]
        pl = placement(ds.regions, site.region_id)
        by_level[site.category].append(v)
        if pl.group is not None and site.category in ("commune", "district"):
            by_district[(pl.group.code, pl.group.name)].append(v)
        tl = ds.device_tl.get(v.device_id, [])
        seg = end_segment(ds.site_tl.get(v.site_id, []))
        rows.append({"level": site.category, "site": site.name, "room": v.room, "device": ds.devices[v.device_id].name,
                     "protocol": v.protocol, "district": pl.group.name if pl.group else None,
                     "network_state": END_STATE[seg.bucket] if seg else "no_data",
                     "codec_state": codec_state(ds, v.device_id), "readiness": readiness(ds, v),
                     **(availability_cells(totals(tl), ds.params, stats_of(tl, ds)) if tl else {})})
    target = ds.targets.get("vc")
    applies = target is not None and target.expired_on is None
    level_rows = [{"level": lvl, **_group(ds, members)} for lvl, members in by_level.items()]
    district_rows = [{"code": code, "name": name, **_group(ds, members)}
                     for (code, name), members in sorted(by_district.items())]
    S = ColumnType
    group_cols = [col("endpoints", "Điểm cầu", "Endpoints", S.INT),
                  col("ready", "Sẵn sàng (cuối kỳ)", "Ready (end)", S.INT),
                  col("not_ready", "Chưa sẵn sàng", "Not ready", S.INT),
                  col("codec_silent", "Mạng tốt, HNTH im lặng", "Network up, codec silent", S.INT),
                  col("meeting_threshold", "Đạt ngưỡng khả dụng", "Meeting the threshold", S.INT),
                  *availability_columns()]
    tables = [
        Table(key="vc_by_level", title=t("Điểm cầu theo cấp", "Endpoints by level"),
              columns=[level_col(), *group_cols], rows=level_rows),
        Table(key="vc_by_district", title=t("Điểm cầu theo huyện", "Endpoints by district"),
              columns=[col("code", "Mã", "Code"), col("name", "Huyện", "District"), *group_cols], rows=district_rows),
        Table(pdf_max_rows=PDF_DETAIL_ROWS, key="vc_endpoints", title=t("Danh sách điểm cầu", "Endpoints"),
              columns=[level_col(), col("site", "Điểm", "Site"), col("room", "Phòng họp", "Room"),
                       col("device", "Thiết bị", "Device"), col("protocol", "Giao thức", "Protocol"),
                       col("district", "Huyện", "District"),
                       col("network_state", "Mạng tại điểm", "Site network", S.ENUM, END_STATES),
                       col("codec_state", "Thiết bị HNTH", "Codec", S.ENUM, END_STATES),
                       col("readiness", "Sẵn sàng", "Readiness", S.ENUM, READINESS), *availability_columns()],
              rows=worst_first(rows)),
    ]
    total = _group(ds, eps)
    summary = [
        SummaryItem(key="vc_target", label=t("Chỉ tiêu điểm cầu", "Endpoint target"),
                    value=target.target if applies and target else None, type=S.INT),
        SummaryItem(key="vc_inventoried", label=t("Điểm cầu đã có trong danh mục", "Endpoints inventoried"),
                    value=len(eps), type=S.INT),
        SummaryItem(key="vc_not_inventoried",
                    label=t("Điểm cầu chưa có trong danh mục", "Endpoints not in the inventory"),
                    value=max(target.target - len(eps), 0) if applies and target else None, type=S.INT),
        SummaryItem(key="vc_ready", label=t("Sẵn sàng cuối kỳ", "Ready at the end"), value=total["ready"], type=S.INT),
        SummaryItem(key="vc_codec_silent", label=t("Mạng tốt nhưng HNTH im lặng", "Network up, codec silent"),
                    value=total["codec_silent"], type=S.INT),
        SummaryItem(key="vc_availability", label=t("Khả dụng điểm cầu", "Endpoint availability"),
                    value=total["availability_pct"], type=S.PCT),
        SummaryItem(key="covered_pct", label=t("Phần kỳ có số liệu", "Share of period measured"),
                    value=total["covered_pct"], type=S.PCT),
    ]
    notes: list[Text] = []
    if target is not None and not applies:
        notes.append(t(f"Chỉ tiêu điểm cầu của {target.plan} đã hết hiệu lực từ {target.expired_on:%d/%m/%Y}.",
                       f"The endpoint target of {target.plan} ended on {target.expired_on:%d/%m/%Y}."))
    chart = Chart(key="vc_by_district_chart",
                  title=t("Khả dụng điểm cầu theo huyện", "Endpoint availability by district"),
                  unit="%", labels=[str(r["name"]) for r in district_rows],
                  series=[ChartSeries(name=t("Khả dụng", "Availability"),
                                      values=[r["availability_pct"] for r in district_rows])],  # type: ignore[misc]
                  references=[(t("Ngưỡng", "Threshold"), ds.params.threshold_pct)], value_max=100.0)
    sections = [Section(title=t("Điểm cầu truyền hình trực tuyến", "Videoconference endpoints"),
                        tables=["vc_by_level", "vc_by_district"], charts=["vc_by_district_chart"]),
                Section(title=t("Danh sách điểm cầu", "Endpoint list"), tables=["vc_endpoints"])]
    if conn is not None:
        tables.append(meetings_table(ds, conn))
        sections.append(Section(title=t("Họp đã tổ chức: phòng sẵn sàng", "Meetings held: rooms ready"),
                                tables=["vc_meetings"]))
    return summary, notes, sections, tables, [chart]

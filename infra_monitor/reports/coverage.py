"""Coverage report: the province against the plan, per level and per district, with every gap apart.

Per level (data center, departments, districts, communes, videoconference endpoints): the plan's target in
force on the as-of date (or a statement that none is), the administrative units in force then, the
inventoried sites, those connected by an active circuit, and the state of each site at the end of the
period — reachable, down (own failure), unreachable behind a root cause, in maintenance, no data — which
partition the inventoried sites. "Not in the inventory" (target − inventoried) is a rollout gap, never an
outage. A commune's network (its router) and its videoconference codec are counted apart.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from infra_monitor.reports.common import (
    END_STATES,
    LEVELS,
    PDF_LIST_ROWS,
    availability_cells,
    availability_columns,
    availability_pct,
    col,
    covered_pct,
    level_col,
    merge_stats,
    state_col,
    stats_of,
    sum_av,
)
from infra_monitor.reports.dataset import Dataset, SiteInfo
from infra_monitor.reports.document import (
    Cell,
    Chart,
    ChartSeries,
    Column,
    ColumnType,
    Section,
    SummaryItem,
    Table,
    Text,
    t,
)
from infra_monitor.reports.structure import Placement, has_districts, placement, units_in_force
from infra_monitor.reports.timeline import END_STATE, Segment, end_segment, totals
from inventory.choices import SiteCategoryChoices

SITE_LEVELS = ("datacenter", "department", "district", "commune")
STATE_KEYS = ("up", "down", "unreachable", "maintenance", "no_data")
INT, PCT = ColumnType.INT, ColumnType.PCT


@dataclass(frozen=True)
class SiteEnd:
    site: SiteInfo
    place: Placement
    state: str
    since: datetime | None
    device_id: int | None
    root: int | None
    connected: bool


def site_end(ds: Dataset, site: SiteInfo, connected: set[int]) -> SiteEnd:
    seg: Segment | None = end_segment(ds.site_tl.get(site.id, []))
    state = END_STATE[seg.bucket] if seg is not None else "no_data"
    return SiteEnd(site, placement(ds.regions, site.region_id), state, seg.since if seg else None,
                   seg.device if seg else None, seg.root if seg else None, site.id in connected)


def codec_state(ds: Dataset, device_id: int) -> str:
    if not ds.devices[device_id].monitored:
        return "not_monitored"
    seg = end_segment(ds.device_tl.get(device_id, []))
    return END_STATE[seg.bucket] if seg is not None else "no_data"


def _counts_cols(first: list[Column]) -> list[Column]:
    return [*first,
            col("inventoried", "Đã có trong danh mục", "Inventoried", INT),
            col("not_inventoried", "Chưa có trong danh mục", "Not in the inventory", INT),
            col("connected", "Có đường truyền hoạt động", "With an active circuit", INT),
            col("no_circuit", "Chưa có đường truyền", "No active circuit", INT),
            col("up", "Kết nối được (cuối kỳ)", "Reachable (end)", INT),
            col("down", "Mất kết nối", "Down", INT),
            col("unreachable", "Không tới được do lỗi phía trên", "Unreachable behind a failure", INT),
            col("maintenance", "Đang bảo trì", "In maintenance", INT),
            col("no_data", "Không có dữ liệu", "No data", INT),
            col("availability_pct", "Khả dụng trong kỳ", "Availability over the period", PCT),
            col("covered_pct", "Phần kỳ có số liệu", "Share of period measured", PCT),
            col("meeting_threshold", "Đạt ngưỡng khả dụng", "Meeting the threshold", INT)]


def _tally(ds: Dataset, ends: list[SiteEnd]) -> dict[str, Cell]:
    c = Counter(e.state for e in ends)
    av = sum_av(totals(ds.site_tl[e.site.id]) for e in ends)
    meeting = sum(1 for e in ends if (a := availability_pct(totals(ds.site_tl[e.site.id]), ds.params)) is not None
                  and a >= ds.params.threshold_pct)
    return {"inventoried": len(ends), "connected": sum(1 for e in ends if e.connected),
            "no_circuit": sum(1 for e in ends if not e.connected), **{k: c[k] for k in STATE_KEYS},
            "availability_pct": availability_pct(av, ds.params), "covered_pct": covered_pct(av, ds.params, len(ends)),
            "meeting_threshold": meeting}


def build(ds: Dataset) -> tuple[list[SummaryItem], list[Text], list[Section], list[Table], list[Chart]]:
    p, regions = ds.params, ds.regions
    connected = ds.connected_sites()
    ends = [site_end(ds, s, connected) for s in sorted(ds.live_sites(), key=lambda s: (s.category, s.name))]
    by_level: dict[str, list[SiteEnd]] = {}
    for e in ends:
        by_level.setdefault(e.site.category, []).append(e)
    levels = [*SITE_LEVELS, *(["unit"] if "unit" in by_level else []), "vc"]
    level_rows: list[dict[str, Cell]] = []
    notes: list[Text] = []
    for lvl in levels:
        target = ds.targets.get(lvl)
        applies = target is not None and target.expired_on is None
        row: dict[str, Cell] = {"level": lvl, "plan": target.plan if target else None,
                                "target": target.target if applies and target else None}
        if lvl == "vc":
            row.update(_vc_tally(ds, connected))
        else:
            row.update(_tally(ds, by_level.get(lvl, [])))
        if lvl in ("district", "commune"):
            units = units_in_force(regions, lvl)
            covered = {e.place.unit.id for e in by_level.get(lvl, []) if e.place.unit is not None}
            row["units_in_force"] = len(units)
            row["units_without_site"] = sum(1 for u in units if u.id not in covered)
        else:
            row["units_in_force"] = row["units_without_site"] = None
        inv = row["inventoried"]
        row["not_inventoried"] = max(row["target"] - inv, 0) if isinstance(row["target"], int) and \
            isinstance(inv, int) else None
        up = row["up"]
        row["coverage_pct"] = (100.0 * min(up if isinstance(up, int) else 0, row["target"]) / row["target"]
                               if isinstance(row["target"], int) and row["target"] > 0 else None)
        if target is not None and not applies:
            notes.append(t(f"{LEVELS[lvl].vi}: chỉ tiêu của {target.plan} đã hết hiệu lực từ "
                           f"{target.expired_on:%d/%m/%Y}; không có chỉ tiêu nào áp dụng vào ngày {p.as_of:%d/%m/%Y}.",
                           f"{LEVELS[lvl].en}: the target of {target.plan} ended on {target.expired_on:%d/%m/%Y}; "
                           f"no target applies on {p.as_of:%d/%m/%Y}."))
        level_rows.append(row)
    level_table = Table(
        key="coverage_by_level", title=t("Độ phủ theo cấp", "Coverage by level"),
        columns=[level_col(), col("plan", "Kế hoạch", "Plan"), col("target", "Chỉ tiêu", "Target", INT),
                 col("units_in_force", "Số đơn vị hành chính", "Administrative units", INT),
                 col("units_without_site", "Đơn vị chưa có điểm", "Units without a site", INT),
                 *_counts_cols([])[0:],
                 col("coverage_pct", "Đạt so với chỉ tiêu (kết nối được)", "Reachable against target", PCT),
                 col("codec_silent_network_up", "Mạng tốt nhưng thiết bị HNTH im lặng",
                     "Network up, codec silent", INT)],
        rows=level_rows)
    district_table, chart = _by_district(ds, ends, connected)
    gaps = _gap_tables(ds, ends, connected)
    hosted = _hosted_table(ds)
    summary = [*_summary(ds, level_rows), *_hosted_summary(ds)]
    plan_names = sorted({str(r["plan"]) for r in level_rows if r["plan"] and r["target"] is not None})
    plan_text = (t("Chỉ tiêu áp dụng: " + ", ".join(plan_names), "Targets applied: " + ", ".join(plan_names))
                 if plan_names else t(f"Không có chỉ tiêu kế hoạch nào có hiệu lực vào ngày {p.as_of:%d/%m/%Y}.",
                                      f"No plan target is in force on {p.as_of:%d/%m/%Y}."))
    structure = (t("Cơ cấu hành chính tại ngày đối chiếu có cấp huyện.",
                   "The structure on the as-of date has districts.")
                 if has_districts(regions) else
                 t("Tại ngày đối chiếu không còn cấp huyện: các xã, phường thuộc trực tiếp tỉnh; bảng theo huyện "
                   "được nhóm theo tỉnh. Các điểm thuộc đơn vị đã sáp nhập được tính vào đơn vị kế thừa.",
                   "On the as-of date there is no district level: communes sit directly under the province and "
                   "the per-district table groups them under it. Sites of merged units count under the successor."))
    sections = [
        Section(title=t("Độ phủ theo cấp", "Coverage by level"), paragraphs=[plan_text, structure],
                tables=["coverage_by_level"]),
        Section(title=t("Độ phủ theo huyện", "Coverage by district"), tables=["coverage_by_district"],
                charts=[chart.key]),
        Section(title=t("Các thiếu hụt", "Gaps"),
                paragraphs=[t("Mỗi loại thiếu hụt được liệt kê riêng, không gộp.",
                              "Each kind of gap is listed apart.")],
                tables=[g.key for g in gaps]),
        Section(title=t("Hệ thống đặt tại Trung tâm dữ liệu", "Systems hosted in the data center"),
                paragraphs=[t("Các dịch vụ được tính vào chỉ tiêu hệ thống dùng chung, chuyên ngành (kế hoạch: trên "
                              "95 hệ thống), theo danh mục tại thời điểm lập báo cáo; trạng thái máy chủ là trạng "
                              "thái mạng của máy chủ chạy hệ thống vào cuối kỳ, không phải của bản thân hệ thống.",
                              "The services counted toward the shared and specialised systems (the plan: more than "
                              "95), as inventoried when the report is made; the server state is the network state "
                              "of the server running the system at the end of the period, not the system's own.")],
                tables=[hosted.key]),
    ]
    return summary, notes, sections, [level_table, district_table, *gaps, hosted], [chart]


CRITICALITY = {"low": t("Thấp", "Low"), "medium": t("Trung bình", "Medium"), "high": t("Cao", "High"),
               "critical": t("Rất quan trọng", "Critical")}


def _hosted_table(ds: Dataset) -> Table:
    rows: list[dict[str, Cell]] = []
    for h in ds.hosted:
        device = ds.devices.get(h.device_id)
        server_state = codec_state(ds, h.device_id) if device is not None else "no_data"
        counted = h.up_s + h.down_s
        period_s = (ds.stop - ds.params.start).total_seconds()
        rows.append({"name": h.name, "tenant": h.tenant, "criticality": h.criticality,
                     "server": device.name if device else None, "checked": 1 if h.checked else 0,
                     "server_state_at_end": server_state,
                     "availability_pct": 100.0 * (h.up_s / counted) if counted > 0 else None,
                     "covered_pct": 100.0 * min(1.0, counted / period_s) if period_s > 0 else None})
    return Table(
        key="hosted_systems", title=t("Hệ thống đặt tại Trung tâm dữ liệu", "Systems hosted in the data center"),
        columns=[col("name", "Hệ thống", "System"), col("tenant", "Đơn vị chủ quản", "Owning agency"),
                 col("criticality", "Mức độ quan trọng", "Criticality", ColumnType.ENUM, CRITICALITY),
                 col("server", "Máy chủ", "Server"), col("checked", "Được giám sát", "Monitored", INT),
                 state_col("server_state_at_end", "Máy chủ (cuối kỳ)", "Server (end)"),
                 # from the system's checks: up while all answer, down while any fails; time without data apart
                 col("availability_pct", "Khả dụng", "Availability", ColumnType.PCT),
                 col("covered_pct", "Phần kỳ có số liệu", "Share of period measured", ColumnType.PCT)],
        rows=rows)


def _hosted_summary(ds: Dataset) -> list[SummaryItem]:
    target = ds.targets.get("hosted_systems")
    applies = target is not None and target.expired_on is None
    return [SummaryItem(key="hosted_systems_target", label=t("Hệ thống tại TTDL: chỉ tiêu", "Hosted systems: target"),
                        value=target.target if applies and target else None, type=ColumnType.INT),
            SummaryItem(key="hosted_systems_inventoried",
                        label=t("Hệ thống tại TTDL: đã có trong danh mục", "Hosted systems: inventoried"),
                        value=len(ds.hosted), type=ColumnType.INT),
            SummaryItem(key="hosted_systems_monitored",
                        label=t("Hệ thống tại TTDL: được giám sát", "Hosted systems: monitored"),
                        value=sum(1 for h in ds.hosted if h.checked), type=ColumnType.INT)]


def _vc_tally(ds: Dataset, connected: set[int]) -> dict[str, Cell]:
    live = {s.id for s in ds.live_sites()}
    eps = [v for v in ds.vc.values() if v.site_id in live]
    states = Counter(codec_state(ds, v.device_id) for v in eps)
    tls = [ds.device_tl[v.device_id] for v in eps if v.device_id in ds.device_tl]
    av = sum_av(totals(tl) for tl in tls)
    meeting = sum(1 for tl in tls if (a := availability_pct(totals(tl), ds.params)) is not None
                  and a >= ds.params.threshold_pct)
    silent = sum(1 for v in eps if codec_state(ds, v.device_id) != "up" and
                 (seg := end_segment(ds.site_tl.get(v.site_id, []))) is not None and seg.bucket == "up")
    return {"inventoried": len(eps), "connected": sum(1 for v in eps if v.site_id in connected),
            "no_circuit": sum(1 for v in eps if v.site_id not in connected),
            **{k: states[k] for k in STATE_KEYS}, "no_data": states["no_data"] + states["not_monitored"],
            "availability_pct": availability_pct(av, ds.params),
            "covered_pct": covered_pct(av, ds.params, len(tls)), "meeting_threshold": meeting,
            "codec_silent_network_up": silent}


def _by_district(ds: Dataset, ends: list[SiteEnd], connected: set[int]) -> tuple[Table, Chart]:
    groups: dict[int, list[SiteEnd]] = {}
    names: dict[int, tuple[str, str]] = {}
    for e in ends:
        if e.site.category in (SiteCategoryChoices.COMMUNE, SiteCategoryChoices.DISTRICT) and e.place.group:
            groups.setdefault(e.place.group.id, []).append(e)
            names[e.place.group.id] = (e.place.group.code, e.place.group.name)
    communes = units_in_force(ds.regions, "commune")
    for u in communes:
        pl = placement(ds.regions, u.id)
        if pl.group is not None:
            names.setdefault(pl.group.id, (pl.group.code, pl.group.name))
    rows: list[dict[str, Cell]] = []
    for gid, (code, name) in sorted(names.items(), key=lambda kv: kv[1][0]):
        members = [e for e in groups.get(gid, []) if e.site.category == SiteCategoryChoices.COMMUNE]
        in_force = [u for u in communes if (pl := placement(ds.regions, u.id)).group is not None
                    and pl.group.id == gid]
        covered = {e.place.unit.id for e in members if e.place.unit is not None}
        row: dict[str, Cell] = {"code": code, "name": name, "units_in_force": len(in_force),
                                "units_without_site": sum(1 for u in in_force if u.id not in covered),
                                **_tally(ds, members)}
        row["not_inventoried"] = None
        head = [e for e in groups.get(gid, []) if e.site.category == SiteCategoryChoices.DISTRICT]
        row["district_site_state"] = head[0].state if head else None
        codecs = [v for e in members for v in ds.site_codecs(e.site.id)]
        row["codecs_up"] = sum(1 for v in codecs if codec_state(ds, v.device_id) == "up")
        row["codecs"] = len(codecs)
        rows.append(row)
    table = Table(
        key="coverage_by_district", title=t("Cấp xã theo huyện", "Communes by district"),
        description=t("Các điểm cấp xã theo huyện tại ngày đối chiếu.", "Commune sites by district on the as-of date."),
        columns=[col("code", "Mã", "Code"), col("name", "Huyện", "District"),
                 col("district_site_state", "Trụ sở huyện (cuối kỳ)", "District office (end)", ColumnType.ENUM,
                     END_STATES),
                 col("units_in_force", "Số xã", "Communes in force", INT),
                 col("units_without_site", "Xã chưa có điểm", "Communes without a site", INT),
                 *[c for c in _counts_cols([]) if c.key != "not_inventoried"],
                 col("codecs", "Điểm cầu HNTH", "VC endpoints", INT),
                 col("codecs_up", "Điểm cầu hoạt động", "VC endpoints up", INT)],
        rows=rows)
    chart = Chart(key="availability_by_district",
                  title=t("Khả dụng cấp xã theo huyện", "Commune availability by district"),
                  unit="%", labels=[str(r["name"]) for r in rows],
                  series=[ChartSeries(name=t("Khả dụng", "Availability"),
                                      values=[r["availability_pct"] for r in rows])],  # type: ignore[misc]
                  references=[(t("Ngưỡng", "Threshold"), ds.params.threshold_pct)], value_max=100.0)
    return table, chart


def _site_cols() -> list[Column]:
    return [level_col(), col("site", "Điểm", "Site"), col("slug", "Mã điểm", "Slug"),
            col("unit", "Đơn vị hành chính", "Administrative unit"), col("district", "Huyện", "District")]


def _site_cells(e: SiteEnd) -> dict[str, Cell]:
    return {"level": e.site.category, "site": e.site.name, "slug": e.site.slug,
            "unit": e.place.unit.name if e.place.unit else None,
            "district": e.place.group.name if e.place.group else None}


def _gap_tables(ds: Dataset, ends: list[SiteEnd], connected: set[int]) -> list[Table]:
    regions = ds.regions
    site_units = {e.place.unit.id for e in ends if e.place.unit is not None}
    missing = []
    for lvl in ("district", "commune"):
        for u in units_in_force(regions, lvl):
            if u.id not in site_units:
                pl = placement(regions, u.id)
                missing.append({"level": lvl, "code": u.code, "name": u.name,
                                "district": pl.group.name if pl.group and pl.group.id != u.id else None})
    dev = ds.devices
    T = ColumnType

    def who(e: SiteEnd) -> str | None:
        return dev[e.device_id].name if e.device_id in dev else None

    def root_of(e: SiteEnd) -> tuple[str | None, str | None]:
        if e.root is None or e.root not in dev:
            return None, None
        r = dev[e.root]
        return r.name, ds.sites[r.site_id].name if r.site_id in ds.sites else None

    tables = [
        Table(pdf_max_rows=PDF_LIST_ROWS, key="gap_not_inventoried", title=t("Đơn vị chưa có trong danh mục",
              "Units not in the inventory"),
              columns=[level_col(), col("code", "Mã", "Code"), col("name", "Đơn vị", "Unit"),
                       col("district", "Huyện", "District")], rows=missing),
        Table(pdf_max_rows=PDF_LIST_ROWS, key="gap_no_circuit", title=t("Điểm chưa có đường truyền hoạt động",
              "Sites without an active circuit"),
              columns=[*_site_cols(), col("status", "Tình trạng", "Status")],
              rows=[{**_site_cells(e), "status": e.site.status} for e in ends if not e.connected]),
        Table(pdf_max_rows=PDF_LIST_ROWS, key="gap_down", title=t("Điểm mất kết nối (tự hỏng)",
              "Sites down (own failure)"),
              columns=[*_site_cols(), col("since", "Từ", "Since", T.DATETIME), col("device", "Thiết bị", "Device")],
              rows=[{**_site_cells(e), "since": e.since, "device": who(e)} for e in ends if e.state == "down"]),
        Table(pdf_max_rows=PDF_LIST_ROWS, key="gap_unreachable",
              title=t("Điểm không tới được do lỗi phía trên", "Sites unreachable behind a failure"),
              columns=[*_site_cols(), col("since", "Từ", "Since", T.DATETIME),
                       col("root_device", "Nguyên nhân gốc", "Root cause"),
                       col("root_site", "Tại điểm", "At site")],
              rows=[{**_site_cells(e), "since": e.since, "root_device": root_of(e)[0], "root_site": root_of(e)[1]}
                    for e in ends if e.state == "unreachable"]),
        Table(pdf_max_rows=PDF_LIST_ROWS, key="gap_maintenance", title=t("Điểm đang bảo trì", "Sites in maintenance"),
              columns=[*_site_cols(), col("since", "Từ", "Since", T.DATETIME)],
              rows=[{**_site_cells(e), "since": e.since} for e in ends if e.state == "maintenance"]),
        Table(pdf_max_rows=PDF_LIST_ROWS, key="gap_no_data", title=t("Điểm không có dữ liệu", "Sites without data"),
              columns=[*_site_cols(), col("monitored_devices", "Thiết bị được giám sát", "Monitored devices", INT)],
              rows=[{**_site_cells(e), "monitored_devices": len(ds.site_devices(e.site.id))}
                    for e in ends if e.state == "no_data"]),
        Table(pdf_max_rows=PDF_LIST_ROWS, key="vc_not_ready", title=t("Mạng tốt nhưng điểm cầu HNTH không sẵn sàng",
                                          "Network up but videoconference endpoint not ready"),
              columns=[*_site_cols(), col("room", "Phòng họp", "Room"),
                       col("codec_state", "Thiết bị HNTH", "Codec", T.ENUM, END_STATES)],
              rows=[{**_site_cells(e), "room": v.room, "codec_state": codec_state(ds, v.device_id)}
                    for e in ends if e.state == "up" for v in ds.site_codecs(e.site.id)
                    if codec_state(ds, v.device_id) != "up"]),
    ]
    return tables


def _summary(ds: Dataset, level_rows: list[dict[str, Cell]]) -> list[SummaryItem]:
    rows = {r["level"]: r for r in level_rows}
    out: list[SummaryItem] = []
    for lvl in ("commune", "vc"):
        r = rows.get(lvl)
        if r is None:
            continue
        name = LEVELS[lvl]
        out.append(SummaryItem(key=f"{lvl}_target", label=t(f"{name.vi}: chỉ tiêu", f"{name.en}: target"),
                               value=r["target"], type=ColumnType.INT))
        if lvl != "vc":
            out.append(SummaryItem(key=f"{lvl}_units_in_force", label=t(f"{name.vi}: số đơn vị tại ngày đối chiếu",
                                                                        f"{name.en}: units on the as-of date"),
                                   value=r.get("units_in_force"), type=ColumnType.INT))
        out += [SummaryItem(key=f"{lvl}_inventoried", label=t(f"{name.vi}: đã có trong danh mục",
                                                              f"{name.en}: inventoried"),
                            value=r["inventoried"], type=ColumnType.INT),
                SummaryItem(key=f"{lvl}_reachable", label=t(f"{name.vi}: kết nối được cuối kỳ",
                                                            f"{name.en}: reachable at the end"),
                            value=r["up"], type=ColumnType.INT),
                SummaryItem(key=f"{lvl}_availability", label=t(f"{name.vi}: khả dụng trong kỳ",
                                                               f"{name.en}: availability over the period"),
                            value=r["availability_pct"], type=ColumnType.PCT)]
    all_sites = [e for e in ds.live_sites()]
    stats = merge_stats(stats_of(ds.site_tl[s.id], ds) for s in all_sites)
    av = sum_av(totals(ds.site_tl[s.id]) for s in all_sites)
    cells = availability_cells(av, ds.params, stats, len(all_sites))
    out.append(SummaryItem(key="availability_all_sites", label=t("Khả dụng toàn mạng (mọi điểm)",
                                                                 "Availability, all sites"),
                           value=cells["availability_pct"], type=ColumnType.PCT))
    out.append(SummaryItem(key="covered_pct", label=t("Phần kỳ có số liệu", "Share of period measured"),
                           value=cells["covered_pct"], type=ColumnType.PCT))
    return out


__all__ = ["END_STATES", "availability_columns", "build", "codec_state", "site_end"]

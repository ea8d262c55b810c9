"""Availability report: time-based availability with downtime attributed to its cause.

Per site, device and circuit, rolled up by level and district, for any period: time up, down (own failure),
unreachable (upstream failure, naming the root cause), maintenance and no data, the availability under the
report's policy, the share of the period each figure covers, outage count, longest outage and MTTR. A site
follows the site-state rule over its network devices (codecs are reported apart, as videoconference); a
circuit is measured by the device at its served end (Z side; a data-center uplink by the data-center device
it ends on). Root causes rank the failures by the device-time they cut off.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from infra_monitor.reports.common import (
    END_STATES,
    PDF_DETAIL_ROWS,
    availability_cells,
    availability_columns,
    col,
    level_col,
    merge_stats,
    seconds,
    stats_of,
    sum_av,
    vi_num,
    worst_first,
)
from infra_monitor.reports.dataset import CircuitInfo, Dataset
from infra_monitor.reports.document import Cell, Chart, ChartSeries, ColumnType, Section, SummaryItem, Table, Text, t
from infra_monitor.reports.structure import placement
from infra_monitor.reports.timeline import END_STATE, Segment, end_segment, totals
from infra_monitor.status.engine.availability import Availability

ZERO = timedelta(0)


def circuit_device(ds: Dataset, c: CircuitInfo) -> int | None:
    """The device whose timeline measures a circuit: the Z side's, else the data-center side's."""
    z = c.side("Z")
    if z is not None and z.device_id is not None and z.device_id in ds.device_tl:
        return z.device_id
    a = c.side("A")
    if a is not None and a.device_id is not None and a.device_id in ds.device_tl and z is None:
        return a.device_id
    return None


def _row_av(ds: Dataset, segs: list[Segment], members: int = 1) -> dict[str, Cell]:
    return availability_cells(totals(segs), ds.params, stats_of(segs, ds), members)


def _top_root(segs: list[Segment]) -> int | None:
    acc: dict[int, timedelta] = defaultdict(lambda: ZERO)
    for s in segs:
        if s.bucket == "down_parent" and s.root is not None:
            acc[s.root] += s.length
    return max(acc, key=lambda k: acc[k]) if acc else None


def build(ds: Dataset) -> tuple[list[SummaryItem], list[Text], list[Section], list[Table], list[Chart]]:
    sites = sorted(ds.live_sites(), key=lambda s: (s.category, s.name))
    dev = ds.devices

    def dev_name(d: int | None) -> str | None:
        return dev[d].name if d is not None and d in dev else None

    site_rows: list[dict[str, Cell]] = []
    by_level: dict[str, list[int]] = defaultdict(list)
    by_district: dict[tuple[str, str], list[int]] = defaultdict(list)
    for s in sites:
        segs = ds.site_tl[s.id]
        pl = placement(ds.regions, s.region_id)
        seg = end_segment(segs)
        by_level[s.category].append(s.id)
        if pl.group is not None and s.category in ("commune", "district"):
            by_district[(pl.group.code, pl.group.name)].append(s.id)
        site_rows.append({"level": s.category, "site": s.name, "slug": s.slug,
                          "unit": pl.unit.name if pl.unit else None, "district": pl.group.name if pl.group else None,
                          "state_at_end": END_STATE[seg.bucket] if seg else "no_data",
                          "top_root_cause": dev_name(_top_root(segs)), **_row_av(ds, segs)})
    level_rows = []
    for lvl, ids in by_level.items():
        level_rows.append({"level": lvl, "sites": len(ids), **_group_av(ds, ids)})
    vc_ids = [v.device_id for v in ds.vc.values() if v.device_id in ds.device_tl]
    if vc_ids:
        av = sum_av(totals(ds.device_tl[d]) for d in vc_ids)
        stats = merge_stats(stats_of(ds.device_tl[d], ds) for d in vc_ids)
        level_rows.append({"level": "vc", "sites": len(vc_ids),
                           **availability_cells(av, ds.params, stats, len(vc_ids))})
    district_rows = [{"code": code, "name": name, "sites": len(ids), **_group_av(ds, ids)}
                     for (code, name), ids in sorted(by_district.items())]
    device_rows = []
    for d in sorted(ds.device_tl, key=lambda i: (ds.sites[dev[i].site_id].name, dev[i].name)):
        info, segs = dev[d], ds.device_tl[d]
        seg = end_segment(segs)
        device_rows.append({"device": info.name, "site": ds.sites[info.site_id].name, "role": info.role,
                            "state_at_end": END_STATE[seg.bucket] if seg else "no_data",
                            "top_root_cause": dev_name(_top_root(segs)), **_row_av(ds, segs)})
    circuit_rows = []
    for c in ds.circuits:
        if c.status != "active":
            continue
        measured_by = circuit_device(ds, c)
        z = c.side("Z") or c.side("A")
        segs = ds.device_tl.get(measured_by, []) if measured_by is not None else []
        seg = end_segment(segs)
        row: dict[str, Cell] = {"cid": c.cid, "provider": c.provider, "type": c.type,
                                "site": ds.sites[z.site_id].name if z and z.site_id in ds.sites else None,
                                "measured_by": dev_name(measured_by), "commit_rate_kbps": c.commit_rate_kbps,
                                "state_at_end": END_STATE[seg.bucket] if seg else "no_data"}
        row.update(_row_av(ds, segs) if segs else availability_cells(Availability(no_data=ds.stop - ds.params.start),
                                                                      ds.params, None))
        circuit_rows.append(row)
    root_rows = _roots(ds)
    av_cols = availability_columns()
    S = ColumnType
    tables = [
        Table(key="availability_by_level", title=t("Khả dụng theo cấp", "Availability by level"),
              columns=[level_col(), col("sites", "Số điểm", "Sites", S.INT), *av_cols], rows=level_rows),
        Table(key="availability_by_district", title=t("Khả dụng theo huyện (cấp huyện và xã)",
                                                      "Availability by district (district and commune sites)"),
              columns=[col("code", "Mã", "Code"), col("name", "Huyện", "District"),
                       col("sites", "Số điểm", "Sites", S.INT), *av_cols], rows=district_rows),
        Table(key="availability_by_site", title=t("Khả dụng theo điểm", "Availability by site"),
              columns=[level_col(), col("site", "Điểm", "Site"), col("slug", "Mã điểm", "Slug"),
                       col("unit", "Đơn vị hành chính", "Unit"), col("district", "Huyện", "District"),
                       col("state_at_end", "Cuối kỳ", "At end", S.ENUM, END_STATES), *av_cols,
                       col("top_root_cause", "Nguyên nhân gốc chính", "Main root cause")],
              rows=worst_first(site_rows), pdf_max_rows=PDF_DETAIL_ROWS),
        Table(key="availability_by_device", title=t("Khả dụng theo thiết bị", "Availability by device"),
              columns=[col("device", "Thiết bị", "Device"), col("site", "Điểm", "Site"), col("role", "Vai trò", "Role"),
                       col("state_at_end", "Cuối kỳ", "At end", S.ENUM, END_STATES), *av_cols,
                       col("top_root_cause", "Nguyên nhân gốc chính", "Main root cause")],
              rows=worst_first(device_rows), pdf_max_rows=PDF_DETAIL_ROWS),
        Table(key="availability_by_circuit", title=t("Khả dụng theo đường truyền", "Availability by circuit"),
              columns=[col("cid", "Mã đường truyền", "Circuit"), col("provider", "Nhà cung cấp", "Provider"),
                       col("type", "Loại", "Type"), col("site", "Điểm được phục vụ", "Served site"),
                       col("measured_by", "Đo qua thiết bị", "Measured by"),
                       col("commit_rate_kbps", "Tốc độ cam kết (kbit/s)", "Committed rate (kbit/s)", S.INT),
                       col("state_at_end", "Cuối kỳ", "At end", S.ENUM, END_STATES), *av_cols],
                           rows=worst_first(circuit_rows),
              pdf_max_rows=PDF_DETAIL_ROWS),
        Table(key="downtime_by_root_cause", title=t("Gián đoạn theo nguyên nhân gốc", "Downtime by root cause"),
              description=t("Thời gian thiết bị bị cắt sau mỗi sự cố gốc.",
                            "Device-time cut off behind each root cause."),
              columns=[col("device", "Thiết bị gốc", "Root device"), col("site", "Điểm", "Site"),
                       col("own_down_s", "Thời gian tự hỏng", "Own downtime", S.DURATION),
                       col("cut_off_s", "Thời gian thiết bị phía sau bị cắt", "Device-time cut off", S.DURATION),
                       col("devices_cut_off", "Số thiết bị bị ảnh hưởng", "Devices affected", S.INT)], rows=root_rows),
    ]
    dchart = Chart(key="availability_by_district_chart", title=t("Khả dụng theo huyện", "Availability by district"),
                   unit="%", labels=[str(r["name"]) for r in district_rows],
                   series=[ChartSeries(name=t("Khả dụng", "Availability"),
                                       values=[r["availability_pct"] for r in district_rows])],  # type: ignore[misc]
                   references=[(t("Ngưỡng", "Threshold"), ds.params.threshold_pct)], value_max=100.0)
    all_av = sum_av(totals(ds.site_tl[s.id]) for s in sites)
    all_stats = merge_stats(stats_of(ds.site_tl[s.id], ds) for s in sites)
    cells = availability_cells(all_av, ds.params, all_stats, len(sites))
    summary = [
        SummaryItem(key="availability_all_sites", label=t("Khả dụng toàn mạng (mọi điểm)", "Availability, all sites"),
                    value=cells["availability_pct"], type=S.PCT),
        SummaryItem(key="covered_pct", label=t("Phần kỳ có số liệu", "Share of period measured"),
                    value=cells["covered_pct"], type=S.PCT),
        SummaryItem(key="outages", label=t("Số lần gián đoạn (theo điểm)", "Outages (per site)"),
                    value=cells["outages"], type=S.INT),
        SummaryItem(key="longest_outage_s", label=t("Gián đoạn dài nhất", "Longest outage"),
                    value=cells["longest_outage_s"], type=S.DURATION),
        SummaryItem(key="mttr_s", label=t("Thời gian khắc phục trung bình (MTTR)", "Mean time to restore (MTTR)"),
                    value=cells["mttr_s"], type=S.DURATION),
        SummaryItem(key="sites_meeting_threshold",
                    label=t(f"Điểm đạt ngưỡng {vi_num(ds.params.threshold_pct)} %",
                            f"Sites at or above {ds.params.threshold_pct:g} %"),
                    value=sum(1 for r in site_rows if isinstance(r["availability_pct"], float)
                              and r["availability_pct"] >= ds.params.threshold_pct), type=S.INT),
    ]
    sections = [
        Section(title=t("Khả dụng theo cấp và theo huyện", "Availability by level and district"),
                tables=["availability_by_level", "availability_by_district"],
                charts=["availability_by_district_chart"]),
        Section(title=t("Nguyên nhân gián đoạn", "Causes of downtime"), tables=["downtime_by_root_cause"]),
        Section(title=t("Chi tiết theo điểm, thiết bị và đường truyền", "Per site, device and circuit"),
                tables=["availability_by_site", "availability_by_circuit", "availability_by_device"]),
    ]
    return summary, [], sections, tables, [dchart]


def _group_av(ds: Dataset, site_ids: list[int]) -> dict[str, Cell]:
    av = sum_av(totals(ds.site_tl[i]) for i in site_ids)
    stats = merge_stats(stats_of(ds.site_tl[i], ds) for i in site_ids)
    return availability_cells(av, ds.params, stats, len(site_ids))


def _roots(ds: Dataset) -> list[dict[str, Cell]]:
    cut: dict[int, timedelta] = defaultdict(lambda: ZERO)
    affected: dict[int, set[int]] = defaultdict(set)
    for d, segs in ds.device_tl.items():
        for s in segs:
            if s.bucket == "down_parent" and s.root is not None:
                cut[s.root] += s.length
                affected[s.root].add(d)
    rows: list[dict[str, Cell]] = []
    for root in sorted(cut, key=lambda r: cut[r], reverse=True):
        info = ds.devices.get(root)
        own = totals(ds.device_tl.get(root, [])).down_own
        rows.append({"device": info.name if info else f"#{root}",
                     "site": ds.sites[info.site_id].name if info and info.site_id in ds.sites else None,
                     "own_down_s": seconds(own), "cut_off_s": seconds(cut[root]),
                     "devices_cut_off": len(affected[root])})
    return rows


__all__ = ["END_STATES", "build", "circuit_device"]

"""Data-center report: measured availability against the tier thresholds, and the redundancy evidence.

Two availabilities are measured. **Service**: the data center works while every role (routers, firewalls,
switches, servers, UPS…) has at least one device up — a failed member of a redundant pair costs nothing.
**All equipment**: the site-state rule, down whenever any device is. The service figure is compared with
the tier thresholds of the chosen reference (TCVN 9250:2012 levels, ANSI/TIA-942 ratings, Uptime tiers:
the commonly quoted 99.671 / 99.741 / 99.982 / 99.995 %). Measurement supports, but cannot certify, a tier.

Redundancy evidence: the active uplinks into the data center and their distinct providers, how long all,
some or none of them were up, failover events (an uplink failing while another stays up), roles with
redundant devices, and maintenance carried out without loss of service (concurrent maintainability).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from infra_monitor.reports.availability import circuit_device
from infra_monitor.reports.common import (
    END_STATES,
    availability_cells,
    availability_columns,
    availability_pct,
    col,
    covered_pct,
    seconds,
    stats_of,
    vi_num,
)
from infra_monitor.reports.dataset import CircuitInfo, Dataset, DeviceInfo
from infra_monitor.reports.document import Cell, Chart, ColumnType, Section, SummaryItem, Table, Text, t
from infra_monitor.reports.params import TierReference
from infra_monitor.reports.timeline import (
    END_STATE,
    GROUP_PRECEDENCE,
    UP,
    Segment,
    end_segment,
    site_timeline,
    time_all_up,
    totals,
    transitions_down,
)
from inventory.choices import SiteCategoryChoices

ZERO = timedelta(0)
YEAR_H = 8760.0
MIN_COVERED_PCT = 50.0   # below this share of the period measured, no tier comparison is made
TIERS = (99.671, 99.741, 99.982, 99.995)
TIER_NAMES: dict[TierReference, tuple[Text, tuple[str, ...]]] = {
    TierReference.TCVN_9250_2012: (t("TCVN 9250:2012 (theo TIA-942:2005)", "TCVN 9250:2012 (from TIA-942:2005)"),
                                   ("Mức 1", "Mức 2", "Mức 3", "Mức 4")),
    TierReference.TIA_942: (t("ANSI/TIA-942-B:2017", "ANSI/TIA-942-B:2017"),
                            ("Rated-1", "Rated-2", "Rated-3", "Rated-4")),
    TierReference.UPTIME: (t("Uptime Institute (Tier)", "Uptime Institute (Tier)"),
                           ("Tier I", "Tier II", "Tier III", "Tier IV")),
}
MEASURES = {"service": t("Dịch vụ (mỗi vai trò còn ít nhất một thiết bị hoạt động)",
                         "Service (every role has a device up)"),
            "equipment": t("Toàn bộ thiết bị (quy tắc trạng thái điểm)", "All equipment (site-state rule)")}
DISCLAIMER = t("Số liệu đo được là bằng chứng hỗ trợ, không phải chứng nhận cấp độ (tier) của trung tâm dữ liệu; "
               "việc chứng nhận cần đánh giá hạ tầng điện, làm mát, kiến trúc và vận hành theo tiêu chuẩn.",
               "Measured figures support, but do not certify, a data-center tier; certification assesses power, "
               "cooling, architecture and operation against the standard.")


def uplinks(ds: Dataset, dc_ids: set[int]) -> list[CircuitInfo]:
    """Active circuits into the data center: ending there on the Z side, or with no other end of ours."""
    out = []
    for c in ds.circuits:
        if c.status != "active":
            continue
        z, a = c.side("Z"), c.side("A")
        if (z is not None and z.site_id in dc_ids) or (a is not None and a.site_id in dc_ids and z is None):
            out.append(c)
    return out


def _role_groups(ds: Dataset, devices: list[DeviceInfo]) -> dict[str, list[DeviceInfo]]:
    groups: dict[str, list[DeviceInfo]] = {}
    for d in devices:
        groups.setdefault(d.role, []).append(d)
    return groups


def build(ds: Dataset) -> tuple[list[SummaryItem], list[Text], list[Section], list[Table], list[Chart]]:
    p = ds.params
    dcs = [s for s in ds.live_sites() if s.category == SiteCategoryChoices.DATACENTER]
    dc_ids = {s.id for s in dcs}
    equipment = sorted((d for d in ds.devices.values() if d.site_id in dc_ids),
                       key=lambda d: (d.rack or "~", d.role, d.name))
    monitored = [d for d in equipment if d.monitored and d.id in ds.device_tl]
    groups = _role_groups(ds, monitored)
    group_tl = {role: site_timeline([(d.id, ds.device_tl[d.id]) for d in members], p.start, ds.stop,
                                    GROUP_PRECEDENCE) for role, members in groups.items()}
    service = site_timeline(list(enumerate(group_tl.values())), p.start, ds.stop) if group_tl else []
    all_equipment: list[Segment] = []
    for s in dcs:
        all_equipment += ds.site_tl.get(s.id, [])
    service_av = totals(service)
    service_pct = availability_pct(service_av, p) if service else None
    measured_h = (ds.stop - p.start).total_seconds() / 3600.0
    down_h = sum((x.length for x in service if x.bucket in ("down_own", "down_parent")), ZERO).total_seconds() / 3600
    ref_name, tier_labels = TIER_NAMES[p.tier_reference]
    service_covered = covered_pct(service_av, p) if service else 0.0
    comparable = service_pct is not None and service_covered >= MIN_COVERED_PCT
    tier_rows = [{"tier": label, "threshold_pct": thr, "allowed_downtime_h": round((100 - thr) / 100 * YEAR_H, 2),
                  "measured_pct": service_pct, "covered_pct": service_covered,
                  "met": (service_pct >= thr) if comparable and service_pct is not None else None}
                 for label, thr in zip(tier_labels, TIERS, strict=True)]
    ups = uplinks(ds, dc_ids)
    up_tl = {c.cid: ds.device_tl.get(circuit_device(ds, c) or -1, []) for c in ups}
    all_up, _any_up, none_up = time_all_up([tl for tl in up_tl.values() if tl])
    failovers = _failovers(ds, ups, up_tl)
    uplink_rows = []
    for c in ups:
        tl = up_tl[c.cid]
        seg = end_segment(tl)
        d = circuit_device(ds, c)
        uplink_rows.append({"cid": c.cid, "provider": c.provider, "type": c.type,
                            "commit_rate_kbps": c.commit_rate_kbps,
                            "measured_by": ds.devices[d].name if d is not None else None,
                            "state_at_end": END_STATE[seg.bucket] if seg else "no_data",
                            **(availability_cells(totals(tl), p, stats_of(tl, ds)) if tl else {})})
    providers = sorted({c.provider for c in ups})
    role_rows = []
    for role, members in sorted(groups.items()):
        a, some, _none = time_all_up([ds.device_tl[m.id] for m in members])
        role_rows.append({"role": role, "devices": len(members), "names": ", ".join(m.name for m in members),
                          "redundant": len(members) >= 2, "all_up_s": seconds(a), "any_up_s": seconds(some),
                          "availability_pct": availability_pct(totals(group_tl[role]), p)})
    maint_rows = _maintenance(ds, dc_ids, service)
    S = ColumnType
    equip_rows = [{"rack": d.rack, "role": d.role, "device": d.name, "type": d.device_type, "serial": d.serial,
                   "asset_tag": d.asset_tag, "status": d.status, "monitored": d.monitored,
                   "availability_pct": (availability_pct(totals(ds.device_tl[d.id]), p)
                                        if d.id in ds.device_tl else None)}
                  for d in equipment]
    tables = [
        Table(key="dc_tiers", title=t("Khả dụng đo được so với các mức", "Measured availability against the tiers"),
              description=t(f"Tham chiếu: {ref_name.vi}", f"Reference: {ref_name.en}"),
              columns=[col("tier", "Mức", "Tier"),
                       col("threshold_pct", "Ngưỡng khả dụng", "Availability threshold", S.PCT),
                       col("allowed_downtime_h", "Gián đoạn cho phép (giờ/năm)", "Allowed downtime (h/year)", S.FLOAT),
                       col("measured_pct", "Khả dụng dịch vụ đo được", "Measured service availability", S.PCT),
                       col("covered_pct", "Phần kỳ có số liệu", "Share of period measured", S.PCT),
                       col("met", "Đạt", "Met", S.BOOL)], rows=tier_rows),
        Table(key="dc_availability", title=t("Khả dụng trung tâm dữ liệu", "Data-center availability"),
              columns=[col("measure", "Cách tính", "Measure", S.ENUM, MEASURES), *availability_columns()],
              rows=[{"measure": "service", **availability_cells(service_av, p, stats_of(service, ds))},
                    {"measure": "equipment",
                     **availability_cells(totals(all_equipment), p, stats_of(all_equipment, ds))}]),
        Table(key="dc_uplinks", title=t("Đường truyền vào trung tâm dữ liệu", "Uplinks into the data center"),
              columns=[col("cid", "Mã đường truyền", "Circuit"), col("provider", "Nhà cung cấp", "Provider"),
                       col("type", "Loại", "Type"),
                       col("commit_rate_kbps", "Tốc độ cam kết (kbit/s)", "Committed rate (kbit/s)", S.INT),
                       col("measured_by", "Đo qua thiết bị", "Measured by"),
                       col("state_at_end", "Cuối kỳ", "At end", S.ENUM, END_STATES), *availability_columns()],
              rows=uplink_rows),
        Table(key="dc_failovers", title=t("Sự kiện chuyển mạch dự phòng", "Failover events"),
              columns=[col("time", "Thời điểm", "Time", S.DATETIME),
                       col("failed", "Đường truyền hỏng", "Uplink failed"),
                       col("remaining", "Đường truyền còn hoạt động", "Uplinks still up")], rows=failovers),
        Table(key="dc_redundancy", title=t("Thiết bị dự phòng theo vai trò", "Redundant devices by role"),
              columns=[col("role", "Vai trò", "Role"), col("devices", "Số thiết bị", "Devices", S.INT),
                       col("names", "Thiết bị", "Devices"), col("redundant", "Có dự phòng", "Redundant", S.BOOL),
                       col("all_up_s", "Thời gian tất cả hoạt động", "Time all up", S.DURATION),
                       col("any_up_s", "Thời gian ít nhất một hoạt động", "Time at least one up", S.DURATION),
                       col("availability_pct", "Khả dụng của vai trò", "Availability of the role", S.PCT)],
              rows=role_rows),
        Table(key="dc_maintenance", title=t("Bảo trì trong kỳ", "Maintenance in the period"),
              columns=[col("window", "Đợt bảo trì", "Window"), col("start", "Bắt đầu", "Start", S.DATETIME),
                       col("end", "Kết thúc", "End", S.DATETIME), col("devices", "Thiết bị bảo trì", "Devices", S.INT),
                       col("service_loss_s", "Dịch vụ bị gián đoạn", "Service interrupted", S.DURATION),
                       col("without_loss", "Không gián đoạn dịch vụ", "Without loss of service", S.BOOL)],
              rows=maint_rows),
        Table(key="dc_equipment", title=t("Thiết bị theo tủ rack và vai trò", "Equipment by rack and role"),
              columns=[col("rack", "Tủ rack", "Rack"), col("role", "Vai trò", "Role"),
                       col("device", "Thiết bị", "Device"),
                       col("type", "Chủng loại", "Type"), col("serial", "Số sê-ri", "Serial"),
                       col("asset_tag", "Mã tài sản", "Asset tag"), col("status", "Tình trạng", "Status"),
                       col("monitored", "Được giám sát", "Monitored", S.BOOL),
                       col("availability_pct", "Khả dụng", "Availability", S.PCT)], rows=equip_rows),
    ]
    met = [r["tier"] for r in tier_rows if r["met"]]
    summary = [
        SummaryItem(key="reference", label=t("Tiêu chuẩn tham chiếu", "Reference"), value=p.tier_reference.value,
                    type=S.ENUM, choices={r.value: n for r, (n, _l) in TIER_NAMES.items()}),
        SummaryItem(key="service_availability", label=t("Khả dụng dịch vụ đo được", "Measured service availability"),
                    value=service_pct, type=S.PCT),
        SummaryItem(key="highest_tier_met", label=t("Mức cao nhất có số liệu đạt", "Highest tier the figure meets"),
                    value=met[-1] if met else None),
        SummaryItem(key="measured_hours", label=t("Số giờ đo", "Hours measured"), value=round(measured_h, 2),
                    type=S.FLOAT),
        SummaryItem(key="service_downtime_h", label=t("Giờ gián đoạn dịch vụ", "Service downtime (h)"),
                    value=round(down_h, 3), type=S.FLOAT),
        SummaryItem(key="uplinks", label=t("Đường truyền vào hoạt động", "Active uplinks"), value=len(ups), type=S.INT),
        SummaryItem(key="providers", label=t("Số nhà cung cấp khác nhau", "Distinct providers"), value=len(providers),
                    type=S.INT),
        SummaryItem(key="uplinks_all_up_s", label=t("Thời gian mọi đường truyền vào đều hoạt động",
                                                    "Time all uplinks were up"), value=seconds(all_up),
                    type=S.DURATION),
        SummaryItem(key="uplinks_none_up_s", label=t("Thời gian không đường truyền vào nào hoạt động",
                                                     "Time no uplink was up"), value=seconds(none_up) if ups else None,
                    type=S.DURATION),
        SummaryItem(key="failovers", label=t("Số lần chuyển mạch dự phòng", "Failover events"), value=len(failovers),
                    type=S.INT),
        SummaryItem(key="maintenance_without_loss",
                    label=t("Đợt bảo trì không gián đoạn dịch vụ", "Maintenance without loss of service"),
                    value=f"{sum(1 for r in maint_rows if r['without_loss'])}/{len(maint_rows)}"),
    ]
    notes = [DISCLAIMER]
    if not comparable:
        notes.append(t(f"Số liệu chỉ phủ {vi_num(round(service_covered, 1))} % kỳ báo cáo (cần ít nhất "
                       f"{vi_num(MIN_COVERED_PCT)} %): chưa so sánh với các mức.",
                       f"Data covers only {service_covered:.1f} % of the period (at least {MIN_COVERED_PCT:g} % "
                       "needed): no comparison with the tiers."))
    if measured_h < YEAR_H:
        notes.append(t(f"Kỳ đo {measured_h:,.1f} giờ, ngắn hơn một năm: các ngưỡng theo năm chỉ so sánh được về tỷ lệ.",
                       f"The measured period is {measured_h:,.1f} h, shorter than a year: yearly thresholds compare "
                       "as ratios only."))
    if len(providers) < 2:
        notes.append(t("Chưa có hai nhà cung cấp đường truyền vào khác nhau (mức 3–4 yêu cầu từ hai nhà cung cấp).",
                       "Fewer than two distinct uplink providers (ratings 3–4 ask for two or more)."))
    sections = [
        Section(title=t("Khả dụng so với các mức", "Availability against the tiers"), paragraphs=[DISCLAIMER],
                tables=["dc_tiers", "dc_availability"]),
        Section(title=t("Dự phòng kết nối", "Connectivity redundancy"), tables=["dc_uplinks", "dc_failovers"]),
        Section(title=t("Dự phòng thiết bị và bảo trì", "Equipment redundancy and maintenance"),
                tables=["dc_redundancy", "dc_maintenance"]),
        Section(title=t("Danh mục thiết bị", "Equipment"), tables=["dc_equipment"]),
    ]
    return summary, notes, sections, tables, []


def _failovers(ds: Dataset, ups: list[CircuitInfo], tl: dict[str, list[Segment]]) -> list[dict[str, Cell]]:
    out: list[dict[str, Cell]] = []
    for c in ups:
        for when in transitions_down(tl[c.cid]):
            others = [o.cid for o in ups if o.cid != c.cid and _up_at(tl[o.cid], when)]
            if others:
                out.append({"time": when, "failed": c.cid, "remaining": ", ".join(others)})
    return sorted(out, key=lambda r: r["time"])  # type: ignore[arg-type, return-value]


def _up_at(segs: list[Segment], when: datetime) -> bool:
    return any(s.start <= when < s.end and s.bucket == UP for s in segs)


def _maintenance(ds: Dataset, dc_ids: set[int], service: list[Segment]) -> list[dict[str, Cell]]:
    from infra_monitor.status.maintenance.windows import window_intervals

    dc_devices = {d.id for d in ds.devices.values() if d.site_id in dc_ids}
    rows: list[dict[str, Cell]] = []
    for w in ds.windows:
        for lo, hi in window_intervals(w, ds.params.start, ds.stop):
            affected = {d for d, spans in ds.maintenance.items() if d in dc_devices
                        and any(a < hi and b > lo for a, b in spans)}
            if not affected:
                continue
            loss = ZERO
            for s in service:
                a, b = max(s.start, lo), min(s.end, hi)
                if b > a and s.bucket != UP:
                    loss += b - a
            rows.append({"window": w.name, "start": lo, "end": hi, "devices": len(affected),
                         "service_loss_s": seconds(loss), "without_loss": loss == ZERO})
    return rows

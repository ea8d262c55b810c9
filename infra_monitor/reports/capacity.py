"""Capacity report: per WAN circuit, 95th-percentile utilisation against the committed rate.

From the 5-minute interface rollups (average rate per bucket = sum / n) of the interface a circuit ends on
(the termination with the most samples; the data-center side when equal), in and out separately:
the 95th percentile as LibreNMS bills it (sort the 5-minute rates ascending, take index
``round(n × 0.95) − 1``), their maximum (the billed figure), the peak rate seen, the hours a 5-minute average
was at or above the threshold (default 80 % of ``commit_rate_kbps``), and how much of the period the samples
cover. Circuits are ranked by pressure (the billed 95th percentile against the committed rate). 5-minute
rollups are kept ``retention.rollup_5m_days`` (90 days by default): a longer period shows a low coverage.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Connection

from infra_monitor.reports.common import PDF_DETAIL_ROWS, col, vi_num
from infra_monitor.reports.dataset import CircuitInfo, Dataset, Termination
from infra_monitor.reports.document import Cell, Chart, ChartSeries, ColumnType, Section, SummaryItem, Table, Text, t
from infra_monitor.storage.models import InterfaceRollup

IR = InterfaceRollup.__table__.c  # type: ignore[attr-defined]
BUCKET_S = 300


def percentile95(values: list[float]) -> float | None:
    """LibreNMS's 95th percentile: sorted ascending, index round(n × 0.95) − 1 (round half up)."""
    if not values:
        return None
    ordered = sorted(values)
    index = max((len(ordered) * 95 + 50) // 100 - 1, 0)
    return ordered[index]


@dataclass
class Samples:
    ins: list[float]
    outs: list[float]
    peak: float | None


def load_samples(conn: Connection, ds: Dataset, interface_ids: set[int]) -> dict[int, Samples]:
    """5-minute average rates (bit/s) per interface within the measured period (one query)."""
    out: dict[int, Samples] = defaultdict(lambda: Samples([], [], None))
    if not interface_ids:
        return {}
    stmt = (select(IR.interface_id, IR.n, IR.in_bps_sum, IR.out_bps_sum, IR.in_bps_max, IR.out_bps_max)
            .where(IR.resolution == BUCKET_S, IR.interface_id.in_(sorted(interface_ids)),
                   IR.bucket >= ds.params.start, IR.bucket < ds.stop, IR.n > 0))
    for r in conn.execute(stmt):
        s = out[r.interface_id]
        s.ins.append(r.in_bps_sum / r.n)
        s.outs.append(r.out_bps_sum / r.n)
        peak = max(x for x in (r.in_bps_max, r.out_bps_max, r.in_bps_sum / r.n, r.out_bps_sum / r.n) if x is not None)
        s.peak = peak if s.peak is None else max(s.peak, peak)
    return dict(out)


def _pct(bps: float | None, kbps: int | None) -> float | None:
    return None if bps is None or not kbps else 100.0 * bps / (kbps * 1000.0)


def _p95_pct(row: dict[str, Cell]) -> float:
    """A row's billed P95 against the committed rate, 0 when not measurable."""
    value = row["p95_pct"]
    return value if isinstance(value, float) else 0.0


def build(ds: Dataset, conn: Connection
          ) -> tuple[list[SummaryItem], list[Text], list[Section], list[Table], list[Chart]]:
    p = ds.params
    circuits = [c for c in ds.circuits if c.status == "active"]
    ifaces = {tm.interface_id for c in circuits for tm in c.terminations if tm.interface_id is not None}
    samples = load_samples(conn, ds, ifaces)
    period_s = (p.end - p.start).total_seconds()
    rows: list[dict[str, Cell]] = []
    for c in circuits:
        term = _measured_end(c, samples)
        s = samples.get(term.interface_id) if term is not None and term.interface_id is not None else None
        n = len(s.ins) if s else 0
        p95_in = percentile95(s.ins) if s else None
        p95_out = percentile95(s.outs) if s else None
        billed = max((x for x in (p95_in, p95_out) if x is not None), default=None)
        thr_bps = (p.utilisation_threshold_pct / 100.0) * c.commit_rate_kbps * 1000.0 if c.commit_rate_kbps else None
        above = (sum(1 for i, o in zip(s.ins, s.outs, strict=True) if max(i, o) >= thr_bps)
                 if s and thr_bps is not None else None)
        z = c.side("Z") or c.side("A")
        rows.append({
            "cid": c.cid, "provider": c.provider, "type": c.type,
            "site": ds.sites[z.site_id].name if z and z.site_id in ds.sites else None,
            "interface": (f"{ds.devices[term.device_id].name} {term.interface_name}"
                          if term is not None and term.device_id in ds.devices else None),
            "commit_rate_kbps": c.commit_rate_kbps,
            "p95_in_kbps": None if p95_in is None else p95_in / 1000.0,
            "p95_out_kbps": None if p95_out is None else p95_out / 1000.0,
            "p95_kbps": None if billed is None else billed / 1000.0,
            "p95_in_pct": _pct(p95_in, c.commit_rate_kbps), "p95_out_pct": _pct(p95_out, c.commit_rate_kbps),
            "p95_pct": _pct(billed, c.commit_rate_kbps),
            "peak_kbps": None if s is None or s.peak is None else s.peak / 1000.0,
            "peak_pct": _pct(s.peak if s else None, c.commit_rate_kbps),
            "hours_above": None if above is None else above * BUCKET_S / 3600.0,
            "samples": n, "covered_pct": 100.0 * n * BUCKET_S / period_s if period_s else 0.0,
        })
    rows.sort(key=lambda r: (r["p95_pct"] is None, -_p95_pct(r), str(r["cid"])))
    for rank, r in enumerate(rows, start=1):
        r["rank"] = rank
    S = ColumnType
    table = Table(
        pdf_max_rows=PDF_DETAIL_ROWS, key="capacity_by_circuit", title=t("Mức sử dụng băng thông theo đường truyền",
            "Link utilisation by circuit"),
        description=t(f"Phân vị 95 từ số liệu 5 phút; ngưỡng {vi_num(p.utilisation_threshold_pct)} % tốc độ cam kết.",
                      f"95th percentile of 5-minute rates; threshold {p.utilisation_threshold_pct:g} % "
                      "of the committed rate."),
        columns=[col("rank", "Hạng", "Rank", S.INT), col("cid", "Mã đường truyền", "Circuit"),
                 col("provider", "Nhà cung cấp", "Provider"), col("type", "Loại", "Type"),
                 col("site", "Điểm được phục vụ", "Served site"), col("interface", "Cổng đo", "Measured on"),
                 col("commit_rate_kbps", "Tốc độ cam kết (kbit/s)", "Committed (kbit/s)", S.INT),
                 col("p95_in_kbps", "P95 vào (kbit/s)", "P95 in (kbit/s)", S.RATE),
                 col("p95_out_kbps", "P95 ra (kbit/s)", "P95 out (kbit/s)", S.RATE),
                 col("p95_kbps", "P95 tính cước (max)", "P95 billed (max)", S.RATE),
                 col("p95_in_pct", "P95 vào / cam kết", "P95 in / committed", S.PCT),
                 col("p95_out_pct", "P95 ra / cam kết", "P95 out / committed", S.PCT),
                 col("p95_pct", "P95 / cam kết", "P95 / committed", S.PCT),
                 col("peak_kbps", "Đỉnh (kbit/s)", "Peak (kbit/s)", S.RATE),
                 col("peak_pct", "Đỉnh / cam kết", "Peak / committed", S.PCT),
                 col("hours_above", f"Số giờ ≥ {vi_num(p.utilisation_threshold_pct)} %",
                     f"Hours ≥ {p.utilisation_threshold_pct:g} %", S.FLOAT),
                 col("samples", "Số mẫu 5 phút", "5-minute samples", S.INT),
                 col("covered_pct", "Phần kỳ có số liệu", "Share of period measured", S.PCT)],
        rows=rows)
    top = [r for r in rows if r["p95_pct"] is not None][:15]
    chart = Chart(key="capacity_top", title=t("Đường truyền chịu tải cao nhất (P95 / cam kết)",
                                              "Circuits under most pressure (P95 / committed)"), unit="%",
                  labels=[str(r["cid"]) for r in top],
                  series=[ChartSeries(name=t("Vào", "In"), values=_pcts(top, "p95_in_pct")),
                          ChartSeries(name=t("Ra", "Out"), values=_pcts(top, "p95_out_pct"))],
                  references=[(t("Ngưỡng", "Threshold"), p.utilisation_threshold_pct)],
                  value_max=max([100.0, *[_p95_pct(r) for r in top]]))
    measured = [r for r in rows if r["samples"]]
    over = [r for r in measured if _p95_pct(r) >= p.utilisation_threshold_pct]
    summary = [
        SummaryItem(key="circuits", label=t("Đường truyền hoạt động", "Active circuits"), value=len(rows), type=S.INT),
        SummaryItem(key="circuits_measured", label=t("Đường truyền có số liệu lưu lượng", "Circuits with traffic data"),
                    value=len(measured), type=S.INT),
        SummaryItem(key="circuits_over_threshold",
                    label=t(f"Đường truyền có P95 ≥ {vi_num(p.utilisation_threshold_pct)} %",
                            f"Circuits with P95 ≥ {p.utilisation_threshold_pct:g} %"), value=len(over), type=S.INT),
        SummaryItem(key="highest_p95_pct", label=t("P95 cao nhất / cam kết", "Highest P95 / committed"),
                    value=rows[0]["p95_pct"] if rows else None, type=S.PCT),
    ]
    notes = [t("Kế hoạch nêu băng thông hạn chế là điểm yếu: bảng này là bằng chứng cho việc nâng cấp đường truyền.",
               "The plan names limited bandwidth as a weakness: this table is the evidence for upgrades.")]
    if period_s / 86400 > 90:
        notes.append(t("Số liệu 5 phút chỉ được lưu theo cấu hình retention.rollup_5m_days (mặc định 90 ngày).",
                       "5-minute data is kept for retention.rollup_5m_days (90 days by default)."))
    sections = [Section(title=t("Mức sử dụng băng thông", "Link utilisation"), tables=["capacity_by_circuit"],
                        charts=["capacity_top"])]
    return summary, notes, sections, [table], [chart]


def _pcts(rows: list[dict[str, Cell]], key: str) -> list[float | None]:
    return [float(v) if isinstance(v, int | float) else None for v in (r.get(key) for r in rows)]


def _measured_end(c: CircuitInfo, samples: dict[int, Samples]) -> Termination | None:
    best: Termination | None = None
    best_n = -1
    for term in sorted(c.terminations, key=lambda tm: tm.side):   # A (data-center side) first on a tie
        n = len(samples[term.interface_id].ins) if term.interface_id in samples else 0
        if term.interface_id is not None and n > best_n:
            best, best_n = term, n
    return best

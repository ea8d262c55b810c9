"""Capacity report: per WAN circuit, 95th-percentile utilisation against the committed rate.

From the 5-minute interface rollups (average rate per bucket = sum / n) of the interface a circuit ends on
(the termination with the most samples; the data-center side when equal; circuits are measured on two
read connections in parallel), in and out separately:
the 95th percentile as LibreNMS bills it (sort the 5-minute rates ascending, take index
``round(n × 0.95) − 1``), their maximum (the billed figure), the peak rate seen, the hours a 5-minute average
was at or above the threshold (default 80 % of ``commit_rate_kbps``), and how much of the period the samples
cover. Circuits are ranked by pressure (the billed 95th percentile against the committed rate). 5-minute
rollups are kept ``retention.rollup_5m_days`` (90 days by default): a longer period shows a low coverage.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.engine import Connection

from infra_monitor.reports.common import PDF_DETAIL_ROWS, col, vi_num
from infra_monitor.reports.dataset import CircuitInfo, Dataset, Termination
from infra_monitor.reports.document import Cell, Chart, ChartSeries, ColumnType, Section, SummaryItem, Table, Text, t
from infra_monitor.storage.models import InterfaceRollup

IR = InterfaceRollup.__table__.c  # type: ignore[attr-defined]
BUCKET_S = 300


def p95_index(n: int) -> int:
    """0-based index of the 95th percentile among ``n`` ascending values: round(n × 0.95) − 1, half up."""
    return max((n * 95 + 50) // 100 - 1, 0)


def percentile95(values: list[float]) -> float | None:
    """LibreNMS's 95th percentile: sorted ascending, index round(n × 0.95) − 1 (round half up)."""
    return sorted(values)[p95_index(len(values))] if values else None


@dataclass(frozen=True)
class Counts:
    n: int
    peak: float | None
    above: int            # buckets whose busier direction was at or above the circuit's threshold


def _avg(column: Any) -> Any:
    return column / IR.n


def _in_period(ds: Dataset) -> list[Any]:
    return [IR.resolution == BUCKET_S, IR.bucket >= ds.params.start, IR.bucket < ds.stop, IR.n > 0]


def interface_counts(conn: Connection, ds: Dataset, interface_id: int, limit_bps: float | None) -> Counts:
    """One interface's 5-minute samples in the measured period, its peak rate and the buckets at or above
    ``limit_bps``: one range scan (the clustered key starts with resolution and interface)."""
    i, o = _avg(IR.in_bps_sum), _avg(IR.out_bps_sum)
    busier = case((i >= o, i), else_=o)
    above = func.sum(case((busier >= limit_bps, 1), else_=0)) if limit_bps else func.sum(0)
    stmt = select(func.count(), func.max(IR.in_bps_max), func.max(IR.out_bps_max), func.max(i), func.max(o),
                  above).where(*_in_period(ds), IR.interface_id == interface_id)
    n, *peaks, over = conn.execute(stmt).one()
    values = [float(x) for x in peaks if x is not None]
    return Counts(int(n or 0), max(values) if values else None, int(over or 0))


def p95_of(conn: Connection, ds: Dataset, interface_id: int, n: int, column: Any) -> float | None:
    """The 95th percentile of one direction's 5-minute averages: the database keeps only the top
    ``n − index`` values while scanning (ORDER BY … DESC LIMIT 1 OFFSET), so no full sort of the period."""
    if n <= 0:
        return None
    value = _avg(column).label("v")
    stmt = (select(value).where(*_in_period(ds), IR.interface_id == interface_id)
            .order_by(value.desc()).limit(1).offset(n - 1 - p95_index(n)))
    found = conn.execute(stmt).scalar()
    return None if found is None else float(found)


def _pct(bps: float | None, kbps: int | None) -> float | None:
    return None if bps is None or not kbps else 100.0 * bps / (kbps * 1000.0)


def _p95_pct(row: dict[str, Cell]) -> float:
    """A row's billed P95 against the committed rate, 0 when not measurable."""
    value = row["p95_pct"]
    return value if isinstance(value, float) else 0.0


Measured = tuple[Termination | None, Counts | None, float | None, float | None]
WORKERS = 2   # read connections scanning interfaces in parallel (the scans are I/O and C code, not Python)


def _limit(threshold_pct: float, c: CircuitInfo) -> float | None:
    return threshold_pct / 100.0 * c.commit_rate_kbps * 1000.0 if c.commit_rate_kbps else None


def _measure(conn: Connection, ds: Dataset, c: CircuitInfo) -> Measured:
    """The measured end of a circuit, its counts and both directions' 95th percentile."""
    limit = _limit(ds.params.utilisation_threshold_pct, c)
    counts = {tm.interface_id: interface_counts(conn, ds, tm.interface_id, limit)
              for tm in c.terminations if tm.interface_id is not None}
    term = _measured_end(c, counts)
    s = counts.get(term.interface_id) if term is not None and term.interface_id is not None else None
    if term is None or term.interface_id is None or s is None or not s.n:
        return term, s, None, None
    return (term, s, p95_of(conn, ds, term.interface_id, s.n, IR.in_bps_sum),
            p95_of(conn, ds, term.interface_id, s.n, IR.out_bps_sum))


def measure_all(conn: Connection, ds: Dataset, circuits: list[CircuitInfo]) -> dict[int, Measured]:
    """Every circuit measured; on a file or server database the circuits are split over ``WORKERS`` read
    connections (a year of 5-minute samples is millions of rows; SQLite and psycopg release the GIL)."""
    engine = conn.engine
    if len(circuits) < 2 * WORKERS or engine.url.database in (None, "", ":memory:"):
        return {c.id: _measure(conn, ds, c) for c in circuits}

    def chunk(part: list[CircuitInfo]) -> dict[int, Measured]:
        with engine.connect() as own:
            return {c.id: _measure(own, ds, c) for c in part}

    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="capacity") as pool:
        parts = list(pool.map(chunk, [circuits[i::WORKERS] for i in range(WORKERS)]))
    return {k: v for part in parts for k, v in part.items()}


def build(ds: Dataset, conn: Connection
          ) -> tuple[list[SummaryItem], list[Text], list[Section], list[Table], list[Chart]]:
    p = ds.params
    circuits = [c for c in ds.circuits if c.status == "active"]
    period_s = (p.end - p.start).total_seconds()
    measured = measure_all(conn, ds, circuits)
    rows: list[dict[str, Cell]] = []
    for c in circuits:
        term, s, p95_in, p95_out = measured[c.id]
        n = s.n if s else 0
        limit = _limit(p.utilisation_threshold_pct, c)
        above = s.above * BUCKET_S / 3600.0 if s is not None and n and limit else None
        billed = max((x for x in (p95_in, p95_out) if x is not None), default=None)
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
            "hours_above": above,
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
    with_data = [r for r in rows if r["samples"]]
    over = [r for r in with_data if _p95_pct(r) >= p.utilisation_threshold_pct]
    summary = [
        SummaryItem(key="circuits", label=t("Đường truyền hoạt động", "Active circuits"), value=len(rows), type=S.INT),
        SummaryItem(key="circuits_measured", label=t("Đường truyền có số liệu lưu lượng", "Circuits with traffic data"),
                    value=len(with_data), type=S.INT),
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


def _measured_end(c: CircuitInfo, counts: dict[int, Counts]) -> Termination | None:
    best: Termination | None = None
    best_n = -1
    for term in sorted(c.terminations, key=lambda tm: tm.side):   # A (data-center side) first on a tie
        n = counts[term.interface_id].n if term.interface_id in counts else 0
        if term.interface_id is not None and n > best_n:
            best, best_n = term, n
    return best

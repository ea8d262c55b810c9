"""Graph series from raw results and rollups, downsampled in SQL to at most ~400 points per line.

Periods (:data:`PERIODS`): 1 h and 6 h from the raw results (``probe_result``, ``interface_sample``) in
2-minute and 5-minute steps (30 and 72 points: a step holds two checks at the default 60 s interval, so one
late check does not open a false gap); 24 h from 5-minute rollups (288 points); 7 days, 30 days and 1 year
from 1-hour rollups grouped into 1 h, 2 h and 24 h steps (168, 360, 365 points). Groups merge exactly
because rollups keep sums and counts (``avg = sum / n``); min and max stay min and max. Missing steps
become ``null`` so gaps show as gaps, never as zero. Every line of a series has one point per step of the
same grid (the committed rate too), so a chart can share one time axis. Metrics: ``rtt`` (min/avg/max ms),
``loss`` (%) and ``util`` (in/out bit rate of a circuit's interface against its committed rate).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, Integer, cast, extract, func, literal, select
from sqlalchemy.engine import Connection

from infra_monitor.readmodel.frame import DEV, TERM, monitored
from infra_monitor.readmodel.schemas import Series, SeriesLine
from infra_monitor.storage.models import InterfaceRollup, InterfaceSampleRow, ProbeResultRow, Rollup
from inventory.choices import CircuitStatusChoices, TermSideChoices
from inventory.models import Circuit, CircuitTermination, Device

RU = Rollup.__table__.c  # type: ignore[attr-defined]
IR = InterfaceRollup.__table__.c  # type: ignore[attr-defined]
PR = ProbeResultRow.__table__.c  # type: ignore[attr-defined]
IS = InterfaceSampleRow.__table__.c  # type: ignore[attr-defined]
CIRCUIT = Circuit.__table__.c  # type: ignore[attr-defined]
METRICS = ("rtt", "loss", "util")
MAX_CIRCUITS = 4


RAW = 0  # ``Period.resolution`` of the periods read from raw results


@dataclass(frozen=True)
class Period:
    """A graph range: its length, the rollup resolution it reads (:data:`RAW`: raw results) and the step
    (seconds per point) it is grouped into."""

    length: timedelta
    resolution: int
    step: int

    @property
    def points(self) -> int:
        return int(self.length.total_seconds()) // self.step


PERIODS: dict[str, Period] = {
    "1h": Period(timedelta(hours=1), RAW, 120),
    "6h": Period(timedelta(hours=6), RAW, 300),
    "24h": Period(timedelta(hours=24), 300, 300),
    "7d": Period(timedelta(days=7), 3600, 3600),
    "30d": Period(timedelta(days=30), 3600, 7200),
    "1y": Period(timedelta(days=365), 3600, 86400),
}


def epoch_seconds(conn: Connection, column: Any) -> Any:
    """Integer UNIX seconds of a UTC datetime column, per dialect."""
    if conn.dialect.name == "sqlite":
        return cast(func.strftime("%s", column), Integer)
    return cast(extract("epoch", column), BigInteger)


def _grid(period: Period, now: datetime) -> tuple[datetime, datetime, list[int]]:
    end_s = int(now.timestamp()) // period.step * period.step + period.step
    start_s = end_s - int(period.length.total_seconds())
    start_s = start_s // period.step * period.step
    steps = list(range(start_s, end_s, period.step))
    return datetime.fromtimestamp(start_s, UTC), datetime.fromtimestamp(end_s, UTC), steps


def _line(key: str, label: str, unit: str, steps: Iterable[int], values: Mapping[int, float | None]) -> SeriesLine:
    return SeriesLine(key=key, label=label, unit=unit, points=[(s * 1000, values.get(s)) for s in steps])


def _ratio(total: float | None, n: int | None) -> float | None:
    return total / n if total is not None and n else None


def device_series(conn: Connection, device_id: int, metric: str, period_name: str, now: datetime,
                  subject: str = "", kind: str = "icmp") -> Series:
    """RTT or loss of one device's ``kind`` check (its key is the kind: ``icmp``, ``snmp``) over a period (one
    grouped query). Any other check: :func:`infra_monitor.readmodel.checks.check_series`."""
    period = PERIODS[period_name]
    start, end, steps = _grid(period, now)
    step = literal(period.step, Integer)
    if period.resolution == RAW:
        g = (epoch_seconds(conn, PR.ts) // step) * step
        stmt = (select(g.label("g"), func.min(func.coalesce(PR.rtt_min_ms, PR.rtt_avg_ms)).label("mn"),
                       func.max(func.coalesce(PR.rtt_max_ms, PR.rtt_avg_ms)).label("mx"),
                       func.sum(PR.rtt_avg_ms).label("rs"), func.count(PR.rtt_avg_ms).label("rn"),
                       func.sum(PR.loss_pct).label("ls"), func.count(PR.loss_pct).label("ln"))
                .where(PR.device_id == device_id, PR.check_key == kind, PR.ts >= start, PR.ts < end)
                .group_by(g).order_by(g))
    else:
        g = (epoch_seconds(conn, RU.bucket) // step) * step
        stmt = (select(g.label("g"), func.min(RU.rtt_min_ms).label("mn"), func.max(RU.rtt_max_ms).label("mx"),
                       func.sum(RU.rtt_sum_ms).label("rs"), func.sum(RU.rtt_n).label("rn"),
                       func.sum(RU.loss_sum_pct).label("ls"), func.sum(RU.loss_n).label("ln"))
                .where(RU.resolution == period.resolution, RU.device_id == device_id, RU.check_key == kind,
                       RU.bucket >= start, RU.bucket < end)
                .group_by(g).order_by(g))
    rows = {int(r.g): r for r in conn.execute(stmt)}
    if metric == "loss":
        lines = [_line("loss", "", "%", steps, {s: _ratio(r.ls, r.ln) for s, r in rows.items()})]
    else:
        lines = [_line("rtt_min", "", "ms", steps, {s: r.mn for s, r in rows.items()}),
                 _line("rtt_avg", "", "ms", steps, {s: _ratio(r.rs, r.rn) for s, r in rows.items()}),
                 _line("rtt_max", "", "ms", steps, {s: r.mx for s, r in rows.items()})]
    return Series(metric=metric, period=period_name, resolution_s=period.step, start=start, end=end,
                  subject=subject, lines=lines)


def circuits_of_site(conn: Connection, site_id: int, circuit_id: int | None = None) -> list[Any]:
    """Circuits served at the site (Z side, active first) with their measured interface, at most four."""
    stmt = (select(CIRCUIT.id, CIRCUIT.cid, CIRCUIT.commit_rate_kbps, TERM.interface_id)
            .join(CircuitTermination, TERM.circuit_id == CIRCUIT.id)
            .where(TERM.site_id == site_id, TERM.interface_id.is_not(None)))
    if circuit_id is not None:
        stmt = stmt.where(CIRCUIT.id == circuit_id)
    else:
        stmt = stmt.where(TERM.term_side == TermSideChoices.Z)
    stmt = stmt.order_by((CIRCUIT.status != CircuitStatusChoices.ACTIVE), CIRCUIT.cid).limit(MAX_CIRCUITS)
    return list(conn.execute(stmt))


def _util_stmt(conn: Connection, period: Period, interface_ids: list[int], start: datetime, end: datetime) -> Any:
    """Per interface and step: samples (``n``) and the sums of their in/out bit rates."""
    step = literal(period.step, Integer)
    if period.resolution == RAW:
        g = (epoch_seconds(conn, IS.ts) // step) * step
        return (select(IS.interface_id, g.label("g"), func.count(IS.id).label("n"),
                       func.sum(IS.in_bps).label("i"), func.sum(IS.out_bps).label("o"))
                .where(IS.interface_id.in_(interface_ids), IS.ts >= start, IS.ts < end,
                       (IS.in_bps.is_not(None)) | (IS.out_bps.is_not(None)))
                .group_by(IS.interface_id, g))
    g = (epoch_seconds(conn, IR.bucket) // step) * step
    return (select(IR.interface_id, g.label("g"), func.sum(IR.n).label("n"),
                   func.sum(IR.in_bps_sum).label("i"), func.sum(IR.out_bps_sum).label("o"))
            .where(IR.resolution == period.resolution, IR.interface_id.in_(interface_ids),
                   IR.bucket >= start, IR.bucket < end)
            .group_by(IR.interface_id, g))


def util_series(conn: Connection, circuits: list[Any], period_name: str, now: datetime) -> Series:
    """In/out average bit rate of each circuit's interface and its committed rate (one grouped query)."""
    period = PERIODS[period_name]
    start, end, steps = _grid(period, now)
    lines: list[SeriesLine] = []
    if circuits:
        stmt = _util_stmt(conn, period, [c.interface_id for c in circuits], start, end)
        data: dict[int, dict[int, Any]] = {}
        for r in conn.execute(stmt):
            data.setdefault(r.interface_id, {})[int(r.g)] = r
        many = len(circuits) > 1
        for c in circuits:
            rows = data.get(c.interface_id, {})
            label = c.cid if many else ""
            lines.append(_line("in_bps", label, "bps", steps, {s: _ratio(r.i, r.n) for s, r in rows.items()}))
            lines.append(_line("out_bps", label, "bps", steps, {s: _ratio(r.o, r.n) for s, r in rows.items()}))
            if c.commit_rate_kbps:
                rate = float(c.commit_rate_kbps * 1000)
                lines.append(_line("commit_bps", label, "bps", steps, dict.fromkeys(steps, rate)))
    subject = ", ".join(c.cid for c in circuits)
    return Series(metric="util", period=period_name, resolution_s=period.step, start=start, end=end,
                  subject=subject, lines=lines)


def gateway_of_site(conn: Connection, site_id: int) -> tuple[int, str] | None:
    """The device whose RTT stands for the site: a monitored Z-side device of an active circuit, else the
    first monitored device by name."""
    z_side = (select(TERM.device_id).join(Circuit, CIRCUIT.id == TERM.circuit_id)
              .where(TERM.site_id == site_id, TERM.term_side == TermSideChoices.Z,
                     CIRCUIT.status == CircuitStatusChoices.ACTIVE, TERM.device_id.is_not(None)))
    stmt = (select(DEV.id, DEV.name).where(DEV.site_id == site_id, monitored())
            .order_by(DEV.id.not_in(z_side), DEV.name).limit(1))
    row = conn.execute(stmt).first()
    return (row.id, row.name) if row is not None else None


def site_series(conn: Connection, site_id: int, metric: str, period_name: str, now: datetime, *,
                device_id: int | None = None, circuit_id: int | None = None) -> Series:
    """A site's graph: RTT/loss of its gateway (or ``device_id`` at the site), or its circuits' traffic."""
    if metric == "util":
        return util_series(conn, circuits_of_site(conn, site_id, circuit_id), period_name, now)
    if device_id is not None:
        row = conn.execute(select(DEV.id, DEV.name).where(DEV.id == device_id, DEV.site_id == site_id)).first()
        chosen = (row.id, row.name) if row is not None else None
    else:
        chosen = gateway_of_site(conn, site_id)
    if chosen is None:
        period = PERIODS[period_name]
        start, end, _steps = _grid(period, now)
        return Series(metric=metric, period=period_name, resolution_s=period.step, start=start, end=end,
                      subject="", lines=[])
    return device_series(conn, chosen[0], metric, period_name, now, subject=chosen[1])


def device_util_series(conn: Connection, device_id: int, period_name: str, now: datetime) -> Series:
    """Traffic of the circuits terminating on a device (either side), at most four."""
    stmt = (select(CIRCUIT.id, CIRCUIT.cid, CIRCUIT.commit_rate_kbps, TERM.interface_id)
            .join(CircuitTermination, TERM.circuit_id == CIRCUIT.id)
            .join(Device, DEV.id == TERM.device_id)
            .where(TERM.device_id == device_id, TERM.interface_id.is_not(None))
            .order_by(TERM.term_side.desc(), CIRCUIT.cid).limit(MAX_CIRCUITS))
    return util_series(conn, list(conn.execute(stmt)), period_name, now)

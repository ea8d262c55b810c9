"""Per-check reads: the latest state of every check (a device's own checks and its services' checks) and one
check's or one service's graph series.

A check is ``(device_id, check_key)`` (see :mod:`infra_monitor.storage.models`). Its state here is the state
of its last result: ``up`` (succeeded), ``down`` (failed), or ``stale`` when that result is older than
``stale_before`` (the poller stopped checking it: removed from the inventory, its kind disabled, the poller
silent). One query for the states, one grouped query per series, whatever the number of checks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import Integer, cast, func, literal, select
from sqlalchemy.engine import Connection

from infra_monitor.readmodel.frame import DEV
from infra_monitor.readmodel.schemas import Series, SeriesLine
from infra_monitor.readmodel.series import PERIODS, RAW, _grid, _line, _ratio, epoch_seconds
from infra_monitor.storage.models import LatestResult, ProbeResultRow, Rollup
from inventory.models import Device

LR = LatestResult.__table__.c  # type: ignore[attr-defined]
PR = ProbeResultRow.__table__.c  # type: ignore[attr-defined]
RU = Rollup.__table__.c  # type: ignore[attr-defined]
CheckStateName = Literal["up", "down", "stale"]


class CheckState(BaseModel):
    """The latest result of one check."""

    device_id: int
    device_name: str
    check_key: str = Field(description="icmp, snmp, tcp:22, service:12:tcp:443, service:4:dns…")
    kind: str = Field(description="the probe kind that ran it")
    service_id: int | None = Field(None, description="the service it checks; None for the device's own checks")
    availability: bool = Field(description="counts toward the device's reachability (else: a service check)")
    state: CheckStateName
    success: bool
    at: datetime = Field(description="when the last result was measured")
    error: str | None = None
    rtt_ms: float | None = Field(None, description="the kind's latency measurement (ICMP average RTT, TCP "
                                                   "connect, HTTP response, DNS answer), ms")
    loss_pct: float | None = None
    measurements: dict[str, float] = Field(default_factory=dict, description="everything the kind measured")
    info: dict[str, str] = Field(default_factory=dict, description="text facts: HTTP version, DNS answers…")


def _state(success: bool, at: datetime, stale_before: datetime | None) -> CheckStateName:
    if stale_before is not None and at < stale_before:
        return "stale"
    return "up" if success else "down"


def latest_checks(conn: Connection, *, device_ids: list[int] | None = None, service_ids: list[int] | None = None,
                  stale_before: datetime | None = None) -> list[CheckState]:
    """Latest state of every check of ``device_ids`` and/or ``service_ids`` (every check when both are None),
    ordered by device name, availability checks first, then check key. One query."""
    stmt = (select(LR.device_id, LR.check_key, LR.kind, LR.service_id, LR.availability, LR.ts, LR.success,
                   LR.error, LR.rtt_avg_ms, LR.loss_pct, LR.measurements, LR.info, DEV.name)
            .join(Device, DEV.id == LR.device_id))
    if device_ids is not None and service_ids is not None:
        stmt = stmt.where(LR.device_id.in_(device_ids) | LR.service_id.in_(service_ids))
    elif device_ids is not None:
        stmt = stmt.where(LR.device_id.in_(device_ids))
    elif service_ids is not None:
        stmt = stmt.where(LR.service_id.in_(service_ids))
    stmt = stmt.order_by(DEV.name, LR.device_id, LR.availability.desc(), LR.check_key)
    return [CheckState(device_id=r.device_id, device_name=r.name, check_key=r.check_key, kind=r.kind,
                       service_id=r.service_id, availability=r.availability,
                       state=_state(r.success, r.ts, stale_before), success=r.success, at=r.ts, error=r.error,
                       rtt_ms=r.rtt_avg_ms, loss_pct=r.loss_pct, measurements=dict(r.measurements or {}),
                       info=dict(r.info or {}))
            for r in conn.execute(stmt)]


def _grouped(conn: Connection, period_name: str, now: datetime, where_raw: Any, where_rollup: Any,
             by_check: bool) -> tuple[Any, Any]:
    period = PERIODS[period_name]
    start, end, steps = _grid(period, now)
    step = literal(period.step, Integer)
    if period.resolution == RAW:
        g = (epoch_seconds(conn, PR.ts) // step) * step
        keys = [PR.check_key] if by_check else []
        stmt = (select(*keys, g.label("g"), func.min(func.coalesce(PR.rtt_min_ms, PR.rtt_avg_ms)).label("mn"),
                       func.max(func.coalesce(PR.rtt_max_ms, PR.rtt_avg_ms)).label("mx"),
                       func.sum(PR.rtt_avg_ms).label("rs"), func.count(PR.rtt_avg_ms).label("rn"),
                       func.sum(PR.loss_pct).label("ls"), func.count(PR.loss_pct).label("ln"),
                       func.count().label("n"), func.sum(cast(PR.success, Integer)).label("ok"))
                .where(where_raw, PR.ts >= start, PR.ts < end).group_by(*keys, g).order_by(g))
    else:
        g = (epoch_seconds(conn, RU.bucket) // step) * step
        keys = [RU.check_key] if by_check else []
        stmt = (select(*keys, g.label("g"), func.min(RU.rtt_min_ms).label("mn"), func.max(RU.rtt_max_ms).label("mx"),
                       func.sum(RU.rtt_sum_ms).label("rs"), func.sum(RU.rtt_n).label("rn"),
                       func.sum(RU.loss_sum_pct).label("ls"), func.sum(RU.loss_n).label("ln"),
                       func.sum(RU.count).label("n"), func.sum(RU.successes).label("ok"))
                .where(where_rollup, RU.resolution == period.resolution, RU.bucket >= start, RU.bucket < end)
                .group_by(*keys, g).order_by(g))
    return (period, start, end, steps), conn.execute(stmt)


def check_series(conn: Connection, device_id: int, check_key: str, metric: str, period_name: str, now: datetime,
                 subject: str = "") -> Series:
    """One check over a period: ``rtt`` (the kind's latency: min/avg/max ms), ``loss`` (%) or ``success``
    (% of results that succeeded per step). One grouped query."""
    (period, start, end, steps), result = _grouped(
        conn, period_name, now, (PR.device_id == device_id) & (PR.check_key == check_key),
        (RU.device_id == device_id) & (RU.check_key == check_key), by_check=False)
    rows = {int(r.g): r for r in result}
    if metric == "loss":
        lines = [_line("loss", "", "%", steps, {s: _ratio(r.ls, r.ln) for s, r in rows.items()})]
    elif metric == "success":
        lines = [_line("success", "", "%", steps, {s: _pct(r.ok, r.n) for s, r in rows.items()})]
    else:
        lines = [_line("rtt_min", "", "ms", steps, {s: r.mn for s, r in rows.items()}),
                 _line("rtt_avg", "", "ms", steps, {s: _ratio(r.rs, r.rn) for s, r in rows.items()}),
                 _line("rtt_max", "", "ms", steps, {s: r.mx for s, r in rows.items()})]
    return Series(metric=metric, period=period_name, resolution_s=period.step, start=start, end=end,
                  subject=subject or check_key, lines=lines)


def service_series(conn: Connection, service_id: int, metric: str, period_name: str, now: datetime,
                   subject: str = "") -> Series:
    """Every check of one service over a period, one line per check (labelled by its key): ``rtt`` (average
    latency, ms) or ``success`` (%). One grouped query."""
    checks = [r.check_key for r in conn.execute(select(LR.check_key).where(LR.service_id == service_id)
                                                 .order_by(LR.check_key))]
    (period, start, end, steps), result = _grouped(
        conn, period_name, now, PR.check_key.in_(checks), RU.check_key.in_(checks), by_check=True)
    data: dict[str, dict[int, Any]] = {}
    for r in result:
        data.setdefault(r.check_key, {})[int(r.g)] = r
    lines: list[SeriesLine] = []
    for key in checks:
        rows = data.get(key, {})
        if metric == "success":
            lines.append(_line("success", key, "%", steps, {s: _pct(r.ok, r.n) for s, r in rows.items()}))
        else:
            lines.append(_line("rtt_avg", key, "ms", steps, {s: _ratio(r.rs, r.rn) for s, r in rows.items()}))
    return Series(metric=metric, period=period_name, resolution_s=period.step, start=start, end=end,
                  subject=subject, lines=lines)


def _pct(ok: Any, n: Any) -> float | None:
    return 100.0 * float(ok or 0) / float(n) if n else None





def mark_unswept(conn: Connection, checks: list[CheckState]) -> list[CheckState]:
    """``checks`` with ``state="stale"`` for each check its kind's latest sweep did not include: its last result
    is older than the start of the oldest poller group's latest sweep of that kind (one query). A check removed
    from the inventory, refused as misconfigured, or of a kind no longer swept stops looking current."""
    from infra_monitor.status.store.models import PollerHeartbeatRow

    hb = PollerHeartbeatRow.__table__.c  # type: ignore[attr-defined]
    kinds = sorted({c.kind for c in checks})
    if not kinds:
        return checks
    started = {r[0]: r[1] for r in conn.execute(
        select(hb.kind, func.min(hb.last_sweep_started)).where(hb.kind.in_(kinds)).group_by(hb.kind))}
    out = []
    for c in checks:
        since = started.get(c.kind)
        if since is not None and c.at < since and c.state != "stale":
            c = c.model_copy(update={"state": "stale"})
        out.append(c)
    return out
__all__ = ["CheckState", "check_series", "latest_checks", "mark_unswept", "service_series"]

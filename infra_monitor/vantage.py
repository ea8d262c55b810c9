"""Vantage points: a device watched from two places (the data center and its district), and where they disagree.

A poller probes from its ``[poller] vantage`` (default: its group's name). A device is watched by its own
poller group and by every group named in its ``also_polled_by`` custom field
(:func:`inventory.monitoring.also_polled_by`, validated with the device). **Its state is decided by its own
group's vantage only**: results of a watching group are kept (``probe_result`` with their ``vantage``, and the
last one per check and vantage in ``vantage_result``) but never reach ``latest_result``, the rollups or the
status engine, so a district that cannot reach the data center's core never turns it DOWN.

:func:`disagreements` compares, per device, the fresh availability answers of each vantage point (any check
answered = reachable, :func:`infra_monitor.pipeline.device_available`'s rule): when one vantage says UP and
another DOWN, the status page and API show it ("UP từ dc, DOWN từ huyen-x"). A vantage whose last answer is
older than the staleness window is silent: it shows as no data, never as DOWN, like a silent poller group; one
silent for a day (a group no longer listed in ``also_polled_by``) is left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from infra_monitor.storage.models import ProbeResultRow, VantageResult
from infra_monitor.storage.writer import ResultRecord

VR = VantageResult.__table__  # type: ignore[attr-defined]
FORGOTTEN = timedelta(days=1)  # a vantage silent for that long (no longer watching) is not shown any more


def write_vantage(conn: Connection, records: Sequence[ResultRecord], *, group: str, vantage: str,
                  watched_only: set[int]) -> None:
    """One sweep's answers per check from this vantage point (one upsert); results of devices this group only
    watches also get their raw rows here (``write_results`` takes the group's own devices)."""
    if not records:
        return
    watched = [r for r in records if r.device_id in watched_only]
    if watched:
        conn.execute(insert(ProbeResultRow.__table__), [  # type: ignore[attr-defined]
            {"ts": r.ts, "device_id": r.device_id, "check_key": r.check, "kind": r.kind, "service_id": r.service_id,
             "success": r.success, "rtt_min_ms": r.rtt_min_ms, "rtt_avg_ms": r.rtt_avg_ms,
             "rtt_max_ms": r.rtt_max_ms, "loss_pct": r.loss_pct, "error": (r.error or None) and r.error[:200],
             "measurements": r.measurements or None, "poller_group": group, "vantage": vantage}
            for r in watched])
    last: dict[tuple[int, str], ResultRecord] = {}
    for r in records:
        prev = last.get((r.device_id, r.check))
        if prev is None or r.ts >= prev.ts:
            last[(r.device_id, r.check)] = r
    ins = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(VR)
    cols = ("poller_group", "kind", "availability", "ts", "success", "error")
    stmt = ins.on_conflict_do_update(index_elements=["device_id", "check_key", "vantage"],
                                     set_={c: ins.excluded[c] for c in cols})
    conn.execute(stmt, [
        {"device_id": r.device_id, "check_key": r.check, "vantage": vantage, "poller_group": group, "kind": r.kind,
         "availability": r.availability, "ts": r.ts, "success": r.success,
         "error": (r.error or None) and r.error[:200]}
        for r in last.values()])


@dataclass(frozen=True)
class VantageView:
    """What one vantage point says about a device: ``up`` True/False, or None when it is silent (stale)."""

    vantage: str
    poller_group: str
    up: bool | None
    at: datetime
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"vantage": self.vantage, "poller_group": self.poller_group, "up": self.up, "at": self.at.isoformat(),
                "error": self.error}


def views(conn: Connection, device_ids: Iterable[int] | None, now: datetime, stale_after: timedelta
          ) -> dict[int, list[VantageView]]:
    """Per device seen from more than one vantage point: each vantage's answer (one query). ``device_ids``
    None: every device."""
    stmt = select(VR.c.device_id, VR.c.vantage, VR.c.poller_group, VR.c.ts, VR.c.success, VR.c.error).where(
        VR.c.availability.is_(True), VR.c.ts >= now - FORGOTTEN)
    if device_ids is not None:
        ids = sorted(set(device_ids))
        if not ids:
            return {}
        stmt = stmt.where(VR.c.device_id.in_(ids))
    acc: dict[int, dict[str, list[Any]]] = {}
    for device_id, vantage, group, ts, success, error in conn.execute(stmt):
        v = acc.setdefault(device_id, {}).setdefault(vantage, [group, ts, [], None])
        v[1] = max(v[1], ts)
        if ts >= now - stale_after:
            v[2].append(bool(success))
            v[3] = v[3] if success or v[3] else error
    out: dict[int, list[VantageView]] = {}
    for device_id, by_vantage in acc.items():
        if len(by_vantage) < 2:
            continue
        out[device_id] = [VantageView(vantage=name, poller_group=g, up=any(ans) if ans else None, at=ts,
                                      error=None if any(ans) else err)
                          for name, (g, ts, ans, err) in sorted(by_vantage.items())]
    return out


def disagreements(conn: Connection, device_ids: Iterable[int] | None, now: datetime, stale_after: timedelta
                  ) -> dict[int, list[VantageView]]:
    """The devices whose fresh vantage points disagree (one UP, another DOWN), with every vantage's view."""
    return {d: vs for d, vs in views(conn, device_ids, now, stale_after).items()
            if {v.up for v in vs if v.up is not None} == {True, False}}


def summary(vs: Sequence[VantageView], texts: dict[str, str]) -> str:
    """"UP từ dc, DOWN từ huyen-x": ``texts`` maps ``up``/``down``/``silent`` to translated templates with
    ``{vantage}``."""
    key = {True: "up", False: "down", None: "silent"}
    return ", ".join(texts[key[v.up]].format(vantage=v.vantage) for v in vs)

"""Per-check state intervals: when each check (device, check key) was ``up`` or ``down``, from its results.

Every stored result extends or starts its check's interval (:func:`record_check_states`, called with each
sweep's results in the same transaction as the latest-result upserts):

* the same state as the open interval: the interval goes on (``last_seen`` moves to the result's time);
* another state: the open interval ends at the result's time and a new one starts there;
* a result coming more than ``max_gap`` (the staleness window, :func:`staleness`) after the open interval's
  ``last_seen``: the interval ends at ``last_seen`` (the last time the state was seen), so the silence between
  is no data, never counted as up or down, and a new interval starts at the result.

An interval is [start, end); ``end`` is NULL while it lasts. Readers take an open interval as lasting until
now while its ``last_seen`` is within ``max_gap`` of now, else until ``last_seen``
(:func:`effective_end`). A result older than the open interval's ``last_seen`` (a sweep written late, out of
order) is ignored here: intervals only move forward.

One sweep costs at most three statements whatever its size: one SELECT of the open intervals of its devices,
one executemany UPDATE, one multi-row INSERT. Pruned with the rollups' long retention
(:func:`prune_check_intervals`, from :mod:`infra_monitor.storage.retention`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Index, bindparam, delete, insert, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Field, SQLModel

from infra_monitor.storage.models import CHECK_KEY_MAX, BigId
from inventory.models.base import UTCDateTime

UP = "up"
DOWN = "down"
DEFAULT_GAP = timedelta(seconds=180)


class CheckStateIntervalRow(SQLModel, table=True):
    """A check's state (``up``/``down``) during [start, end); ``end`` is NULL while it lasts."""

    __tablename__ = "check_state_interval"
    __table_args__ = (
        Index("ix_check_state_interval_check_start", "device_id", "check_key", "start"),
        Index("ix_check_state_interval_service_start", "service_id", "start"),
        Index("ix_check_state_interval_start", "start"),
        # one open interval per check, whatever two writers might do
        Index("ix_check_state_interval_open", "device_id", "check_key", unique=True,
              sqlite_where=text("\"end\" IS NULL"), postgresql_where=text("\"end\" IS NULL")),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    device_id: int = Field(foreign_key="device.id", ondelete="CASCADE")
    check_key: str = Field(max_length=CHECK_KEY_MAX)
    service_id: int | None = Field(default=None, foreign_key="service.id", ondelete="CASCADE")
    state: str = Field(max_length=12, description="up or down")
    start: datetime = UTCDateTime()
    end: datetime | None = UTCDateTime(default=None)
    last_seen: datetime = UTCDateTime(description="time of the last result inside the interval")


CSI = CheckStateIntervalRow.__table__.c  # type: ignore[attr-defined]


class _Result(Protocol):
    """What a stored result must carry (``storage.writer.ResultRecord`` does)."""

    ts: datetime
    device_id: int
    success: bool
    service_id: int | None

    @property
    def check(self) -> str: ...


@dataclass
class _Open:
    id: int | None
    device_id: int
    check_key: str
    service_id: int | None
    state: str
    start: datetime
    last_seen: datetime
    end: datetime | None = None
    dirty: bool = False


def staleness(settings: Any) -> timedelta:
    """The gap after which a check's silence is no data: ``status.stale_after_intervals`` times the longest
    probe interval, as the status engine's observations use (:func:`infra_monitor.pipeline.observations_for`)."""
    return timedelta(seconds=max((cfg.interval_s * settings.status.stale_after_intervals
                                  for _k, cfg in settings.probes), default=DEFAULT_GAP.total_seconds()))


def effective_end(end: datetime | None, last_seen: datetime, now: datetime, max_gap: timedelta) -> datetime:
    """Where an interval stops counting: its end; for an open one ``now`` while its last result is at most
    ``max_gap`` old, else its last result (a silent check is no data)."""
    if end is not None:
        return end
    return now if now - last_seen <= max_gap else last_seen


def record_check_states(conn: Connection, records: Sequence[_Result], max_gap: timedelta = DEFAULT_GAP) -> int:
    """Extend, close and open the checks' state intervals for one batch of results. Returns how many intervals
    were opened."""
    if not records:
        return 0
    by_check: dict[tuple[int, str], list[_Result]] = {}
    for r in records:
        by_check.setdefault((r.device_id, r.check), []).append(r)
    device_ids = sorted({d for d, _k in by_check})
    current: dict[tuple[int, str], _Open] = {}
    for row in conn.execute(select(CSI.id, CSI.device_id, CSI.check_key, CSI.service_id, CSI.state, CSI.start,
                                   CSI.last_seen).where(CSI.end.is_(None), CSI.device_id.in_(device_ids))):
        key = (row.device_id, row.check_key)
        if key in by_check:
            current[key] = _Open(row.id, row.device_id, row.check_key, row.service_id, row.state, row.start,
                                 row.last_seen)
    changed: list[_Open] = []
    new: list[_Open] = []
    for key, results in by_check.items():
        cur = current.get(key)
        for r in sorted(results, key=lambda x: x.ts):
            state = UP if r.success else DOWN
            if cur is not None and r.ts <= cur.last_seen:
                continue
            if cur is not None and (r.ts - cur.last_seen > max_gap or cur.state != state):
                cur.end = cur.last_seen if r.ts - cur.last_seen > max_gap else r.ts
                if cur.id is not None and not cur.dirty:
                    changed.append(cur)
                cur.dirty = True
                cur = None
            if cur is None:
                cur = _Open(None, key[0], key[1], r.service_id, state, r.ts, r.ts)
                new.append(cur)
            else:
                cur.last_seen = r.ts
                if cur.id is not None and not cur.dirty:
                    cur.dirty = True
                    changed.append(cur)
    if changed:
        conn.execute(update(CheckStateIntervalRow.__table__)  # type: ignore[attr-defined]
                     .where(CSI.id == bindparam("b_id"))
                     .values(end=bindparam("b_end"), last_seen=bindparam("b_last_seen")),
                     [{"b_id": c.id, "b_end": c.end, "b_last_seen": c.last_seen} for c in changed])
    if new:
        rows = [{"device_id": o.device_id, "check_key": o.check_key, "service_id": o.service_id, "state": o.state,
                 "start": o.start, "end": o.end, "last_seen": o.last_seen} for o in new]
        conn.execute(insert(CheckStateIntervalRow.__table__), rows)  # type: ignore[attr-defined]
    return len(new)


def prune_check_intervals(engine: Engine, cutoff: datetime, batch: int) -> int:
    """Delete the closed intervals that ended before ``cutoff``, in batches (each its own transaction)."""
    t = CheckStateIntervalRow.__table__  # type: ignore[attr-defined]
    total = 0
    while True:
        with engine.begin() as conn:
            ids = conn.execute(select(CSI.id).where(CSI.end.is_not(None), CSI.end < cutoff).limit(batch)
                               ).scalars().all()
            if not ids:
                return total
            conn.execute(delete(t).where(CSI.id.in_(ids)))
        total += len(ids)


def intervals_of(conn: Connection, device_id: int, check_key: str) -> Iterable[Any]:
    """Every stored interval of one check, oldest first (for tests and diagnostics)."""
    return conn.execute(select(CSI.state, CSI.start, CSI.end, CSI.last_seen, CSI.service_id)
                        .where(CSI.device_id == device_id, CSI.check_key == check_key).order_by(CSI.start)).all()

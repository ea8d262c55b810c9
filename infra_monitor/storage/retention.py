"""Retention: delete expired raw rows and rollups in small batches so readers never wait long.

Each batch is its own short transaction (a few thousand rows); on SQLite this keeps the write lock
brief, on PostgreSQL it keeps row locks and WAL bursts small.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine

from infra_monitor.config import RetentionConfig
from infra_monitor.storage.check_intervals import prune_check_intervals
from infra_monitor.storage.models import InterfaceRollup, InterfaceSampleRow, ProbeResultRow, Rollup

log = logging.getLogger(__name__)


@dataclass
class RetentionReport:
    deleted: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.deleted.values())


def _purge_by_id(engine: Engine, table: object, cutoff: datetime, batch: int) -> int:
    t = table.__table__  # type: ignore[attr-defined]
    total = 0
    while True:
        with engine.begin() as conn:
            ids = conn.execute(select(t.c.id).where(t.c.ts < cutoff).limit(batch)).scalars().all()
            if not ids:
                return total
            conn.execute(delete(t).where(t.c.id.in_(ids)))
        total += len(ids)


def _purge_rollups(engine: Engine, table: object, key: str, resolution: int, cutoff: datetime, batch: int) -> int:
    t = table.__table__  # type: ignore[attr-defined]
    total = 0
    while True:
        with engine.begin() as conn:
            rows = conn.execute(
                select(t.c[key], t.c.bucket).where(t.c.resolution == resolution, t.c.bucket < cutoff).limit(batch)
            ).all()
            if not rows:
                return total
            for_keys = {r[0] for r in rows}
            newest = max(r[1] for r in rows)
            res = conn.execute(
                delete(t).where(t.c.resolution == resolution, t.c[key].in_(for_keys), t.c.bucket <= newest,
                                t.c.bucket < cutoff)
            )
        total += res.rowcount


def apply_retention(engine: Engine, cfg: RetentionConfig, now: datetime) -> RetentionReport:
    """Delete raw rows older than ``raw_days`` and rollups older than their own retention."""
    rep = RetentionReport()
    raw_cut = now - timedelta(days=cfg.raw_days)
    rep.deleted["probe_result"] = _purge_by_id(engine, ProbeResultRow, raw_cut, cfg.delete_batch)
    rep.deleted["interface_sample"] = _purge_by_id(engine, InterfaceSampleRow, raw_cut, cfg.delete_batch)
    for resolution, days in ((300, cfg.rollup_5m_days), (3600, cfg.rollup_1h_days), (86400, cfg.rollup_1h_days)):
        cut = now - timedelta(days=days)
        rep.deleted[f"rollup_{resolution}"] = _purge_rollups(engine, Rollup, "device_id", resolution, cut,
                                                             cfg.delete_batch)
        rep.deleted[f"interface_rollup_{resolution}"] = _purge_rollups(
            engine, InterfaceRollup, "interface_id", resolution, cut, cfg.delete_batch)
    # the checks' state intervals carry availability over years, like the daily rollups and state_interval
    rep.deleted["check_state_interval"] = prune_check_intervals(
        engine, now - timedelta(days=cfg.rollup_1h_days), cfg.delete_batch)
    log.info("event=retention %s", " ".join(f"{k}={v}" for k, v in rep.deleted.items()))
    return rep

"""Shard leases: several poller processes of one group share its devices through PostgreSQL.

A group's devices are hashed into ``[poller] shards`` shards (``device_id % shards``). A process serves the
shards it holds a **session advisory lock** on, ``pg_try_advisory_lock(LEASE_CLASS, key(database, schema,
group, shard))``, taken on one dedicated connection: PostgreSQL itself is the coordinator. Two processes can
never hold one shard, so no device is probed twice in a sweep; a process that dies (even by SIGKILL) loses its
connection and with it its locks, and its shards are free for the others at their next sweep.

Each process heart-beats in ``poller_instance`` (poller id = ``[poller] name`` or ``hostname:pid``, group,
vantage point, the shards it holds, ``last_seen`` from the database's clock, so the machines' clocks do not
matter). A peer is alive while its row is younger than three heartbeats and its lease connection (the backend
pid it beat from) is still open, so a killed process is gone for its peers at once. At the start of every sweep
(:meth:`ShardLeases.refresh`) a process computes its fair share, ``ceil(shards / alive peers)``:

* while some alive peer holds fewer than its fair share (it just started), it releases the shards it holds
  beyond its share (only between sweeps, never while a sweep of it is in flight) and takes free ones only up to
  its share, so the newcomer gets them at its next sweep;
* otherwise it takes every free shard (those of a peer that stopped or died: its connection, hence its locks
  and its place among the alive peers, are gone at once).

Releases happen at a sweep's start, before its targets are loaded, so the shard's next probe (by whoever takes
it) comes at least one interval after the last one. On SQLite there are no leases: one process per group (the
file lock of :mod:`infra_monitor.server`), since SQLite has one writer and no advisory locks to share.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
import zlib
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from infra_monitor.config import Settings
from infra_monitor.db import short_reason

log = logging.getLogger(__name__)

LEASE_CLASS = 0x4953  # "IS": the first key of the shard leases (server.LOCK_CLASS is the SQLite-era group lock)
ALIVE_BEATS = 3  # a peer silent for this many heartbeats is gone
FORGET_AFTER_S = 86400  # rows of processes gone for a day are deleted


def shard_of(device_id: int, shards: int) -> int:
    """The shard of a device: its id modulo the group's shard count (stable, even over sequential ids)."""
    return device_id % shards


def default_poller_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class ShardLeases:
    """The shards this process holds in its group, leased by advisory locks on one dedicated connection."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        cfg = settings.poller
        self.engine = engine
        self.group = cfg.group
        self.vantage = cfg.vantage_name
        self.count = cfg.shards
        self.heartbeat_s = cfg.heartbeat_s
        self.poller_id = (cfg.name or default_poller_id())[:100]
        self.held: set[int] = set()
        self._keys: dict[int, int] = {}
        self._conn: Connection | None = None
        self._mutex = threading.Lock()
        self._failing = False
        self._closed = False  # after close(), nothing reconnects: a late beat must not bring the row back
        start = zlib.crc32(self.poller_id.encode()) % self.count  # peers start their search at different shards
        self._order = [(start + i) % self.count for i in range(self.count)]

    # -- connection ---------------------------------------------------------------------------
    def _connection(self) -> Connection:
        if self._conn is not None and not self._conn.invalidated and not self._conn.closed:
            return self._conn
        self.held.clear()  # a new connection holds no lock
        conn = self.engine.connect()
        conn.execute(text("SELECT set_config('application_name', :n, false)"),
                     {"n": f"infra-monitor poller ({self.group})"[:63]})
        rows = conn.execute(text(
            "SELECT s, hashtext(current_database() || '/' || current_schema() || '/' || :g || '#' || s::text) "
            "FROM generate_series(0, :n - 1) AS s"), {"g": self.group, "n": self.count}).all()
        conn.commit()
        self._keys = {int(s): int(k) for s, k in rows}
        self._conn = conn
        return conn

    def open(self) -> None:
        """Connect and beat once (holding nothing yet): peers see a newcomer and make room for it."""
        with self._mutex:
            conn = self._connection()
            self._beat(conn)
            conn.commit()
        log.info("event=poller_lease_open poller=%s group=%s vantage=%s shards=%d", self.poller_id, self.group,
                 self.vantage, self.count)

    def close(self) -> None:
        """Release every shard and remove this process's heartbeat: its peers take over at their next sweep."""
        with self._mutex:
            self._closed = True
            conn, self._conn = self._conn, None
            if conn is None:
                return
            try:
                conn.execute(text("DELETE FROM poller_instance WHERE poller_id = :p"), {"p": self.poller_id})
                conn.execute(text("SELECT pg_advisory_unlock_all()"))
                conn.commit()
            except Exception as exc:
                log.warning("event=poller_lease_close_failed error=%r", short_reason(exc))
            finally:
                conn.close()  # the locks go with the connection anyway
                self.held.clear()

    # -- the protocol ---------------------------------------------------------------------------
    def _peers(self, conn: Connection) -> dict[str, int]:
        """Alive peers of the group (other processes) → how many shards each says it holds. Alive: beat within
        three heartbeats and its lease connection still open (a killed process is gone at once)."""
        rows = conn.execute(text(
            "SELECT poller_id, shards FROM poller_instance WHERE poller_group = :g AND poller_id <> :p "
            "AND last_seen > now() - make_interval(secs => :alive) "
            "AND backend_pid IN (SELECT pid FROM pg_stat_activity)"),
            {"g": self.group, "p": self.poller_id, "alive": ALIVE_BEATS * self.heartbeat_s}).all()
        return {r[0]: len(_shard_list(r[1])) for r in rows}

    def _try(self, conn: Connection, shards: list[int]) -> list[int]:
        if not shards:
            return []
        rows = conn.execute(text(
            "SELECT s, pg_try_advisory_lock(:c, (:keys)[s + 1]) FROM unnest(CAST(:wanted AS int[])) AS s"),
            {"c": LEASE_CLASS, "keys": [self._keys[s] for s in range(self.count)], "wanted": shards}).all()
        return [int(s) for s, got in rows if got]

    def _release(self, conn: Connection, shards: list[int]) -> None:
        if shards:
            conn.execute(text("SELECT pg_advisory_unlock(:c, (:keys)[s + 1]) FROM unnest(CAST(:r AS int[])) AS s"),
                         {"c": LEASE_CLASS, "keys": [self._keys[s] for s in range(self.count)], "r": shards})
            self.held.difference_update(shards)

    def _rebalance(self, conn: Connection, may_release: bool) -> None:
        peers = self._peers(conn)
        fair = math.ceil(self.count / (1 + len(peers)))
        hungry = any(n < fair for n in peers.values())
        if hungry and may_release and len(self.held) > fair:
            extra = sorted(self.held, key=self._order.index)[fair:]
            self._release(conn, extra)
            log.info("event=shards_released poller=%s released=%d held=%d fair=%d", self.poller_id, len(extra),
                     len(self.held), fair)
        want = max(0, fair - len(self.held)) if hungry else self.count
        free = [s for s in self._order if s not in self.held]
        while want > 0 and free:
            batch, free = free[:want], free[want:]
            got = self._try(conn, batch)
            self.held.update(got)
            want -= len(got)

    def _beat(self, conn: Connection) -> None:
        conn.execute(text(
            "INSERT INTO poller_instance (poller_id, poller_group, vantage, host, pid, backend_pid, shard_count, "
            "heartbeat_s, shards, started_at, last_seen) VALUES (:p, :g, :v, :h, :pid, pg_backend_pid(), :n, :hb, "
            "CAST(:s AS json), now(), now()) ON CONFLICT (poller_id) DO UPDATE SET "
            "poller_group = excluded.poller_group, vantage = excluded.vantage, backend_pid = excluded.backend_pid, "
            "shard_count = excluded.shard_count, "
            "heartbeat_s = excluded.heartbeat_s, "
            "shards = excluded.shards, last_seen = excluded.last_seen"),
            {"p": self.poller_id, "g": self.group, "v": self.vantage, "h": socket.gethostname()[:100],
             "pid": os.getpid(), "n": self.count, "hb": self.heartbeat_s, "s": _json_list(sorted(self.held))})
        conn.execute(text("DELETE FROM poller_instance WHERE poller_group = :g AND "
                          "last_seen < now() - make_interval(secs => :f)"), {"g": self.group, "f": FORGET_AFTER_S})

    def refresh(self, *, may_release: bool = True) -> frozenset[int]:
        """At a sweep's start: rebalance with the alive peers, beat, return the shards to probe now. While the
        database does not answer, the shards held last are returned (logged once), like targets loaded last."""
        with self._mutex:
            if self._closed:
                return frozenset()
            before = set(self.held)
            try:
                conn = self._connection()
                self._rebalance(conn, may_release)
                self._beat(conn)
                conn.commit()
            except Exception as exc:
                self._drop()
                self.held = before  # keep probing what we had; the locks are re-taken once it answers
                if not self._failing:
                    log.warning("event=shard_lease_failed poller=%s error=%r (probing the shards held last)",
                                self.poller_id, short_reason(exc))
                self._failing = True
                return frozenset(self.held)
            if self._failing:
                log.info("event=shard_lease_resumed poller=%s", self.poller_id)
                self._failing = False
            if self.held != before:
                log.info("event=shards_held poller=%s group=%s held=%d gained=%d lost=%d", self.poller_id,
                         self.group, len(self.held), len(self.held - before), len(before - self.held))
            return frozenset(self.held)

    def beat(self) -> None:
        """Heartbeat only (between sweeps): say this process is alive and what it holds."""
        with self._mutex:
            if self._closed:
                return
            try:
                conn = self._connection()
                self._beat(conn)
                conn.commit()
            except Exception as exc:
                self._drop()
                log.debug("event=poller_beat_failed error=%r", short_reason(exc))

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.invalidate()
                conn.close()
            except Exception:  # already broken: nothing to release, the server dropped the locks
                log.debug("event=lease_connection_dropped")


def _shard_list(value: Any) -> list[int]:
    if isinstance(value, str):
        import json

        value = json.loads(value)
    return [int(v) for v in value] if isinstance(value, list) else []


def _json_list(values: list[int]) -> str:
    return "[" + ",".join(str(v) for v in values) + "]"

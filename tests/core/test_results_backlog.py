"""Probe results the database cannot take yet are kept and written later, each sweep exactly once and in order.

Real sweeps (TCP to listeners on 127.0.1.x) through the poller, a real lock held by another process (SQLite
``BEGIN EXCLUSIVE``) or connection (PostgreSQL ``LOCK TABLE`` with a short ``lock_timeout``), a PostgreSQL
backend terminated by ``pg_terminate_backend`` in the middle of the sweep's transaction, and ``probe --once``
as a real CLI process while another process holds the lock for 20 s.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlmodel import col

from infra_monitor.config import Settings, load_settings
from infra_monitor.db import import_all_models, make_engine, upgrade
from infra_monitor.pipeline import PendingSweep, housekeeping, write_pending
from infra_monitor.scheduler import Poller
from infra_monitor.status.store.models import DeviceStatusRow, EventRow, PollerHeartbeatRow, StateIntervalRow
from infra_monitor.storage.models import ProbeResultRow
from infra_monitor.targets import load_targets
from inventory.models import Device, DeviceRole, Interface, IPAddress, Site
from tests.core.dblocks import TcpRelay, sqlite_write_lock, with_lock_timeout, write_lock
from tests.requirements import PG_HOST, PG_PORT

ROOT = Path(__file__).resolve().parents[2]
BUSY_MS = 300


@dataclass
class Lab:
    url: str
    settings: Settings
    engine: Engine
    listeners: dict[str, socket.socket] = field(default_factory=dict)  # device name → its open port

    def close(self, device: str) -> None:
        self.listeners.pop(device).close()


def _env(url: str, **extra: str) -> dict[str, str]:
    return {"INFRA_MONITOR_DATABASE__URL": url, "INFRA_MONITOR_DATABASE__BUSY_TIMEOUT_MS": str(BUSY_MS),
            "INFRA_MONITOR_PROBES__TCP__TIMEOUT_S": "1", "INFRA_MONITOR_PROBES__TCP__RETRIES": "1", **extra}


def _lab(url: str, devices: int, **extra: str) -> Lab:
    """A migrated database of ``devices`` routers, each with one TCP port open on its own 127.0.1.x."""
    import_all_models()
    url = with_lock_timeout(url, BUSY_MS)
    settings = load_settings(None, environ=_env(url, **extra))
    engine = make_engine(settings.database)
    upgrade(engine)
    lab = Lab(url, settings, engine)
    with Session(engine) as s:
        role = DeviceRole(slug="router", name="Router")
        site = Site(slug="xa-a", name="Xã Á", category="commune")
        s.add_all([role, site])
        s.flush()
        for i in range(devices):
            ip = f"127.0.1.{i + 1}"
            listener = socket.socket()
            listener.bind((ip, 0))
            listener.listen(64)
            name = f"rt-{i + 1}"
            lab.listeners[name] = listener
            assert site.id is not None and role.id is not None
            d = Device(site_id=site.id, name=name, role_id=role.id,
                       custom_fields={"tcp_ports": [listener.getsockname()[1]]})
            s.add(d)
            s.flush()
            assert d.id is not None
            iface = Interface(device_id=d.id, name="lo0")
            s.add(iface)
            s.flush()
            addr = IPAddress(address=f"{ip}/32", host=ip, interface_id=iface.id)
            s.add(addr)
            s.flush()
            d.primary_ip_id = addr.id
        s.commit()
    return lab


@pytest.fixture
def lab3(db_url: str) -> Iterator[Lab]:
    lab = _lab(db_url, 3)
    yield lab
    for sock in lab.listeners.values():
        sock.close()
    lab.engine.dispose()


def _rows(engine: Engine) -> Counter[tuple[int, datetime, bool]]:
    with Session(engine) as s:
        return Counter((r.device_id, r.ts, r.success) for r in s.execute(select(ProbeResultRow)).scalars())


def _returned(results: list[Any]) -> Counter[tuple[int, datetime, bool]]:
    return Counter((r.target.device_id, r.started_at, r.success) for r in results)


def _messages(caplog: pytest.LogCaptureFixture, marker: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if marker in r.getMessage()]


def test_sweeps_refused_during_a_held_lock_are_written_later_once_and_in_order(
        lab3: Lab, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    results: list[Any] = []
    windows: list[tuple[datetime, datetime]] = []  # before/after each sweep: its "finished" lies between

    async def run() -> None:
        async with Poller(lab3.settings, lab3.engine, kinds=("tcp",)) as poller:
            with write_lock(lab3.url, "probe_result"):
                for n in range(3):
                    if n == 2:
                        lab3.close("rt-1")  # rt-1 goes down at the third sweep
                    before = datetime.now(UTC)
                    summary = await poller.sweep("tcp", on_result=results.append)
                    windows.append((before, datetime.now(UTC)))
                    assert not summary.written and summary.targets == 3
                await poller._housekeeping()  # waits for the results, does not fail
                await poller._housekeeping()
                assert poller.backlog.pending_items == 3 and poller.backlog.pending_size == 9
                assert _rows(lab3.engine) == Counter()
            await poller._flush_backlog()  # the scheduled job, once the lock is gone
            assert not poller.backlog
            await poller._housekeeping()

    asyncio.run(run())
    assert len(results) == 9
    stored = _rows(lab3.engine)
    assert stored == _returned(results) and max(stored.values()) == 1  # every result, once
    assert len(_messages(caplog, "event=backlog_deferred")) == 1  # the outage is logged once
    assert len(_messages(caplog, "event=backlog_written")) == 1
    with Session(lab3.engine) as s:
        rt1 = s.execute(select(Device).where(col(Device.name) == "rt-1")).scalar_one()
        assert rt1.id is not None
        statuses = {r.device_id: r for r in s.execute(select(DeviceStatusRow)).scalars()}
        intervals = s.execute(select(StateIntervalRow).where(col(StateIntervalRow.device_id) == rt1.id)
                              .order_by(col(StateIntervalRow.start))).scalars().all()
        downs = s.execute(select(EventRow).where(col(EventRow.device_id) == rt1.id,
                                                 col(EventRow.new_state) == "down")).scalars().all()
        hb = s.execute(select(PollerHeartbeatRow)).scalar_one()
    # the status engine saw the three sweeps in order, each at its own time (not when it was written)
    assert statuses[rt1.id].flap_history == "UUD" and statuses[rt1.id].state == "down"
    assert all(st.flap_history == "UUU" for d, st in statuses.items() if d != rt1.id)
    assert [i.state for i in intervals] == ["up", "down"]
    assert windows[0][0] <= intervals[0].start <= windows[0][1]
    assert windows[2][0] <= intervals[1].start <= windows[2][1] and intervals[0].end == intervals[1].start
    assert len(downs) == 1 and windows[2][0] <= downs[0].time <= windows[2][1]
    assert hb.last_sweep_finished is not None and windows[2][0] <= hb.last_sweep_finished <= windows[2][1]
    assert statuses[rt1.id].last_check_at == hb.last_sweep_finished


def test_a_sweep_written_again_after_a_lost_answer_is_stored_once(lab3: Lab) -> None:
    results: list[Any] = []

    async def run() -> None:
        async with Poller(lab3.settings, lab3.engine, kinds=("tcp",)) as poller:
            assert (await poller.sweep("tcp", on_result=results.append)).written

    asyncio.run(run())
    with Session(lab3.engine) as s:
        hb = s.execute(select(PollerHeartbeatRow)).scalar_one()
        idx = load_targets(s, kinds=("tcp",))
    assert hb.last_sweep_started is not None and hb.last_sweep_finished is not None
    again = PendingSweep("tcp", results, idx, hb.last_sweep_started, hb.last_sweep_finished)
    assert write_pending(lab3.engine, lab3.settings, again).transitions == 0
    assert _rows(lab3.engine) == _returned(results)


@pytest.mark.postgres
@pytest.mark.parametrize("where", ["INSERT INTO PROBE_RESULT", "COMMIT"])
def test_sweep_whose_postgres_backend_is_terminated_mid_transaction_is_written_once(
        pg_schema_url: str, where: str, caplog: pytest.LogCaptureFixture) -> None:
    from tests.conftest import _reset_pg

    admin = make_engine(pg_schema_url)
    _reset_pg(admin)
    lab = _lab(pg_schema_url, 3)
    kills: list[int] = []

    def terminate(conn: Any) -> None:
        if kills:
            return
        pid = conn.connection.dbapi_connection.info.backend_pid
        kills.append(pid)
        with admin.connect() as other:
            assert other.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid}).scalar() is True

    if where == "COMMIT":  # just before the transaction's COMMIT reaches the server
        event.listen(lab.engine, "commit", terminate)
    else:  # between two statements of the sweep's transaction
        def before(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if statement.upper().startswith(where):
                terminate(conn)

        event.listen(lab.engine, "before_cursor_execute", before)
    caplog.set_level(logging.WARNING)
    results: list[Any] = []

    async def run() -> None:
        async with Poller(lab.settings, lab.engine, kinds=("tcp",)) as poller:
            assert (await poller.sweep("tcp", on_result=results.append)).written

    try:
        asyncio.run(run())
        stored = _rows(lab.engine)
    finally:
        for sock in lab.listeners.values():
            sock.close()
        lab.engine.dispose()
        admin.dispose()
    assert len(kills) == 1
    assert stored == _returned(results) and len(results) == 3 and max(stored.values()) == 1
    assert len(_messages(caplog, "event=db_write_retry")) == 1


@pytest.mark.postgres
def test_results_kept_while_postgres_is_down_are_written_once_when_it_is_back(
        pg_schema_url: str, caplog: pytest.LogCaptureFixture) -> None:
    from tests.conftest import _reset_pg

    admin = make_engine(pg_schema_url)
    _reset_pg(admin)
    admin.dispose()
    lab = _lab(pg_schema_url, 3)
    relay = TcpRelay((PG_HOST, PG_PORT))
    relay.start()
    relayed = lab.url.replace(f"{PG_HOST}:{PG_PORT}", f"127.0.0.1:{relay.port}")
    assert relayed != lab.url
    settings = load_settings(None, environ=_env(relayed))
    engine = make_engine(settings.database)
    caplog.set_level(logging.INFO)
    results: list[Any] = []

    async def run() -> None:
        async with Poller(settings, engine, kinds=("tcp",)) as poller:
            assert (await poller.sweep("tcp", on_result=results.append)).written
            relay.stop()  # the server goes away: pooled connections cut, new ones refused
            down = await poller.sweep("tcp", on_result=results.append)  # probes the targets it loaded last
            assert not down.written and down.targets == 3
            await poller._housekeeping()
            assert poller.backlog.pending_size == 3
            relay.start()
            await poller._flush_backlog()
            assert not poller.backlog

    try:
        asyncio.run(run())
        stored = _rows(lab.engine)
    finally:
        relay.stop()
        engine.dispose()
        for sock in lab.listeners.values():
            sock.close()
        lab.engine.dispose()
    assert len(results) == 6 and stored == _returned(results) and max(stored.values()) == 1
    assert len(_messages(caplog, "event=targets_stale")) == 1
    assert len(_messages(caplog, "event=backlog_deferred")) == 1


def test_backlog_beyond_its_bound_drops_the_oldest_sweeps_and_says_how_many(
        sqlite_url: str, caplog: pytest.LogCaptureFixture) -> None:
    lab = _lab(sqlite_url, 2, INFRA_MONITOR_POLLER__BACKLOG_MAX_RESULTS="5")
    caplog.set_level(logging.INFO)
    per_sweep: list[list[Any]] = []

    async def run() -> None:
        async with Poller(lab.settings, lab.engine, kinds=("tcp",)) as poller:
            with sqlite_write_lock(lab.url):
                for _ in range(4):
                    per_sweep.append([])
                    await poller.sweep("tcp", on_result=per_sweep[-1].append)
                assert (poller.backlog.pending_items, poller.backlog.pending_size) == (2, 4)
            await poller._flush_backlog()

    try:
        asyncio.run(run())
    finally:
        for sock in lab.listeners.values():
            sock.close()
    assert _rows(lab.engine) == _returned(per_sweep[2] + per_sweep[3])  # the two newest sweeps
    dropped = _messages(caplog, "event=backlog_dropped")
    assert len(dropped) == 2 and all("dropped=2 items=1" in m for m in dropped)
    lab.engine.dispose()


def test_housekeeping_refused_by_a_lock_is_logged_once_and_runs_at_its_next_chance(
        sqlite_url: str, caplog: pytest.LogCaptureFixture) -> None:
    lab = _lab(sqlite_url, 1)
    caplog.set_level(logging.INFO)
    try:
        with sqlite_write_lock(lab.url):
            assert housekeeping(lab.engine, lab.settings) is False  # silent-poller check and retention deferred
            assert housekeeping(lab.engine, lab.settings) is False
        assert housekeeping(lab.engine, lab.settings) is True
    finally:
        for sock in lab.listeners.values():
            sock.close()
        lab.engine.dispose()
    deferred = _messages(caplog, "event=housekeeping_deferred")
    assert sorted(m.split()[1] for m in deferred) == ["step=retention", "step=status"]  # once each
    assert len(_messages(caplog, "event=housekeeping_resumed")) == 2
    assert len(_messages(caplog, "event=retention ")) == 1  # retention ran once the lock was gone


def _probe_once(lab: Lab, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **_env(lab.url, **extra)}
    env.pop("INFRA_MONITOR_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "infra_monitor", "--lang", "en",
                           "probe", "--once", "--kind", "tcp", "--json"],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.fixture
def lab40(sqlite_url: str) -> Iterator[Lab]:
    lab = _lab(sqlite_url, 40)
    yield lab
    for sock in lab.listeners.values():
        sock.close()
    lab.engine.dispose()


def test_probe_once_outlasts_a_20s_lock_held_by_another_process_and_writes_every_result_once(lab40: Lab) -> None:
    with sqlite_write_lock(lab40.url, hold_s=20):  # released by the holder after 20 s, not by the test
        done = _probe_once(lab40, INFRA_MONITOR_POLLER__WRITE_DEADLINE_S="60")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "database locked: keeping 40 results in memory and retrying for up to 60 s" in done.stderr
    printed = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(printed) == 40 and all(o["success"] for o in printed)
    stored = _rows(lab40.engine)
    assert sum(stored.values()) == 40 and max(stored.values()) == 1
    assert set(stored) == {(o["device_id"], datetime.fromisoformat(o["started_at"]), True) for o in printed}
    with Session(lab40.engine) as s:
        assert len(s.execute(select(DeviceStatusRow)).scalars().all()) == 40


def test_probe_once_gives_up_at_its_deadline_and_says_how_many_results_were_not_written(sqlite_url: str) -> None:
    lab = _lab(sqlite_url, 3)  # (the CLI is the same on PostgreSQL; its lock path is tested above)
    try:
        with sqlite_write_lock(lab.url):
            done = _probe_once(lab, INFRA_MONITOR_POLLER__WRITE_DEADLINE_S="1")
    finally:
        for sock in lab.listeners.values():
            sock.close()
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: 3 probe results of 1 sweep(s) were not written: the database stayed locked"), last
    assert "poller.write_deadline_s = 1" in last and "[SQL" not in done.stderr
    assert _rows(lab.engine) == Counter()
    lab.engine.dispose()

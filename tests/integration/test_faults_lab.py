"""Faults in the lab, end to end: no probe result is lost, duplicated or invented (issue 10, point 7).

Real agents in a network namespace (``tests.lab``), the real poller and pipeline on a SQLite file:

1. an SNMP agent killed while a sweep is in flight gets exactly one failed (timeout) result for that
   sweep, the others their successes, and the next sweeps go on;
2. answers that arrive after the deadline (ICMP and SNMP) count as failures and are never taken for
   the answer of the next request or sweep;
3. ``infra-monitor poller`` stopped by SIGTERM during a sweep exits 0, writes that sweep whole or not
   at all, and the time it was stopped is "no data", not downtime, also after it starts again.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlmodel import col

from infra_monitor.config import Settings, load_settings
from infra_monitor.db import make_engine, upgrade
from infra_monitor.scheduler import Poller
from infra_monitor.status.engine.availability import device_availability
from infra_monitor.status.store.models import DeviceStatusRow, EventRow
from infra_monitor.status.store.sweeps import load_intervals
from infra_monitor.storage.models import InterfaceSampleRow, ProbeResultRow
from inventory.importer import import_document
from inventory.models import Device, Interface
from probes.base import ProbeContext, ProbeResult, SnmpCredentials, Target
from probes.icmp import IcmpSettings
from probes.snmp import SnmpSettings
from probes.sweep import run_sweep
from tests.lab.late_udp import late_reply_times, start_late_udp_relay
from tests.lab.netlab import Lab

pytestmark = pytest.mark.lab

ROOT = Path(__file__).resolve().parents[2]
SIM_IFS = ("Gi0/1", "Gi0/2")
TIMEOUT_WORDS = ("timeout", "no reply")  # pysnmp "No SNMP response received before timeout"; ICMP "no reply ..."
NOT_THE_PROBER = ("deadline exceeded", "overran")  # the prober missed its own deadline, or the sweep cut it off


# -- environment ---------------------------------------------------------------------------------
def _device(name: str, ip: str, interfaces: tuple[str, ...] = (), snmp: bool = False) -> dict[str, Any]:
    ifaces = [{"name": n} for n in interfaces] + [{"name": "mgmt0", "ip_addresses": [{"address": f"{ip}/32"}]}]
    monitoring: dict[str, Any] = {"enabled": True, **({"snmp_profile": "lab-v2c"} if snmp else {})}
    return {"site": "xa-lab", "name": name, "role": "router", "status": "active", "primary_ip": f"{ip}/32",
            "monitoring": monitoring, "interfaces": ifaces}


@dataclass
class Env:
    """A SQLite inventory of lab devices, its config file and settings."""

    config: Path
    settings: Settings
    engine: Engine
    ids: dict[str, int] = field(default_factory=dict)


def make_env(tmp_path: Path, devices: list[dict[str, Any]], probes_toml: str) -> Env:
    url = f"sqlite:///{tmp_path / 'faults.db'}"
    cfg = tmp_path / "faults.toml"
    cfg.write_text(f'[database]\nurl = "{url}"\n{probes_toml}'
                   '[probes.tcp]\nenabled = false\n[probes.http]\nenabled = false\n')
    settings = load_settings(cfg, environ={})
    engine = make_engine(url)
    upgrade(engine)
    doc = {"sites": [{"slug": "xa-lab", "name": "Xã Lab", "category": "unit", "status": "active"}],
           "device_roles": [{"slug": "router", "name": "Router"}],
           "snmp_profiles": [{"name": "lab-v2c", "version": "2c", "community": "public"}],
           "devices": devices}
    with Session(engine) as s:
        report = import_document(s, doc, source="faults.yaml")
        assert report.ok, [str(e) for e in report.errors]
        ids = {name: i for name, i in s.execute(select(col(Device.name), col(Device.id))) if i is not None}
    return Env(cfg, settings, engine, ids)


def result_rows(env: Env) -> list[ProbeResultRow]:
    with Session(env.engine) as s:
        return list(s.scalars(select(ProbeResultRow).order_by(col(ProbeResultRow.id))))


def per_device(env: Env, kind: str) -> dict[str, list[ProbeResultRow]]:
    names = {v: k for k, v in env.ids.items()}
    out: dict[str, list[ProbeResultRow]] = {n: [] for n in env.ids}
    for row in result_rows(env):
        if row.kind == kind:
            out[names[row.device_id]].append(row)
    return out


def is_timeout(error: str | None) -> bool:
    text = (error or "").lower()
    return any(w in text for w in TIMEOUT_WORDS) and not any(w in text for w in NOT_THE_PROBER)


# -- 1. an SNMP agent that stops mid-sweep -------------------------------------------------------
def test_snmp_agent_killed_mid_sweep_gets_one_timeout_and_the_next_sweeps_go_on(lab: Lab, tmp_path: Path) -> None:
    a, b, c, d = lab.add_hosts(4)
    lab.start_snmpsim([a, b], interfaces=2)
    victim = lab.start_snmpd(c)
    lab.start_snmpd(d)
    env = make_env(tmp_path, [_device("sim-a", a, SIM_IFS, snmp=True), _device("sim-b", b, SIM_IFS, snmp=True),
                              _device("snmpd-c", c, ("lo",), snmp=True), _device("snmpd-d", d, ("lo",), snmp=True)],
                   '[probes.icmp]\nenabled = false\n'
                   '[probes.snmp]\ntimeout_s = 0.5\nsnmp_retries = 0\nconcurrency = 2\nretries = 1\n')
    killed_during: list[int] = []

    async def scenario() -> list[list[ProbeResult]]:
        sweeps: list[list[ProbeResult]] = []
        async with Poller(env.settings, env.engine, kinds=("snmp",)) as poller:
            for n in range(4):
                seen: list[ProbeResult] = []

                def collect(r: ProbeResult, n: int = n, seen: list[ProbeResult] = seen) -> None:
                    seen.append(r)
                    # sweep 1: the first answer is in, snmpd-c's probe has not started (2 workers, 4 targets)
                    if n == 1 and len(seen) == 1:
                        victim.stop()
                        killed_during.append(n)

                if n == 3:
                    victim.start()
                await poller.sweep("snmp", on_result=collect)
                sweeps.append(seen)
        return sweeps

    sweeps = asyncio.run(scenario())
    assert killed_during == [1], "the agent was not killed while sweep 1 was in flight"
    for n, seen in enumerate(sweeps):  # one result per target and sweep, as the callback saw them
        assert sorted(r.target.device for r in seen) == sorted(env.ids), (n, [r.target.device for r in seen])
    stored = per_device(env, "snmp")
    assert {name: len(rows) for name, rows in stored.items()} == dict.fromkeys(env.ids, 4)  # none lost or doubled
    outcome = {name: [r.success for r in rows] for name, rows in stored.items()}
    assert outcome == {"sim-a": [True] * 4, "sim-b": [True] * 4, "snmpd-d": [True] * 4,
                       "snmpd-c": [True, False, False, True]}
    for row in stored["snmpd-c"][1:3]:
        assert is_timeout(row.error), row.error
    # nothing measured from stale data: the dead agent's sweeps stored no interface sample and no uptime
    by_sweep = [{r.target.device: r for r in seen} for seen in sweeps]
    assert [by_sweep[n]["snmpd-c"].measurements for n in (1, 2)] == [{}, {}]
    assert [by_sweep[n]["snmpd-c"].interfaces for n in (1, 2)] == [[], []]
    assert "sys_uptime_s" in by_sweep[3]["snmpd-c"].measurements  # measured again from the restarted agent
    with Session(env.engine) as s:
        lo_id = s.scalars(select(col(Interface.id)).where(col(Interface.device_id) == env.ids["snmpd-c"],
                                                          col(Interface.name) == "lo")).one()
        samples = s.scalars(select(InterfaceSampleRow).where(col(InterfaceSampleRow.interface_id) == lo_id)).all()
    assert len(samples) == 2  # sweeps 0 and 3, when the agent answered
    for name in ("sim-a", "sim-b"):  # the agents that kept answering have fresh, growing uptimes
        uptimes = [by_sweep[n][name].measurements["sys_uptime_s"] for n in range(4)]
        assert uptimes == sorted(uptimes), (name, uptimes)


# -- 2. answers that arrive after the deadline ---------------------------------------------------
@pytest.mark.alone("an on-time agent must answer within 1 s and late answers must land in a measured window")
def test_answers_after_the_deadline_are_failures_and_never_answer_the_next_sweep(lab: Lab, tmp_path: Path) -> None:
    host, relay, backend = lab.add_hosts(3)
    (late_icmp,) = lab.silent_addresses(1)
    lab.start_snmpsim([host, backend], interfaces=2)
    icmp_responder = lab.start_late_responder(late_icmp, delay_s=0.8)
    _proc, relay_log = start_late_udp_relay(lab, relay, backend, delay_s=1.5)
    env = make_env(tmp_path, [_device("on-time", host, SIM_IFS, snmp=True),
                              _device("late-snmp", relay, SIM_IFS, snmp=True), _device("late-icmp", late_icmp)],
                   '[probes.icmp]\ntimeout_s = 0.3\npackets = 3\npacket_interval_s = 0.1\nretries = 1\n'
                   '[probes.snmp]\ntimeout_s = 1.0\nsnmp_retries = 0\nretries = 1\n')
    windows: dict[str, list[tuple[float, float]]] = {"icmp": [], "snmp": []}

    async def scenario() -> None:
        async with Poller(env.settings, env.engine) as poller:
            for kind in ("icmp", "snmp"):
                for _ in range(2):  # back to back: the first sweep's late answers land in the second
                    t0 = time.time()
                    await poller.sweep(kind)
                    windows[kind].append((t0, time.time()))
            await asyncio.sleep(1.6)  # the last late answers come in, and are dropped

    asyncio.run(scenario())
    snmp, icmp = per_device(env, "snmp"), per_device(env, "icmp")
    # every device has exactly one result per sweep of each kind it is checked by
    assert {n: len(r) for n, r in snmp.items()} == {"on-time": 2, "late-snmp": 2, "late-icmp": 0}
    assert {n: len(r) for n, r in icmp.items()} == {"on-time": 2, "late-snmp": 2, "late-icmp": 2}
    assert [r.success for r in snmp["on-time"]] == [True, True]
    assert [r.success for r in icmp["on-time"]] == [True, True]
    assert [r.success for r in snmp["late-snmp"]] == [False, False], [r.error for r in snmp["late-snmp"]]
    assert [r.success for r in icmp["late-icmp"]] == [False, False], [r.error for r in icmp["late-icmp"]]
    # each failure is the prober's own timeout: it ended before its deadline, the sweep did not cut it off
    for row in snmp["late-snmp"] + icmp["late-icmp"]:
        assert is_timeout(row.error), row.error
        assert row.loss_pct in (None, 100.0)
    # the test proves something only if late answers really arrived while the next sweep was running
    snmp_late = late_reply_times(relay_log)
    assert any(windows["snmp"][1][0] <= t <= windows["snmp"][1][1] for t in snmp_late), (snmp_late, windows)
    icmp_late = _responder_reply_times(icmp_responder.workdir / "responder.log")
    assert len(icmp_late) >= 6  # 3 packets x 2 sweeps, all answered, all too late
    assert any(windows["icmp"][1][0] <= t <= windows["icmp"][1][1] for t in icmp_late), (icmp_late, windows)
    # and the answers are real: with a timeout longer than the delay both devices answer

    async def patient_sweeps() -> tuple[bool, bool]:
        async with ProbeContext() as ctx:
            creds = SnmpCredentials(version="2c", community="public")
            s = await run_sweep("snmp", [Target(key="r", address=relay, params={"snmp": creds})],
                                SnmpSettings(timeout_s=2.0, snmp_retries=0), ctx)
            i = await run_sweep("icmp", [Target(key="i", address=late_icmp)],
                                IcmpSettings(timeout_s=2.0, packets=1), ctx)
            return s.results[0].success, i.results[0].success

    assert asyncio.run(patient_sweeps()) == (True, True)


def _responder_reply_times(logfile: Path) -> list[float]:
    """Send times of the late ICMP responder's replies (its log's local ``asctime``) as epoch seconds."""
    out = []
    for line in logfile.read_text().splitlines():
        if "event=late_reply" in line:
            stamp = " ".join(line.split()[:2])  # "2026-12-02 19:46:13,434"
            out.append(datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp())
    return out


# -- 3. SIGTERM during a sweep -------------------------------------------------------------------
class Daemon:
    """``infra-monitor poller`` as a subprocess; its stderr lines are collected with their arrival time."""

    def __init__(self, config: Path) -> None:
        self.started = time.time()
        self.proc = subprocess.Popen([sys.executable, "-m", "infra_monitor", "poller", "--config", str(config)],
                                     cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        self.lines: list[tuple[float, str]] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._changed:
                self.lines.append((time.time(), line.rstrip("\n")))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def count(self, *words: str) -> int:
        return sum(1 for _, line in self.lines if all(w in line for w in words))

    def wait_for(self, n: int, *words: str, timeout: float = 30.0) -> float:
        """Wait until the ``n``-th line containing every word; return when it arrived."""
        end = time.monotonic() + timeout
        with self._changed:
            while True:
                hits = [t for t, line in self.lines if all(w in line for w in words)]
                if len(hits) >= n:
                    return hits[n - 1]
                if self.proc.poll() is not None and not self._reader.is_alive():
                    raise AssertionError(f"poller exited ({self.proc.returncode}) before {words}:\n{self.text()}")
                if not self._changed.wait(timeout=max(0.0, end - time.monotonic())) and time.monotonic() >= end:
                    raise AssertionError(f"no {n} line(s) with {words} within {timeout} s:\n{self.text()}")

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, then wait (bounded) for the exit code."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"poller still running {timeout} s after SIGTERM:\n{self.text()}") from None
        self._reader.join(timeout=5)
        return code

    def text(self) -> str:
        return "\n".join(line for _, line in self.lines)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


SWEEP_START = ("logger=probes.sweep", "event=sweep_start", "kind=icmp")
SWEEP_STORED = ("logger=infra_monitor.scheduler", "event=sweep_done", "kind=icmp")


@pytest.fixture
def daemons() -> Iterator[list[Daemon]]:
    started: list[Daemon] = []
    yield started
    for d in started:
        d.kill()


def test_sigterm_during_a_sweep_exits_0_writes_whole_sweeps_and_the_stop_is_no_data(
        lab: Lab, tmp_path: Path, daemons: list[Daemon]) -> None:
    live, silent = lab.add_hosts(3), lab.silent_addresses(2)
    names = [f"live-{i}" for i in range(3)] + [f"silent-{i}" for i in range(2)]
    env = make_env(tmp_path, [_device(n, ip) for n, ip in zip(names, live + silent, strict=True)],
                   '[probes.icmp]\ninterval_s = 3\ntimeout_s = 2\npackets = 1\nretries = 1\njitter_s = 0\n'
                   '[probes.snmp]\nenabled = false\n[status]\nstale_after_intervals = 1\n')
    first = Daemon(env.config)
    daemons.append(first)
    stored_at = [first.wait_for(1, *SWEEP_STORED)]
    first.wait_for(2, *SWEEP_START)  # the second sweep is waiting for the silent hosts (2 s)
    time.sleep(0.5)
    sigterm_at = time.time()
    assert first.stop() == 0, first.text()
    stored_before_stop = first.count(*SWEEP_STORED)
    assert "Traceback" not in first.text() and "level=error" not in first.text(), first.text()
    counts = Counter(r.device_id for r in result_rows(env))
    # all or nothing: every device has the same number of results, one per sweep that was stored
    assert set(counts.values()) in ({stored_before_stop}, {stored_before_stop + 1}), (counts, first.text())
    assert sorted(counts) == sorted(env.ids.values())

    time.sleep(5.0)  # stopped for longer than the staleness limit (one 3 s interval)
    second = Daemon(env.config)
    daemons.append(second)
    restarted_at = second.started
    stored_at.append(second.wait_for(1, *SWEEP_STORED))
    assert second.stop() == 0, second.text()
    assert "Traceback" not in second.text() and "level=error" not in second.text(), second.text()
    counts = Counter(r.device_id for r in result_rows(env))
    assert len(set(counts.values())) == 1, counts

    # a one-off sweep after another silence, with no poller (and so no housekeeping) running at all
    stopped_again_at = time.time()
    time.sleep(4.0)
    once_at = time.time()
    once = subprocess.run([sys.executable, "-m", "infra_monitor", "probe", "--once", "--kind", "icmp", "--config",
                           str(env.config)], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert once.returncode == 0, once.stderr
    sweeps_after_once = set(Counter(r.device_id for r in result_rows(env)).values())
    assert sweeps_after_once == {counts[env.ids[names[0]]] + 1}, sweeps_after_once

    # the times it was stopped are no data for every device: neither up nor down
    with Session(env.engine) as s:
        states: dict[int, str] = {d: st for d, st in s.execute(select(col(DeviceStatusRow.device_id),
                                                                       col(DeviceStatusRow.state)))}
        downs = s.scalars(select(col(EventRow.device_id)).where(col(EventRow.new_state) == "down")).all()
    for silence in ((sigterm_at, restarted_at), (stopped_again_at, once_at)):
        span = (datetime.fromtimestamp(silence[0], UTC), datetime.fromtimestamp(silence[1], UTC))
        with Session(env.engine) as s:
            av = device_availability(load_intervals(s, *span), *span, device_ids=env.ids.values())
        for name in names:  # up + down while nothing was probing
            assert av[env.ids[name]].counted.total_seconds() <= 0.2, (name, silence, av[env.ids[name]])
    # no device became DOWN because the poller stopped: only the silent ones, which never answered
    live_ids = {env.ids[n] for n in names if n.startswith("live")}
    assert live_ids.isdisjoint(downs), downs
    assert {states[i] for i in live_ids} == {"up"}
    # the availability report agrees: measured time (up or down) is at most the time sweeps were stored
    report = availability_report(env.config)
    report_at = time.time()
    running = (sigterm_at - stored_at[0]) + (stopped_again_at - stored_at[1]) + (report_at - once_at)
    rows = {r["device"]: r for r in report_table(report, "availability_by_device")}
    for name in names:
        row = rows[name]
        assert row["up_s"] + row["down_own_s"] + row["down_parent_s"] <= running + 1, (name, row, running)
        if name.startswith("live"):
            assert row["down_own_s"] == 0 and row["down_parent_s"] == 0, row


def availability_report(config: Path) -> dict[str, Any]:
    """``infra-monitor report availability --format json`` over yesterday..tomorrow (local), parsed."""
    today = date.today()
    done = subprocess.run(
        [sys.executable, "-m", "infra_monitor", "report", "availability", "--config", str(config), "--format",
         "json", "--output", "-", "--from", (today - timedelta(days=1)).isoformat(),
         "--to", (today + timedelta(days=2)).isoformat()],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def report_table(report: dict[str, Any], key: str) -> list[dict[str, Any]]:
    tables = [t for t in report["tables"] if t["key"] == key]
    assert len(tables) == 1, [t["key"] for t in report["tables"]]
    rows: list[dict[str, Any]] = tables[0]["rows"]
    return rows

"""Several ``infra-monitor poller`` processes share one group through PostgreSQL, each in its own network
namespace as a separate vantage point (real CLI subprocesses, real ICMP to lab addresses, the test schema).

Three pollers of group ``dc`` (vantage ``dc``) and one of group ``huyen-x`` (a district, vantage ``huyen-x``)
run in namespaces of their own (:mod:`tests.lab.vantage`: a veth straight to the lab's far namespace for the
targets, PostgreSQL on the namespace's own 127.0.0.1:5432 through a relay, so every poller uses the test's URL).
The device ``core`` belongs to ``dc`` and lists ``huyen-x`` in ``also_polled_by``; the district's namespace
cannot reach it. One ``dc`` poller is killed (SIGKILL) in the middle of a sweep.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from infra_monitor.config import load_settings
from infra_monitor.db import import_all_models, make_engine, upgrade
from infra_monitor.shards import shard_of
from inventory.importer import import_document
from tests.lab.netlab import Lab
from tests.lab.vantage import PgRelay, VantageNs
from tests.requirements import PG_HOST, PG_PORT, require_raw_icmp
from web.app import create_app

pytestmark = pytest.mark.postgres

INTERVAL_S = 1.5
SHARDS = 16
HOSTS = 18  # answering devices, plus SILENT that never answer (each sweep then lasts about the ICMP timeout)
SILENT = 2
TOKEN = "t0ken-for-the-pollers-lab"
OTHER_KINDS = ("snmp", "tcp", "http", "dns", "sip", "h323", "discovery")


def _config(path: Path, url: str) -> Path:
    lines = [f'[database]\nurl = "{url}"', f"[poller]\nshards = {SHARDS}\nheartbeat_s = 1",
             f"[probes.icmp]\ninterval_s = {INTERVAL_S}\ntimeout_s = 0.8\npackets = 1\njitter_s = 0\nretries = 1"]
    lines += [f"[probes.{k}]\nenabled = false" for k in OTHER_KINDS]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _inventory(addresses: list[str]) -> dict[str, Any]:
    def device(name: str, ip: str, **extra: Any) -> dict[str, Any]:
        return {"site": "ttdl", "name": name, "role": "router", "status": "active", "primary_ip": f"{ip}/32",
                "monitoring": {"enabled": True, "poller_group": "dc"}, **extra,
                "interfaces": [{"name": "lo0", "type": "virtual", "ip_addresses": [{"address": f"{ip}/32"}]}]}
    devices = [device(f"dev-{i:02d}", a) for i, a in enumerate(addresses[1:])]
    devices.append(device("core", addresses[0], custom_fields={"also_polled_by": ["huyen-x"]}))
    return {"sites": [{"slug": "ttdl", "name": "Trung tâm dữ liệu", "category": "unit", "status": "active"}],
            "device_roles": [{"slug": "router", "name": "Router"}], "devices": devices}


class PollerProc:
    """One ``infra-monitor poller`` in its namespace; its log lines are read as they come."""

    def __init__(self, ns: VantageNs, env: dict[str, str]) -> None:
        self.proc = ns.popen([sys.executable, "-m", "infra_monitor", "--lang", "en", "poller"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.lines: list[tuple[float, str]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append((time.monotonic(), line))

    def sweeps_done(self) -> list[float]:
        return [t for t, line in self.lines if "scheduler event=sweep_done kind=icmp" in line]  # written sweeps

    def log(self) -> str:
        return "".join(line for _, line in self.lines)[-30000:]


@pytest.fixture
def pg(pg_schema_url: str) -> Iterator[tuple[str, Engine]]:
    engine = make_engine(pg_schema_url)
    with engine.begin() as conn:
        schema = conn.execute(text("select current_schema()")).scalar_one()
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    import_all_models()
    upgrade(engine)
    yield pg_schema_url, engine
    engine.dispose()


def _wait(what: str, until: Any, timeout_s: float, pollers: list[PollerProc]) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = until()
        if got:
            return got
        dead = [p for p in pollers if p.proc.poll() is not None and p.proc.returncode != -signal.SIGKILL]
        assert not dead, f"a poller ended ({dead[0].proc.returncode}): {dead[0].log()}"
        time.sleep(0.2)
    raise AssertionError(f"{what} within {timeout_s:.0f} s; logs: {[p.log()[-800:] for p in pollers]}")


def _instances(engine: Engine) -> dict[int, tuple[str, list[int], float]]:
    """Per OS pid: group, shards held, seconds since the last beat (database clock)."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT pid, poller_group, shards, extract(epoch FROM now() - last_seen) "
                                 "FROM poller_instance")).all()
    return {r[0]: (r[1], sorted(r[2]), float(r[3])) for r in rows}


@pytest.mark.alone("four pollers must each finish a sweep every 1.5 s, which busy cores cannot keep")
def test_pollers_share_a_group_survive_a_kill_and_show_where_vantage_points_disagree(
        lab: Lab, pg: tuple[str, Engine], tmp_path: Path) -> None:
    require_raw_icmp()
    url, engine = pg
    addresses = lab.add_hosts(HOSTS) + lab.silent_addresses(SILENT)
    with Session(engine) as s:
        report = import_document(s, _inventory(addresses), source="pollers-lab")
        assert not report.errors, report.errors
        ids: dict[str, int] = dict(s.execute(text("SELECT name, id FROM device")).all())
    env = {k: v for k, v in os.environ.items() if not k.startswith("INFRA_MONITOR_")}
    env["INFRA_MONITOR_CONFIG"] = str(_config(tmp_path / "poller.toml", url))
    relay = PgRelay(lab, PG_HOST, PG_PORT)
    spaces: list[VantageNs] = []
    pollers: list[PollerProc] = []
    try:
        spaces = [VantageNs(lab, relay) for _ in range(4)]
        spaces[3].cut(addresses[0])  # the district cannot reach the core
        dc = [PollerProc(ns, {**env, "INFRA_MONITOR_POLLER__GROUP": "dc"}) for ns in spaces[:3]]
        district = PollerProc(spaces[3], {**env, "INFRA_MONITOR_POLLER__GROUP": "huyen-x"})
        pollers = [*dc, district]

        def shared() -> dict[int, tuple[str, list[int], float]] | None:
            inst = {pid: v for pid, v in _instances(engine).items() if v[0] == "dc"}
            held = [s for _g, shards, _age in inst.values() for s in shards]
            ok = len(inst) == 3 and all(v[1] for v in inst.values()) and sorted(held) == list(range(SHARDS))
            return inst if ok else None

        inst = _wait("three dc pollers holding every shard once", shared, 40, pollers)
        assert set(inst) == {p.proc.pid for p in dc}, inst  # `ip netns exec` execs: the pids are the pollers'
        for i, p in enumerate(dc):  # past their first sweep (whose start may lag behind its schedule)
            _wait(f"sweeps of poller {i}", lambda p=p: len(p.sweeps_done()) >= 2, 20, pollers)
        steady = datetime.now(UTC)
        for i, p in enumerate(dc):  # a whole sweep each in the steady state
            _wait(f"sweeps of poller {i}", lambda p=p: len(p.sweeps_done()) >= 3, 20, pollers)

        victim = dc[2]
        last = victim.sweeps_done()[-1]  # written about 0.9 s after its start; the next starts 1.5 s after it
        time.sleep(max(0.0, last + INTERVAL_S - 0.4 - time.monotonic()))  # about 0.5 s into the next sweep
        victim_shards = set(_instances(engine)[victim.proc.pid][1])
        victim.proc.send_signal(signal.SIGKILL)
        victim.proc.wait(5)
        killed_at = datetime.now(UTC)
        survivors = dc[:2]
        start = [len(p.sweeps_done()) for p in survivors]
        for p, n in zip(survivors, start, strict=True):
            _wait("four sweeps of each survivor", lambda p=p, n=n: len(p.sweeps_done()) >= n + 4, 30, pollers)

        inst = _instances(engine)
        alive = {pid: v for pid, v in inst.items() if pid in {p.proc.pid for p in survivors}}
        assert sorted(s for v in alive.values() for s in v[1]) == list(range(SHARDS)), inst  # taken over, once
        assert inst[victim.proc.pid][2] > 3 * 1.0, inst  # the killed poller's heartbeat went stale (3 beats)
        assert all(v[2] < 3 * 1.0 for v in alive.values()), inst

        with engine.connect() as conn:
            rows = conn.execute(text("SELECT device_id, ts FROM probe_result WHERE vantage = 'dc' AND ts > :t "
                                     "ORDER BY ts"), {"t": steady}).all()
        times: dict[int, list[datetime]] = defaultdict(list)
        for device_id, ts in rows:
            times[device_id].append(ts)
        assert set(times) == set(ids.values()), "every device of the group was probed"
        for name, device_id in ids.items():  # never twice in one sweep, whoever held its shard
            gaps = [(b - a).total_seconds() for a, b in zip(times[device_id], times[device_id][1:], strict=False)]
            assert min(gaps) > 0.4 * INTERVAL_S, (name, gaps)
        after = {d: sum(ts > killed_at for ts in t) for d, t in times.items()}
        most = max(after.values())
        lost = {d for d, n in after.items() if n < most - 2}
        assert not lost, (after, victim_shards)  # the victim's devices are swept again within two sweeps
        taken = {d for d in ids.values() if shard_of(d, SHARDS) in victim_shards}
        assert taken and all(after[d] >= 2 for d in taken), (after, [p.log()[-1500:] for p in survivors])

        # The district sees the core DOWN while the data center sees it UP: its state is the dc's (UP), the
        # device API and the overview say that the vantage points disagree.
        settings = load_settings(None, environ={"INFRA_MONITOR_DATABASE__URL": url,
                                                "INFRA_MONITOR_WEB__ADMIN_TOKEN": TOKEN})
        client = TestClient(create_app(settings, engine), headers={"Authorization": f"Token {TOKEN}"})
        core = client.get(f"/api/status/devices/{ids['core']}")
        assert core.status_code == 200, core.text
        body = core.json()
        assert body["device"]["state"] == "up", body["device"]
        views = {v["vantage"]: v["up"] for v in body["vantages"]}
        assert views == {"dc": True, "huyen-x": False}, body["vantages"]
        overview = client.get("/api/status/overview").json()
        disagree = {d["device_id"]: {v["vantage"]: v["up"] for v in d["vantages"]}
                    for d in overview["vantage_disagreements"]}
        assert disagree == {ids["core"]: {"dc": True, "huyen-x": False}}, overview["vantage_disagreements"]
        processes = {p["pid"]: p for p in overview["freshness"]["poller_processes"]}
        assert processes[victim.proc.pid]["stale"] is True
        assert all(processes[p.proc.pid]["stale"] is False for p in [*survivors, district])
        page = client.get(f"/devices/{ids['core']}?lang=vi")
        assert page.status_code == 200 and "UP từ dc" in page.text and "DOWN từ huyen-x" in page.text, page.text
        home = client.get("/?lang=vi").text
        assert "Các điểm quan sát không thống nhất" in home and "Tiến trình thăm dò" in home
        assert f":{victim.proc.pid}</code>" in home  # the killed one is still listed (stale, per the API above)
    finally:
        for p in pollers:
            if p.proc.poll() is None:
                p.proc.send_signal(signal.SIGTERM)
        for p in pollers:
            try:
                p.proc.wait(15)
            except subprocess.TimeoutExpired:
                p.proc.kill()
        for ns in spaces:
            ns.close()
        relay.close()

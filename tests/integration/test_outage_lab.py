"""An outage in the lab, end to end: real namespace, real pings, scheduler, status engine, webhook.

Topology (all device addresses live in the lab namespace):
    dc-core ── district-1 router ── communes 1..4, and commune X (second uplink from district-2)
            └─ district-2 router ── commune X
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from infra_monitor.config import Settings, load_settings
from infra_monitor.db import make_engine, upgrade
from infra_monitor.scheduler import Poller
from infra_monitor.status.engine.config import StatusConfig
from infra_monitor.status.notify.worker import NotifierThread
from infra_monitor.status.store.models import (
    DeviceStatusRow,
    EventRow,
    MaintenanceWindowRow,
    NotificationRow,
    StateIntervalRow,
)
from infra_monitor.status.store.sweeps import apply_sweep
from inventory.importer import import_document
from inventory.models import Device, Site
from tests.integration.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.lab

SECRET = "lab-hook-secret"
COMMUNES = ["xa-1", "xa-2", "xa-3", "xa-4"]


def _doc(ips: dict[str, str]) -> dict[str, Any]:
    sites = [{"slug": "dc", "name": "Trung tâm dữ liệu", "category": "datacenter", "region": "24"},
             {"slug": "huyen-1", "name": "Huyện Một", "category": "district", "region": "201"},
             {"slug": "huyen-2", "name": "Huyện Hai", "category": "district", "region": "202"},
             {"slug": "xa-x", "name": "Xã Hai Đường", "category": "commune", "region": "20105"}]
    sites += [{"slug": c, "name": f"Xã {c}", "category": "commune", "region": f"2010{i}"}
              for i, c in enumerate(COMMUNES)]

    def dev(site: str, name: str) -> dict[str, Any]:
        return {"site": site, "name": name, "role": "router", "primary_ip": f"{ips[name]}/32",
                "interfaces": [{"name": "up0"}, {"name": "down0"}, {"name": "down1"},
                               {"name": "lo", "ip_addresses": [{"address": f"{ips[name]}/32"}]}]}

    devices = [dev("dc", "dc-core"), dev("huyen-1", "rt-h1"), dev("huyen-2", "rt-h2"), dev("xa-x", "rt-x")]
    devices += [dev(c, f"rt-{c}") for c in COMMUNES]

    def circuit(cid: str, a: tuple[str, str, str], z: tuple[str, str, str]) -> dict[str, Any]:
        return {"provider": "vnpt", "cid": cid, "type": "tslcd", "status": "active", "commit_rate_kbps": 100000,
                "a": {"site": a[0], "device": a[1], "interface": a[2]},
                "z": {"site": z[0], "device": z[1], "interface": z[2]}}

    circuits = [circuit("H1", ("dc", "dc-core", "down0"), ("huyen-1", "rt-h1", "up0")),
                circuit("H2", ("dc", "dc-core", "down1"), ("huyen-2", "rt-h2", "up0")),
                circuit("X1", ("huyen-1", "rt-h1", "down1"), ("xa-x", "rt-x", "up0")),
                circuit("X2", ("huyen-2", "rt-h2", "down1"), ("xa-x", "rt-x", "down0"))]
    circuits += [circuit(f"C{i}", ("huyen-1", "rt-h1", "down0"), (c, f"rt-{c}", "up0"))
                 for i, c in enumerate(COMMUNES)]
    return {
        "regions": [{"code": "24", "name": "Tỉnh", "slug": "tinh", "level": "province"},
                    {"code": "201", "name": "Huyện Một", "slug": "h1", "level": "district", "parent": "24"},
                    {"code": "202", "name": "Huyện Hai", "slug": "h2", "level": "district", "parent": "24"},
                    *({"code": f"2010{i}", "name": f"Xã {i}", "slug": f"x{i}", "level": "commune", "parent": "201"}
                      for i in range(6))],
        "sites": sites, "device_roles": [{"slug": "router", "name": "Router"}],
        "providers": [{"slug": "vnpt", "name": "VNPT"}], "circuit_types": [{"slug": "tslcd", "name": "TSLCD"}],
        "devices": devices, "circuits": circuits,
    }


@pytest.fixture
def outage_env(lab: Any, tmp_path: Path) -> Iterator[tuple[Any, Settings, Engine, dict[str, str], WebhookReceiver]]:
    names = ["dc-core", "rt-h1", "rt-h2", "rt-x", *[f"rt-{c}" for c in COMMUNES]]
    ips = dict(zip(names, lab.add_hosts(len(names)), strict=True))
    with WebhookReceiver(SECRET) as hook:
        url = f"sqlite:///{tmp_path / 'lab.db'}"
        cfg = tmp_path / "lab.toml"
        cfg.write_text(
            f'[database]\nurl = "{url}"\n'
            '[probes.icmp]\ninterval_s = 1\ntimeout_s = 0.5\npackets = 1\nretries = 2\njitter_s = 0\n'
            '[probes.snmp]\nenabled = false\n[probes.tcp]\nenabled = false\n[probes.http]\nenabled = false\n'
            '[status]\nstale_after_intervals = 3\n'
            f'[notifications]\nbackoff_initial_s = 0.2\n[[notifications.webhooks]]\nname = "sms"\nurl = "{hook.url}"\n'
            f'secret = "{SECRET}"\nmin_severity = "warning"\n'
        )
        settings = load_settings(cfg, environ={})
        engine = make_engine(url)
        upgrade(engine)
        with Session(engine) as s:
            report = import_document(s, _doc(ips), source="lab.yaml")
            assert report.ok, report.errors
        yield lab, settings, engine, ips, hook
        engine.dispose()


def _states(engine: Engine) -> dict[str, tuple[str, bool, str | None]]:
    with Session(engine) as s:
        st = DeviceStatusRow
        rows = s.execute(select(Device.name, st.state, st.hard, st.root_cause_device_id)
                         .join(st, st.device_id == Device.id)).all()
        names = dict(s.execute(select(Device.id, Device.name)).all())
    return {n: (st, hard, names.get(root)) for n, st, hard, root in rows}


def _wait(cond: Any, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


def test_district_outage_is_one_root_cause_one_notification(outage_env: Any) -> None:
    lab, settings, engine, ips, hook = outage_env
    notifier = NotifierThread(settings, engine, poll_s=0.1)
    notifier.start()
    try:
        asyncio.run(_scenario(lab, settings, engine, ips))
        assert _wait(lambda: len(hook.received) >= 1, 10), "no notification delivered"
        time.sleep(1.0)  # anything else queued would arrive now
    finally:
        notifier.stop()
    assert hook.bad_signatures == 0
    down = [p for p in hook.received if "rt-h1" in str(p)]
    assert len(hook.received) == 1, [p.get("title") for p in hook.received]
    assert len(down) == 1
    assert "4" in str(down[0])  # the count of devices unreachable behind the root cause


async def _scenario(lab: Any, settings: Settings, engine: Engine, ips: dict[str, str]) -> None:
    async with Poller(settings, engine, kinds=("icmp",)) as poller:
        await poller.sweep("icmp")
        states = _states(engine)
        assert all(st == "up" for st, _, _ in states.values()), states
        # the district router and everything that hangs only behind it go dark
        for name in ["rt-h1", *[f"rt-{c}" for c in COMMUNES]]:
            lab.host_down(ips[name])
        sweeps = 0
        for _ in range(settings.probes.icmp.retries + 1):
            await poller.sweep("icmp")
            sweeps += 1
            if _states(engine)["rt-h1"][:2] == ("down", True):
                break
        states = _states(engine)
        # hard DOWN within `retries` failed sweeps
        assert states["rt-h1"][:2] == ("down", True) and sweeps <= settings.probes.icmp.retries, (sweeps, states)
        for c in COMMUNES:
            assert states[f"rt-{c}"] == ("unreachable", True, "rt-h1"), states[f"rt-{c}"]
        assert states["rt-x"][0] == "up"  # second uplink through district 2
        assert states["dc-core"][0] == "up" and states["rt-h2"][0] == "up"


def test_poller_that_stops_reporting_turns_targets_unknown(outage_env: Any) -> None:
    _lab, settings, engine, _ips, _hook = outage_env

    async def one() -> None:
        async with Poller(settings, engine, kinds=("icmp",)) as poller:
            await poller.sweep("icmp")

    asyncio.run(one())
    later = datetime.now(UTC) + timedelta(seconds=settings.probes.icmp.interval_s * 10)
    with Session(engine) as s:
        apply_sweep(s, {}, later, StatusConfig.from_settings(settings))
        s.commit()
    states = _states(engine)
    assert {st for st, _, _ in states.values()} == {"unknown"}, states
    with Session(engine) as s:
        open_rows = s.execute(select(StateIntervalRow).where(StateIntervalRow.end.is_(None))).scalars()
        open_causes = {r.cause for r in open_rows}
        downs = s.execute(select(EventRow).where(EventRow.new_state == "down")).scalars().all()
    assert open_causes == {"no_data"} and downs == []


def test_flapping_commune_is_marked_and_stops_notifying(outage_env: Any) -> None:
    lab, settings, engine, ips, _hook = outage_env
    ip = ips["rt-xa-1"]

    async def flap() -> None:
        async with Poller(settings, engine, kinds=("icmp",)) as poller:
            for i in range(21):
                (lab.host_down if i % 2 else lab.host_up)(ip)
                await poller.sweep("icmp")

    asyncio.run(flap())
    with Session(engine) as s:
        dev_id = s.execute(select(Device.id).where(Device.name == "rt-xa-1")).scalar_one()
        status = s.get(DeviceStatusRow, dev_id)
        flap_events = s.execute(
            select(EventRow).where(EventRow.device_id == dev_id, EventRow.kind == "flap_start")).scalars().all()
        payloads = [n.payload for n in s.execute(select(NotificationRow)).scalars()]
    assert status is not None and status.flapping
    assert len(flap_events) == 1
    # one notification says it started flapping; after that its state changes notify nobody
    flap_notes = [p for p in payloads if p["kind"] == "flap_start"]
    assert len(flap_notes) == 1 and "rt-xa-1" in str(flap_notes[0]["device"])
    changes = [datetime.fromisoformat(p["time"]) for p in payloads
               if p["kind"] == "state_change" and "rt-xa-1" in str(p["affected"])]
    assert all(t <= flap_events[0].time for t in changes), (changes, flap_events[0].time)


def test_maintenance_window_suppresses_notifications_and_counts_against_nobody(outage_env: Any) -> None:
    lab, settings, engine, ips, hook = outage_env
    now = datetime.now(UTC)
    with Session(engine) as s:
        site_id = s.execute(select(Site.id).where(Site.slug == "huyen-2")).scalar_one()
        s.add(MaintenanceWindowRow(name="Cắt điện theo kế hoạch", scope_type="site", scope_id=site_id, kind="one_off",
                                   start=now - timedelta(minutes=1), end=now + timedelta(hours=1)))
        s.commit()
    notifier = NotifierThread(settings, engine, poll_s=0.1)
    notifier.start()

    async def run() -> None:
        async with Poller(settings, engine, kinds=("icmp",)) as poller:
            await poller.sweep("icmp")
            lab.host_down(ips["rt-h2"])
            for _ in range(settings.probes.icmp.retries + 2):
                await poller.sweep("icmp")

    try:
        asyncio.run(run())
        time.sleep(1.0)
    finally:
        notifier.stop()
    states = _states(engine)
    assert states["rt-h2"][0] == "maintenance"
    assert hook.received == []
    with Session(engine) as s:
        dev_id = s.execute(select(Device.id).where(Device.name == "rt-h2")).scalar_one()
        rows = s.execute(select(StateIntervalRow).where(StateIntervalRow.device_id == dev_id)).scalars()
        causes = {r.cause for r in rows}
    assert "own_failure" not in causes and "maintenance" in causes


def test_scheduled_detection_latency_is_within_retries_times_interval_plus_one_sweep(outage_env: Any) -> None:
    """The real schedule (APScheduler, 1 s interval): a device that stops answering is hard DOWN in time.

    "In time" is counted in sweeps, not seconds, so a loaded CI machine cannot fail it: from the
    moment the host stops answering, at most one sweep already in flight plus ``retries`` failed
    sweeps may pass before it is hard DOWN. The wall-clock latency is printed beside the bound.
    """
    lab, settings, engine, ips, _hook = outage_env
    icmp = settings.probes.icmp
    measured: dict[str, float] = {}

    async def run() -> None:
        async with Poller(settings, engine, kinds=("icmp",)) as poller:
            poller.start_schedule()
            assert await asyncio.to_thread(_wait, lambda: _states(engine).get("rt-h2", ("",))[0] == "up", 10)
            lab.host_down(ips["rt-h2"])
            t0 = time.monotonic()
            sweeps0 = poller.stats.sweeps.get("icmp", 0)
            ok = await asyncio.to_thread(_wait, lambda: _states(engine)["rt-h2"][:2] == ("down", True), 30)
            measured["latency_s"] = time.monotonic() - t0
            measured["sweeps"] = poller.stats.sweeps.get("icmp", 0) - sweeps0
            measured["overruns"] = poller.stats.overruns.get("icmp", 0)
            assert ok, _states(engine)

    asyncio.run(run())
    bound = icmp.retries * icmp.interval_s + icmp.interval_s + icmp.timeout_s
    print(f"detection latency {measured['latency_s']:.2f} s over {measured['sweeps']:.0f} sweeps "
          f"(bound {bound:.2f} s: retries x interval + one sweep; overruns {measured['overruns']:.0f})")
    assert 1 <= measured["sweeps"] <= icmp.retries + 1 + 1  # one in flight, retries failed, one to commit

"""Inventory → targets → sweep → storage → status, end to end against loopback (no lab needed)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from infra_monitor.cli import app
from infra_monitor.config import Settings, load_settings
from infra_monitor.db import make_engine, upgrade
from infra_monitor.scheduler import Poller
from infra_monitor.status.store.models import DeviceStatusRow, PollerHeartbeatRow
from infra_monitor.storage.models import LatestResult, ProbeResultRow, Rollup
from infra_monitor.targets import load_targets
from inventory.models import Device, DeviceRole, Interface, IPAddress, Site
from tests.requirements import require_raw_icmp


def _add_device(s: Session, site: Site, role: DeviceRole, name: str, ip: str, **kw: object) -> Device:
    d = Device(site_id=site.id, name=name, role_id=role.id, **kw)
    s.add(d)
    s.flush()
    iface = Interface(device_id=d.id, name="lo0")
    s.add(iface)
    s.flush()
    addr = IPAddress(address=f"{ip}/32", host=ip, interface_id=iface.id)
    s.add(addr)
    s.flush()
    d.primary_ip_id = addr.id
    return d


@pytest.fixture
def env(tmp_path: Path) -> Iterator[tuple[Settings, Engine]]:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    settings = load_settings(None, environ={
        "INFRA_MONITOR_DATABASE__URL": url,
        "INFRA_MONITOR_PROBES__ICMP__TIMEOUT_S": "1", "INFRA_MONITOR_PROBES__ICMP__PACKETS": "2",
        "INFRA_MONITOR_PROBES__TCP__TIMEOUT_S": "1", "INFRA_MONITOR_PROBES__ICMP__RETRIES": "1",
        "INFRA_MONITOR_PROBES__TCP__RETRIES": "1",
    })
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as s:
        role = DeviceRole(slug="router", name="Router")
        site = Site(slug="xa-a", name="Xã Á", category="commune")
        other = Site(slug="xa-b", name="Xã B", category="commune")
        s.add_all([role, site, other])
        s.flush()
        _add_device(s, site, role, "rt-a", "127.0.0.11")
        _add_device(s, other, role, "rt-b", "127.0.0.12")
        _add_device(s, site, role, "no-monitor", "127.0.0.13", monitoring_enabled=False)
        _add_device(s, site, role, "planned", "127.0.0.14", status="planned")
        s.commit()
    yield settings, engine
    engine.dispose()


def test_targets_cover_only_monitored_active_devices_of_the_group(env: tuple[Settings, Engine]) -> None:
    _, engine = env
    with Session(engine) as s:
        idx = load_targets(s, kinds=("icmp", "snmp"))
        assert sorted(t.device for t in idx.targets["icmp"]) == ["rt-a", "rt-b"]
        assert idx.targets["snmp"] == []
        assert [t.device for t in load_targets(s, site_slug="xa-b", kinds=("icmp",)).targets["icmp"]] == ["rt-b"]
        assert load_targets(s, poller_group="other", kinds=("icmp",)).count() == 0


def test_icmp_sweep_is_stored_rolled_up_and_evaluated(env: tuple[Settings, Engine]) -> None:
    require_raw_icmp()
    settings, engine = env

    async def run() -> None:
        async with Poller(settings, engine, kinds=("icmp",)) as poller:
            summary = await poller.sweep("icmp")
            assert (summary.targets, summary.ok, summary.failed) == (2, 2, 0)

    asyncio.run(run())
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(ProbeResultRow)) == 2
        rows = s.execute(select(LatestResult)).scalars().all()
        assert all(r.success and r.loss_pct == 0.0 and r.rtt_avg_ms is not None for r in rows)
        assert s.scalar(select(func.sum(Rollup.count)).where(Rollup.resolution == 300)) == 2
        states = {r.device_id: r.state for r in s.execute(select(DeviceStatusRow)).scalars()}
        assert sorted(states.values()) == ["up", "up"]
        hb = s.execute(select(PollerHeartbeatRow)).scalar_one()
        assert hb.kind == "icmp" and hb.targets == 2 and hb.last_sweep_finished is not None


def test_probe_once_cli_prints_json_per_target_and_stores(env: tuple[Settings, Engine],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    settings, engine = env
    listener = socket.socket()
    listener.bind(("127.0.0.11", 0))
    listener.listen()
    open_port = listener.getsockname()[1]
    closed = socket.socket()
    closed.bind(("127.0.0.11", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    with Session(engine) as s:
        dev = s.execute(select(Device).where(Device.name == "rt-a")).scalar_one()
        dev.custom_fields = {"tcp_ports": [open_port, closed_port]}
        s.add(dev)
        s.commit()
    monkeypatch.setenv("INFRA_MONITOR_DATABASE__URL", settings.database.url)
    result = CliRunner().invoke(app, ["--lang", "en", "probe", "--once", "--kind", "tcp", "--json"])
    listener.close()
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 2 and {o["kind"] for o in lines} == {"tcp"}
    assert sorted(o["success"] for o in lines) == [False, True]
    assert all(o["device"] == "rt-a" and o["site"] == "xa-a" for o in lines)
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(ProbeResultRow).where(ProbeResultRow.kind == "tcp")) == 2
    # without --once it refuses, with a usage error
    assert CliRunner().invoke(app, ["--lang", "en", "probe"]).exit_code == 2
    bad = CliRunner().invoke(app, ["--lang", "en", "probe", "--once", "--kind", "smoke-signal"])
    assert bad.exit_code == 2 and "unknown probe kind" in bad.output


def test_services_become_one_check_per_port_and_decide_no_device_state(env: tuple[Settings, Engine],
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from inventory.models import Service

    settings, engine = env
    listener = socket.socket()
    listener.bind(("127.0.0.12", 0))
    listener.listen()
    open_port = listener.getsockname()[1]
    with Session(engine) as s:
        devices = {d.name: d for d in s.execute(select(Device)).scalars()}
        s.add_all([
            Service(device_id=devices["rt-b"].id, name="SSH + HTTPS", kind="tcp", ports=[open_port, 9]),
            Service(device_id=devices["rt-b"].id, name="Old", kind="tcp", ports=[22], status="offline"),
            Service(device_id=devices["rt-b"].id, name="Quiet", kind="tcp", ports=[23], monitoring_enabled=False),
            Service(device_id=devices["no-monitor"].id, name="Unwatched", kind="tcp", ports=[24]),
        ])
        s.commit()
        svc_id = s.execute(select(Service.id).where(Service.name == "SSH + HTTPS")).scalar_one()
        idx = load_targets(s, kinds=("tcp",))
    assert [(t.device, t.check_key, t.availability, t.service_id) for t in idx.targets["tcp"]] == [
        ("rt-b", f"service:{svc_id}:tcp:{open_port}", False, svc_id),
        ("rt-b", f"service:{svc_id}:tcp:9", False, svc_id)]
    monkeypatch.setenv("INFRA_MONITOR_DATABASE__URL", settings.database.url)
    result = CliRunner().invoke(app, ["--lang", "en", "probe", "--once", "--kind", "tcp", "--json"])
    listener.close()
    assert result.exit_code == 0, result.output
    with Session(engine) as s:
        latest = {r.check_key: r for r in s.execute(select(LatestResult)).scalars()}
        assert latest[f"service:{svc_id}:tcp:{open_port}"].success
        assert not latest[f"service:{svc_id}:tcp:9"].success
        assert {r.availability for r in latest.values()} == {False}
        assert {r.service_id for r in latest.values()} == {svc_id}
        # service checks alone evaluate no device: rt-b has one port down and is not DOWN (nor UP: no
        # availability check has run yet)
        states = {r.device_id: r.state for r in s.execute(select(DeviceStatusRow)).scalars()}
        assert states.get(devices["rt-b"].id, "unknown") == "unknown"

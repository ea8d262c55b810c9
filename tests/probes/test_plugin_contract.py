"""A probe kind is its file plus one registry line: ``tests/probes/plugin_echo.py`` (defined only in the test
suite) is configured, scheduled, probed through the real CLI, stored per check and shown by the API and the
device page, with no other file knowing about it."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from infra_monitor.cli import app
from infra_monitor.config import ConfigError, load_settings
from infra_monitor.db import make_engine, upgrade
from infra_monitor.scheduler import Poller
from infra_monitor.status.store.models import DeviceStatusRow
from infra_monitor.storage.models import LatestResult, ProbeResultRow, Rollup
from inventory.models import Device, DeviceRole, Interface, IPAddress, Site
from probes import registry
from tests.probes import plugin_echo
from tests.users import ADMIN_TOKEN


@pytest.fixture
def echo_kind() -> Iterator[None]:
    registry.register(plugin_echo.KIND)  # the one registry line
    yield
    registry.unregister("echo")


@pytest.fixture
def echo_port() -> Iterator[int]:
    """A UDP echo server on 127.0.0.1."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                data, addr = sock.recvfrom(2048)
            except TimeoutError:
                continue
            sock.sendto(data, addr)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield int(sock.getsockname()[1])
    stop.set()
    thread.join(2)
    sock.close()


@dataclass
class Env:
    config: Path
    engine: Engine
    device_id: int


@pytest.fixture
def env(tmp_path: Path, echo_kind: None, echo_port: int) -> Iterator[Env]:
    url = f"sqlite:///{tmp_path / 'echo.db'}"
    config = tmp_path / "echo.toml"
    off = "".join(f"[probes.{k}]\nenabled = false\n" for k in registry.names() if k != "echo")  # every other kind
    config.write_text(f'[database]\nurl = "{url}"\n[web]\nadmin_token = "{ADMIN_TOKEN}"\n{off}'
                      f"[probes.echo]\nport = {echo_port}\nretries = 1\n", encoding="utf-8")
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as s:
        role, site = DeviceRole(slug="server", name="Server"), Site(slug="dc", name="Trung tâm dữ liệu",
                                                                    category="datacenter")
        s.add_all([role, site])
        s.flush()
        device = Device(site_id=site.id, name="srv-echo", role_id=role.id)
        s.add(device)
        s.flush()
        iface = Interface(device_id=device.id, name="eth0")
        s.add(iface)
        s.flush()
        addr = IPAddress(address="127.0.0.1/32", host="127.0.0.1", interface_id=iface.id)
        s.add(addr)
        s.flush()
        device.primary_ip_id = addr.id
        assert device.id is not None
        device_id = device.id
        s.commit()
    yield Env(config, engine, device_id)
    engine.dispose()


def test_the_registry_drives_configuration(echo_kind: None, tmp_path: Path) -> None:
    defaults = load_settings(None, environ={})
    assert defaults.probes.echo.port == 7  # no section: the kind's defaults, never dropped
    assert "echo" in dict(defaults.probes)
    tuned = load_settings(None, environ={"INFRA_MONITOR_PROBES__ECHO__PORT": "10007"})
    assert tuned.probes.kind("echo").port == 10007
    bad = tmp_path / "bad.toml"
    bad.write_text("[probes.gopher]\nenabled = true\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[probes.gopher\] is not a probe kind; known kinds: icmp, snmp, tcp, "
                                          r"http, dns, sip, h323, .*echo"):
        load_settings(bad, environ={})
    bad.write_text("[probes.echo]\nport = 0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"probes\.echo\.port"):
        load_settings(bad, environ={})


def test_a_kind_defined_in_the_test_suite_is_scheduled_probed_stored_and_shown(env: Env) -> None:
    settings = load_settings(env.config, environ={})

    async def scheduled() -> list[str]:
        async with Poller(settings, env.engine) as poller:
            assert poller.kinds == ("echo",)
            sched = poller.start_schedule()
            jobs = sorted(j.id for j in sched.get_jobs())
            sched.shutdown(wait=False)
            return jobs

    assert "sweep:echo" in asyncio.run(scheduled())

    out = CliRunner().invoke(app, ["probe", "--once", "--kind", "echo", "--json", "--config", str(env.config)])
    assert out.exit_code == 0, out.output
    [line] = [json.loads(x) for x in out.stdout.splitlines() if x.startswith("{")]
    assert (line["kind"], line["check"], line["device"], line["success"]) == ("echo", "echo", "srv-echo", True)
    assert line["measurements"]["echo_bytes"] == float(len("infra-monitor"))

    with Session(env.engine) as s:
        latest = s.execute(select(LatestResult)).scalars().all()
        assert [(r.check_key, r.kind, r.success, r.availability) for r in latest] == [("echo", "echo", True, True)]
        assert latest[0].rtt_avg_ms == latest[0].measurements["echo_ms"]  # the kind's latency, by its declaration
        assert s.execute(select(ProbeResultRow.check_key)).scalars().all() == ["echo"]
        assert {r.check_key for r in s.execute(select(Rollup)).scalars()} == {"echo"}
        assert s.execute(select(DeviceStatusRow.state)).scalar_one() == "up"

    from web.app import create_app

    with TestClient(create_app(settings, env.engine), headers={"Authorization": f"Token {ADMIN_TOKEN}"}) as c:
        detail = c.get(f"/api/status/devices/{env.device_id}").json()
        [check] = detail["checks"]
        assert (check["check_key"], check["kind"], check["state"]) == ("echo", "echo", "up")
        series = c.get(f"/api/status/devices/{env.device_id}/checks/series",
                       params={"check": "echo", "period": "1h"}).json()
        assert any(v is not None for _, v in series["lines"][1]["points"])  # rtt_avg
        page = c.get(f"/devices/{env.device_id}", params={"lang": "en"}).text
        assert 'data-check="echo"' in page and "UDP echo" in page and "Bytes echoed" in page
        page_vi = c.get(f"/devices/{env.device_id}", params={"lang": "vi"}).text
        assert "Tiếng vọng UDP" in page_vi and "Số byte vọng lại" in page_vi

    unknown = CliRunner().invoke(app, ["probe", "--once", "--kind", "gopher", "--config", str(env.config)])
    assert unknown.exit_code == 2 and "echo" in unknown.output

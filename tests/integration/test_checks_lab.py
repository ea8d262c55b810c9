"""One result per check, in the lab: a server whose one port answers and another does not shows both checks,
each with its own state, and stays UP; a DNS service answers from dnsmasq in the namespace; a service written
with a record the DNS kind cannot ask is a configuration error on the device page while every other check
keeps running."""

from __future__ import annotations

import asyncio
import shutil
import socket
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from infra_monitor.config import load_settings
from infra_monitor.db import make_engine, upgrade
from infra_monitor.scheduler import Poller
from inventory.models import Device, DeviceRole, Interface, IPAddress, Service, Site
from tests.lab.netlab import Lab
from tests.requirements import missing
from tests.users import ADMIN_TOKEN

pytestmark = pytest.mark.lab
OPEN, CLOSED = 8022, 8443
LISTENER = ("import socket, sys, time\n"
            "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
            "s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(64)\n"
            "while True:\n    c, _ = s.accept(); c.close()\n")


def _wait_tcp(addr: str, port: int) -> None:
    for _ in range(100):
        try:
            with socket.create_connection((addr, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {addr}:{port}")


def _inventory(session: Session, host: str) -> tuple[int, dict[str, int]]:
    role, site = DeviceRole(slug="server", name="Server"), Site(slug="dc", name="Trung tâm dữ liệu",
                                                                category="datacenter")
    session.add_all([role, site])
    session.flush()
    device = Device(site_id=site.id, name="srv-portal", role_id=role.id)
    session.add(device)
    session.flush()
    iface = Interface(device_id=device.id, name="eth0")
    session.add(iface)
    session.flush()
    addr = IPAddress(address=f"{host}/32", host=host, interface_id=iface.id)
    session.add(addr)
    session.flush()
    device.primary_ip_id = addr.id
    assert device.id is not None
    services = {
        "ports": Service(device_id=device.id, name="SSH + HTTPS", kind="tcp", ports=[OPEN, CLOSED]),
        "dns": Service(device_id=device.id, name="Portal DNS", kind="dns", ports=[53], dns_name="portal.example",
                       dns_record_type="A", dns_expected=["10.20.30.40"]),
        # written before the rules refused it (as by an old import): the DNS kind cannot ask an SRV question
        "bad": Service(device_id=device.id, name="SIP lookup", kind="dns", dns_name="_sip._udp.example",
                       dns_record_type="SRV"),
    }
    session.add_all(services.values())
    session.commit()
    return device.id, {k: s.id for k, s in services.items() if s.id is not None}


def test_two_ports_two_checks_device_up_and_a_bad_service_is_a_configuration_error(lab: Lab,
                                                                                    tmp_path: Path) -> None:
    dnsmasq = shutil.which("dnsmasq") or shutil.which("/usr/sbin/dnsmasq")
    if dnsmasq is None:
        missing("dnsmasq is not installed (apt-get install -y dnsmasq-base)")
    assert dnsmasq is not None
    (host,) = lab.add_hosts(1)
    lab.popen(sys.executable, "-c", LISTENER, host, str(OPEN))
    lab.popen(dnsmasq, "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--pid-file=",
              f"--listen-address={host}", "--bind-interfaces", "--port=53", "--local=/example/",
              "--host-record=portal.example,10.20.30.40", "--log-facility=-")
    _wait_tcp(host, OPEN)
    url = f"sqlite:///{tmp_path / 'lab.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as s:
        device_id, svc = _inventory(s, host)
    settings = load_settings(None, environ={"INFRA_MONITOR_DATABASE__URL": url,
                                            "INFRA_MONITOR_WEB__ADMIN_TOKEN": ADMIN_TOKEN,
                                            "INFRA_MONITOR_PROBES__TCP__TIMEOUT_S": "1",
                                            "INFRA_MONITOR_PROBES__DNS__TIMEOUT_S": "1"})

    async def sweeps() -> dict[str, tuple[int, int, int]]:
        out = {}
        async with Poller(settings, engine, kinds=("icmp", "tcp", "dns")) as poller:
            for kind in ("icmp", "tcp", "dns"):
                for _ in range(5):  # dnsmasq may still be starting: a first DNS sweep can find nothing listening
                    summary = await poller.sweep(kind)
                    if kind != "dns" or summary.ok:
                        break
                    await asyncio.sleep(0.2)
                out[kind] = (summary.targets, summary.ok, summary.failed)
        return out

    assert asyncio.run(sweeps()) == {"icmp": (1, 1, 0), "tcp": (2, 1, 1), "dns": (1, 1, 0)}

    from web.app import create_app

    with TestClient(create_app(settings, engine), headers={"Authorization": f"Token {ADMIN_TOKEN}"}) as c:
        detail = c.get(f"/api/status/devices/{device_id}").json()
        assert detail["device"]["state"] == "up"  # a service port down is the service's, not the device's
        checks = {ch["check_key"]: ch for ch in detail["checks"]}
        assert set(checks) == {"icmp", f"service:{svc['ports']}:tcp:{OPEN}", f"service:{svc['ports']}:tcp:{CLOSED}",
                               f"service:{svc['dns']}:dns"}
        up, down = checks[f"service:{svc['ports']}:tcp:{OPEN}"], checks[f"service:{svc['ports']}:tcp:{CLOSED}"]
        assert (up["state"], up["availability"], up["service_id"]) == ("up", False, svc["ports"])
        assert up["rtt_ms"] is not None and up["measurements"]["connect_ms"] == up["rtt_ms"]
        assert down["state"] == "down" and down["error"] == f"connect to port {CLOSED} failed: Connection refused"
        dns = checks[f"service:{svc['dns']}:dns"]
        assert dns["state"] == "up" and dns["info"]["answers"] == "10.20.30.40"
        assert checks["icmp"]["availability"] is True and checks["icmp"]["state"] == "up"
        assert [(e["kind"], e["reason"]) for e in detail["config_errors"]] == [
            ("dns", "service 'SIP lookup': record type 'SRV' is not one this prober asks "
                    "(A, NS, CNAME, MX, TXT, AAAA)")]
        page = c.get(f"/devices/{device_id}", params={"lang": "en"}).text
        assert "SIP lookup" in page and f'data-check="service:{svc["ports"]}:tcp:{CLOSED}" data-state="down"' in page
        assert f'data-check="service:{svc["ports"]}:tcp:{OPEN}" data-state="up"' in page
    engine.dispose()

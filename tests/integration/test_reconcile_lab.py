"""Reconciliation in the lab: a real snmpsim agent answers with planted differences from the inventory (a
renamed device, an interface missing in the inventory, one missing on the device, a speed mismatch, an
address the inventory gives another device, an LLDP neighbour contradicting the circuit). The real
``infra-monitor probe --once --kind discovery`` observes it, and ``infra-monitor reconcile --json``, the API
and the page list exactly those differences. An operator accepts values through the API and the page form
(CSRF); the change log records the operator and the observation as source; a stale observation is refused
saying what changed; after the next discovery the accepted differences are gone and nothing else appeared.
On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlmodel import col, select

from infra_monitor.config import load_settings
from infra_monitor.db import make_engine, upgrade
from inventory.changelog import change_context
from inventory.models import (
    Circuit,
    CircuitTermination,
    CircuitType,
    Device,
    DeviceRole,
    DeviceType,
    Interface,
    IPAddress,
    Manufacturer,
    ObjectChange,
    Provider,
    Site,
    SnmpProfile,
)
from tests.lab.data.discovery_rec import LldpRow, RecInterface, discovery_snmprec
from tests.lab.netlab import Lab
from tests.users import PASSWORD, bearer, ensure_user, token_for

pytestmark = pytest.mark.lab
OTHER_ADDRESS = "10.99.0.1"

INTERFACES = [
    RecInterface(1, "Gi0/1", "GigabitEthernet0/1", 1000),
    RecInterface(2, "Gi0/2", "GigabitEthernet0/2", 1000, alias="uplink huyen"),
    RecInterface(3, "Gi0/3", "GigabitEthernet0/3", 100),          # inventory says 1 Gbit/s
    RecInterface(4, "Gi0/4", "GigabitEthernet0/4", 1000, alias="camera"),  # not in the inventory
    RecInterface(5, "Lo0", "Loopback0", 0, if_type=24),           # software loopback: never reported
]
LLDP = [
    LldpRow(2, "Gi0/2", "sw-sai-01", "Gi1/0/24"),                   # the circuit says sw-huyen-01
    LldpRow(3, "Gi0/3", "SW-XA-01.bacgiang.gov.vn", "ge-0/0/1"),    # matches its circuit: no difference
]


def _cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "infra_monitor", *args, "--config", str(config)],
                          capture_output=True, text=True, timeout=120)


def _inventory(engine: Engine, addr: str) -> dict[str, int]:
    with Session(engine) as s, change_context("setup"):
        role = DeviceRole(slug="router", name="Router")
        dc = Site(slug="dc", name="Trung tâm dữ liệu", category="datacenter")
        district = Site(slug="huyen-a", name="Huyện A", category="district")
        commune = Site(slug="xa-a", name="Xã A", category="commune")
        cisco = Manufacturer(slug="cisco", name="Cisco")
        s.add_all([role, dc, district, commune, cisco])
        s.flush()
        dtype = DeviceType(manufacturer_id=cisco.id, model="ISR 4331", slug="isr4331")
        profile = SnmpProfile(name="lab", version="2c", community="public")
        provider, ctype = Provider(slug="vnpt", name="VNPT"), CircuitType(slug="tslcd", name="TSLCD")
        s.add_all([dtype, profile, provider, ctype])
        s.flush()
        core = Device(site_id=dc.id, name="core-bg-01", role_id=role.id, device_type_id=dtype.id,
                      snmp_profile_id=profile.id)
        huyen = Device(site_id=district.id, name="sw-huyen-01", role_id=role.id)
        xa = Device(site_id=commune.id, name="sw-xa-01", role_id=role.id)
        s.add_all([core, huyen, xa])
        s.flush()
        gi = {n: Interface(device_id=core.id, name=n, speed_kbps=speed)
              for n, speed in (("Gi0/1", 1_000_000), ("Gi0/2", None), ("Gi0/3", 1_000_000), ("Gi0/9", 1_000_000))}
        far_huyen, far_xa = Interface(device_id=huyen.id, name="ge-0/0/0"), Interface(device_id=xa.id, name="ge-0/0/1")
        s.add_all([*gi.values(), far_huyen, far_xa])
        s.flush()
        primary = IPAddress(address=f"{addr}/32", interface_id=gi["Gi0/1"].id)
        other = IPAddress(address=f"{OTHER_ADDRESS}/30", interface_id=far_huyen.id)  # but the router has it
        s.add_all([primary, other])
        s.flush()
        core.primary_ip_id = primary.id
        c1 = Circuit(provider_id=provider.id, cid="VNPT-HA-01", type_id=ctype.id, commit_rate_kbps=100_000)
        c2 = Circuit(provider_id=provider.id, cid="VNPT-XA-01", type_id=ctype.id, commit_rate_kbps=50_000)
        s.add_all([c1, c2])
        s.flush()
        s.add_all([
            CircuitTermination(circuit_id=c1.id, term_side="A", site_id=dc.id, device_id=core.id,
                               interface_id=gi["Gi0/2"].id),
            CircuitTermination(circuit_id=c1.id, term_side="Z", site_id=district.id, device_id=huyen.id,
                               interface_id=far_huyen.id),
            CircuitTermination(circuit_id=c2.id, term_side="A", site_id=dc.id, device_id=core.id,
                               interface_id=gi["Gi0/3"].id),
            CircuitTermination(circuit_id=c2.id, term_side="Z", site_id=commune.id, device_id=xa.id,
                               interface_id=far_xa.id),
        ])
        s.commit()
        assert core.id is not None
        return {"core": core.id}


def _planted(addr: str) -> set[tuple[str, str, str | None, str | None]]:
    return {
        ("name", "device", "core-bg-01", "core-bg-02.bacgiang.gov.vn"),
        ("interface_missing_in_inventory", "interface:Gi0/4", None, "Gi0/4 (1000000 kbps)"),
        ("interface_missing_on_device", "interface:Gi0/9", "Gi0/9", None),
        ("speed", "interface:Gi0/3", "1000000", "100000"),
        ("address_other_device", f"address:{OTHER_ADDRESS}", f"{OTHER_ADDRESS}/30 (sw-huyen-01 ge-0/0/0)",
         f"{OTHER_ADDRESS}/30 (Gi0/2)"),
        ("lldp_neighbour", "neighbour:Gi0/2", "sw-huyen-01 (VNPT-HA-01)", "sw-sai-01 (Gi1/0/24)"),
    }


def _diffs(results: list[dict[str, Any]]) -> set[tuple[str, str, str | None, str | None]]:
    return {(d["kind"], d["obj"], d["inventory"], d["observed"]) for r in results for d in r["differences"]}


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html[:300]
    return found.group(1)


def _discover(config: Path) -> None:
    done = _cli(config, "probe", "--once", "--kind", "discovery", "--json")
    assert done.returncode == 0, done.stderr
    assert '"discovery"' in done.stdout


def test_reconciliation_lists_exactly_the_planted_differences_and_an_operator_accepts_them(
        lab: Lab, db_url: str, tmp_path: Path) -> None:
    (addr,) = lab.add_hosts(1)
    sim = lab.start_snmpsim([addr])
    sim.stop()  # serve this test's data instead of the generic router's
    rec = discovery_snmprec("core-bg-02.bacgiang.gov.vn", "1.3.6.1.4.1.9.1.1208", INTERFACES,
                            [(addr, 1, 32), (OTHER_ADDRESS, 2, 30), ("127.0.0.1", 5, 8)], LLDP)
    (sim.workdir / "data" / addr / "public.snmprec").write_text(rec, encoding="utf-8")
    sim.start()
    engine = make_engine(db_url)
    upgrade(engine)
    ids = _inventory(engine, addr)
    config = tmp_path / "lab.toml"
    config.write_text(f'[database]\nurl = "{db_url}"\n[probes.discovery]\ntimeout_s = 2\n', encoding="utf-8")

    _discover(config)
    listed = _cli(config, "reconcile", "--json")
    assert listed.returncode == 0, listed.stderr
    results = json.loads(listed.stdout)
    assert [(r["device"], r["status"]) for r in results] == [("core-bg-01", "differences")]
    assert _diffs(results) == _planted(addr)
    accept_flags = {d["kind"]: d["acceptable"] for d in results[0]["differences"]}
    assert accept_flags == {"name": True, "interface_missing_in_inventory": True, "speed": True,
                            "address_other_device": True, "interface_missing_on_device": False,
                            "lldp_neighbour": False}
    tsv = _cli(config, "reconcile", "--device", "core-bg-01").stdout.splitlines()
    assert tsv[0].split("\t") == ["device", "site", "kind", "object", "inventory", "observed", "acceptable"]
    assert len(tsv) == 1 + 6 + 1
    assert tsv[-1] == "1 device(s) observed, 6 difference(s), 0 device(s) not observed or failed"

    settings = load_settings(config, environ={})
    from web.app import create_app

    app = create_app(settings, engine)
    viewer, operator = token_for(engine, "xem", "viewer"), token_for(engine, "lan", "operator")
    core = ids["core"]
    with TestClient(app, headers=bearer(viewer)) as c:
        body = c.get("/api/reconcile/").json()
        assert body["count"] == 1 and _diffs(body["results"]) == _planted(addr)
        assert body["counts"] == {k: 1 for k, *_ in _planted(addr)}
        assert _diffs([c.get(f"/api/reconcile/devices/{core}").json()]) == _planted(addr)
        page = c.get("/reconcile", params={"lang": "en"}).text
        assert re.findall(r'data-kind="(\w+)" data-obj="([^"]+)"', page) and "Reconciliation" in page
        assert {k for k, _ in re.findall(r'data-kind="(\w+)" data-obj="([^"]+)"', page)} == {
            k for k, *_ in _planted(addr)}
        only_speed = c.get("/reconcile", params={"kind": "speed"}).text
        assert re.findall(r'<span class="badge b-unknown" data-kind="(\w+)"', only_speed) == ["speed"]
        detail = c.get(f"/reconcile/{core}").text
        assert "accept-form" not in detail and 'data-acceptable="yes"' in detail  # a viewer reads only
        refused = c.post("/api/reconcile/accept", json={"device": core, "kind": "speed", "object": "interface:Gi0/3"})
        assert refused.status_code == 403

        op = bearer(operator)
        not_acceptable = c.post("/api/reconcile/accept", headers=op,
                                json={"device": core, "kind": "lldp_neighbour", "object": "neighbour:Gi0/2"})
        assert not_acceptable.status_code == 409 and "person's decision" in not_acceptable.json()["kind"][0]
        seen_wrong = c.post("/api/reconcile/accept", headers=op, json={
            "device": core, "kind": "speed", "object": "interface:Gi0/3", "inventory": "10000"})
        assert seen_wrong.status_code == 409 and "is now '1000000', was '10000'" in seen_wrong.json()["inventory"][0]
        done = c.post("/api/reconcile/accept", headers=op | {"X-Request-ID": "rc-speed-1"}, json={
            "device": core, "kind": "speed", "object": "interface:Gi0/3", "inventory": "1000000"})
        assert done.status_code == 200, done.text
        assert done.json()["source"].startswith("snmp discovery ") and done.json()["object_type"] == "interface"
        assert "speed" not in c.get("/api/reconcile/").json()["counts"]

    with Session(engine) as s:
        change = s.scalars(select(ObjectChange).where(col(ObjectChange.request_id) == "rc-speed-1")).one()
        assert (change.object_type, change.action) == ("interface", "update")
        assert change.actor.startswith("lan (token #")  # the operator's token, as every API write records it
        assert change.source == done.json()["source"]
        assert (change.prechange_data or {})["speed_kbps"] == 1_000_000
        assert (change.postchange_data or {})["speed_kbps"] == 100_000
    listed = _cli(config, "changes", "--request-id", "rc-speed-1", "--json")  # the CLI shows the source too
    assert listed.returncode == 0, listed.stderr
    assert [c["source"] for c in json.loads(listed.stdout)] == [done.json()["source"]]

    ensure_user(engine, "hoa", "operator")
    with TestClient(app, follow_redirects=False) as browser:
        login = browser.get("/login")
        assert browser.post("/login", data={"username": "hoa", "password": PASSWORD, "next": "/",
                                            "csrf_token": _csrf(login.text)}).status_code == 303
        detail = browser.get(f"/reconcile/{core}").text
        assert detail.count('class="inline accept-form"') == 3  # name, the new interface, the address
        form = {"kind": "interface_missing_in_inventory", "obj": "interface:Gi0/4", "inventory": "",
                "has_inventory": "0"}
        assert browser.post(f"/reconcile/{core}/accept", data=form).status_code == 403  # no CSRF token
        posted = browser.post(f"/reconcile/{core}/accept", data=form | {"csrf_token": _csrf(detail)})
        assert posted.status_code == 303, posted.text
        after = browser.get(posted.headers["location"]).text
        assert 'id="reconcile-accepted-note"' in after and 'data-obj="interface:Gi0/4"' not in after
        assert 'data-actor="hoa"' in after and 'data-source="snmp discovery ' in after

        with Session(engine) as s, change_context("admin"):  # someone renames the device meanwhile
            s.scalars(select(Device).where(col(Device.id) == core)).one().name = "core-bg-01b"
            s.commit()
        stale = browser.post(f"/reconcile/{core}/accept", data={
            "kind": "name", "obj": "device", "inventory": "core-bg-01", "has_inventory": "1",
            "csrf_token": _csrf(after)})
        assert stale.status_code == 409
        assert "is stale" in stale.text and "by admin (name &#39;core-bg-01&#39; → &#39;core-bg-01b&#39;)" in stale.text

    with Session(engine) as s:
        new = s.scalars(select(Interface).where(col(Interface.device_id) == core, col(Interface.name) == "Gi0/4")).one()
        assert (new.speed_kbps, new.description, new.type) == (1_000_000, "camera", "1000base-t")
        made = s.scalars(select(ObjectChange).where(col(ObjectChange.object_type) == "interface",
                                                    col(ObjectChange.object_id) == new.id)).one()
        assert made.actor == "hoa" and made.action == "create" and (made.source or "").startswith("snmp discovery ")

    _discover(config)  # a fresh observation: the accepted values are the inventory's now
    again = json.loads(_cli(config, "reconcile", "--json").stdout)
    expected = {d for d in _planted(addr) if d[0] not in ("speed", "interface_missing_in_inventory", "name")}
    expected.add(("name", "device", "core-bg-01b", "core-bg-02.bacgiang.gov.vn"))
    assert _diffs(again) == expected
    with TestClient(app, headers=bearer(operator)) as c:
        renamed = c.post("/api/reconcile/accept", json={"device": core, "kind": "name", "object": "device"})
        assert renamed.status_code == 200, renamed.text
        moved = c.post("/api/reconcile/accept", json={"device": core, "kind": "address_other_device",
                                                       "object": f"address:{OTHER_ADDRESS}"})
        assert moved.status_code == 200, moved.text
    _discover(config)
    final = json.loads(_cli(config, "reconcile", "--json").stdout)
    assert [r["device"] for r in final] == ["core-bg-02"]
    assert _diffs(final) == {d for d in _planted(addr) if d[0] in ("interface_missing_on_device", "lldp_neighbour")}
    engine.dispose()

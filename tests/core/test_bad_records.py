"""One bad inventory record never silences the others (issue 10).

The writers (model rules, used by the API, the importer and the CLI) refuse SNMP profiles whose fields do not
fit their version; target loading skips what it still cannot build (legacy rows written before the rules,
bad custom fields), says so once per device and builds every other target.
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from infra_monitor.cli import app
from infra_monitor.config import Settings, WebConfig
from infra_monitor.db import make_engine, upgrade
from infra_monitor.targets import load_targets
from inventory.importer import import_document
from inventory.models import Device, SnmpProfile
from web.app import create_app

TOKEN = "t0ken-for-bad-record-tests"


def _device(name: str, ip: str, **monitoring: Any) -> dict[str, Any]:
    return {"site": "xa-a", "name": name, "role": "router", "status": "active", "primary_ip": f"{ip}/32",
            "monitoring": {"enabled": True, **monitoring},
            "interfaces": [{"name": "lo0", "type": "virtual", "ip_addresses": [{"address": f"{ip}/32"}]}]}


ADDRESSES = {"good-1": "127.0.0.21", "good-2": "127.0.0.22", "bad-snmp": "127.0.0.23", "bad-fields": "127.0.0.24"}


@pytest.fixture
def listener() -> Iterator[int]:
    """One TCP port open on the loopback address of every device."""
    socks: list[socket.socket] = []
    try:
        for host in ADDRESSES.values():
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, socks[0].getsockname()[1] if socks else 0))
            sock.listen(8)
            socks.append(sock)
        yield socks[0].getsockname()[1]
    finally:
        for sock in socks:
            sock.close()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = make_engine(f"sqlite:///{tmp_path / 'bad.db'}")
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def inventory(engine: Engine, listener: int) -> Engine:
    """Four devices on loopback through the importer; two get bad records the importer cannot write."""
    doc = {
        "sites": [{"slug": "xa-a", "name": "Xã A", "category": "unit", "status": "active"}],
        "device_roles": [{"slug": "router", "name": "Router"}],
        "snmp_profiles": [{"name": "good-v2c", "version": "2c", "community": "public"}],
        "devices": [
            _device("good-1", ADDRESSES["good-1"], snmp_profile="good-v2c"),
            _device("good-2", ADDRESSES["good-2"]),
            _device("bad-snmp", ADDRESSES["bad-snmp"]),
            _device("bad-fields", ADDRESSES["bad-fields"]),
        ],
    }
    with Session(engine) as s:
        report = import_document(s, doc, source="test")
        assert report.ok, [str(e) for e in report.errors]
    with Session(engine) as s:
        # a profile written before the rules refused it: v2c carrying a v3 privacy protocol (Core, no validation)
        legacy_id = s.execute(insert(SnmpProfile.__table__).values(  # type: ignore[arg-type]
            name="legacy-v2c", version="2c", community="public", user="", auth_protocol=None, auth_key="",
            priv_protocol="aes", priv_key="", port=161, description="")).inserted_primary_key[0]
        devices = {d.name: d for d in s.scalars(select(Device))}
        devices["good-1"].custom_fields = {"tcp_ports": [listener], "http_urls": ["http://127.0.0.1:9/"]}
        devices["good-2"].custom_fields = {"tcp_ports": [listener]}
        devices["bad-snmp"].snmp_profile_id = legacy_id
        devices["bad-snmp"].custom_fields = {"tcp_ports": [listener]}
        devices["bad-fields"].custom_fields = {"tcp_ports": ["ssh"], "http_urls": "https://x"}
        s.commit()
    return engine


def _snmp_profile_errors(session: Session, **fields: Any) -> dict[str, list[str]]:
    errors = SnmpProfile(name="p", **fields).clean(session)
    return {k: [m.removeprefix("snmp profile 'p': ") for m in v] for k, v in errors.items()}


@pytest.mark.parametrize(("fields", "bad_fields"), [
    ({"version": "2c", "community": "c", "priv_protocol": "aes"}, {"priv_protocol"}),
    ({"version": "2c", "community": "c", "auth_protocol": "sha", "auth_key": "k" * 8}, {"auth_protocol", "auth_key"}),
    ({"version": "1", "community": "c", "user": "mon"}, {"user"}),
    ({"version": "2c", "community": "c", "priv_key": "k" * 8}, {"priv_key"}),
])
def test_rules_refuse_fields_that_do_not_fit_the_version(engine: Engine, fields: dict[str, Any],
                                                          bad_fields: set[str]) -> None:
    with Session(engine) as s:
        errors = _snmp_profile_errors(s, **fields)
    assert set(errors) == bad_fields, errors
    assert all(isinstance(m, str) and m for msgs in errors.values() for m in msgs)


def test_v2c_errors_name_the_v3_field_and_consistent_profiles_pass(engine: Engine) -> None:
    with Session(engine) as s:
        errors = _snmp_profile_errors(s, version="2c", community="c", priv_protocol="aes")
        ok = [_snmp_profile_errors(s, version="2c", community="public"),
              _snmp_profile_errors(s, version="1", community="public"),
              _snmp_profile_errors(s, version="3", user="u"),
              _snmp_profile_errors(s, version="3", user="u", auth_protocol="sha", auth_key="k" * 8),
              _snmp_profile_errors(s, version="3", user="u", auth_protocol="sha", auth_key="k" * 8,
                                   priv_protocol="aes", priv_key="p" * 8)]
    assert errors == {"priv_protocol": ["SNMPv2c does not use priv_protocol (SNMPv3 only); "
                                        "clear it or set version 3"]}
    assert ok == [{}] * 5  # consistent profiles of every version still pass


def test_api_refuses_v2c_profile_with_priv_protocol(engine: Engine) -> None:
    client = TestClient(create_app(Settings(web=WebConfig(admin_token=TOKEN)), engine))  # the token sent below
    resp = client.post("/api/extras/snmp-profiles/", headers={"Authorization": f"Token {TOKEN}"}, json={
        "name": "mixed", "version": "2c", "community": "public", "priv_protocol": "aes"})
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert "priv_protocol" in body and "SNMPv3 only" in " ".join(body["priv_protocol"])
    with Session(engine) as s:
        assert s.scalars(select(SnmpProfile)).all() == []


def test_import_refuses_v2c_profile_with_priv_protocol(engine: Engine) -> None:
    doc = {"snmp_profiles": [{"name": "mixed", "version": "2c", "community": "public", "priv_protocol": "aes"}]}
    with Session(engine) as s:
        report = import_document(s, doc, source="doc.yaml")
    assert not report.ok
    assert any("priv_protocol" in e.field and "SNMPv3 only" in e.message for e in report.errors), \
        [str(e) for e in report.errors]
    with Session(engine) as s:
        assert s.scalars(select(SnmpProfile)).all() == []


def test_loader_skips_bad_devices_and_builds_the_others(inventory: Engine, listener: int,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    with Session(inventory) as s, caplog.at_level(logging.WARNING, logger="infra_monitor.targets"):
        idx = load_targets(s)
        ids = {d.name: d.id for d in s.scalars(select(Device))}

    assert sorted(t.device for t in idx.targets["icmp"]) == ["bad-fields", "bad-snmp", "good-1", "good-2"]
    assert [t.device for t in idx.targets["snmp"]] == ["good-1"]
    assert sorted(t.device for t in idx.targets["tcp"]) == ["bad-snmp", "good-1", "good-2"]
    assert all(t.param("port") == listener for t in idx.targets["tcp"])
    assert [(t.device, t.param("url")) for t in idx.targets["http"]] == [("good-1", "http://127.0.0.1:9/")]

    skipped = {(dev, kind): reason for dev, kind, reason in idx.skipped}
    # the bad SNMP profile leaves out every kind that speaks SNMP to the device (polling and discovery)
    assert set(skipped) == {(ids["bad-snmp"], "snmp"), (ids["bad-snmp"], "discovery"), (ids["bad-fields"], "tcp"),
                            (ids["bad-fields"], "http")}
    assert "priv_protocol" in skipped[(ids["bad-snmp"], "snmp")]
    assert "priv_protocol" in skipped[(ids["bad-snmp"], "discovery")]
    assert "'ssh'" in skipped[(ids["bad-fields"], "tcp")]
    assert "list" in skipped[(ids["bad-fields"], "http")]
    assert "public" not in " ".join(skipped.values())  # the community never shows

    lines = [r.getMessage() for r in caplog.records if "event=target_skipped" in r.getMessage()]
    assert len(lines) == 2, lines
    by_device = {next(w for w in line.split() if w.startswith("device=")): line for line in lines}
    assert set(by_device) == {"device=bad-snmp", "device=bad-fields"}
    assert "kind=snmp" in by_device["device=bad-snmp"] and "reason=" in by_device["device=bad-snmp"]
    assert "kind=tcp,http" in by_device["device=bad-fields"]


def test_loader_with_one_kind_reports_only_that_kind(inventory: Engine) -> None:
    with Session(inventory) as s:
        idx = load_targets(s, kinds=("tcp",))
    assert [kind for _, kind, _ in idx.skipped] == ["tcp"]


def _cli_env(monkeypatch: pytest.MonkeyPatch, engine: Engine) -> None:
    monkeypatch.setenv("INFRA_MONITOR_DATABASE__URL", str(engine.url))
    for kind in ("TCP", "SNMP"):
        monkeypatch.setenv(f"INFRA_MONITOR_PROBES__{kind}__TIMEOUT_S", "0.5")
        monkeypatch.setenv(f"INFRA_MONITOR_PROBES__{kind}__RETRIES", "1")


def test_probe_once_tcp_probes_the_good_devices(inventory: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    _cli_env(monkeypatch, inventory)
    result = CliRunner().invoke(app, ["probe", "--once", "--kind", "tcp", "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert sorted(o["device"] for o in lines) == ["bad-snmp", "good-1", "good-2"]
    assert all(o["success"] for o in lines), lines


def test_probe_once_snmp_is_not_killed_by_a_legacy_profile(inventory: Engine,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    _cli_env(monkeypatch, inventory)
    result = CliRunner().invoke(app, ["probe", "--once", "--kind", "snmp", "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [o["device"] for o in lines] == ["good-1"]


def test_the_device_page_shows_what_the_poller_leaves_out(inventory: Engine) -> None:
    """The operator sees the configuration error where they look: on the device's page and in its JSON."""
    app = create_app(Settings(web=WebConfig(admin_token=TOKEN)), inventory)
    client = TestClient(app, headers={"Authorization": f"Token {TOKEN}"})
    with Session(inventory) as s:
        ids = {d.name: d.id for d in s.scalars(select(Device))}
    page = client.get(f"/devices/{ids['bad-fields']}")
    assert page.status_code == 200 and 'id="config-errors"' in page.text
    assert "tcp_ports: not ports (1..65535)" in page.text and "http_urls" in page.text
    detail = client.get(f"/api/status/devices/{ids['bad-fields']}").json()
    assert {e["kind"] for e in detail["config_errors"]} == {"tcp", "http"}
    snmp = client.get(f"/api/status/devices/{ids['bad-snmp']}").json()["config_errors"]
    assert [e["kind"] for e in snmp] == ["snmp", "discovery"] and "public" not in " ".join(e["reason"] for e in snmp)
    good = client.get(f"/devices/{ids['good-1']}")
    assert good.status_code == 200 and 'id="config-errors"' not in good.text
    assert client.get(f"/api/status/devices/{ids['good-1']}").json()["config_errors"] == []

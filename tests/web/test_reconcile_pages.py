"""The reconciliation surfaces against a real snmpsim agent on 127.0.0.1 (no namespace needed): an agent that
offers no LLDP-MIB and no IP-MIB is observed without error (the observation says so in its notes), a device
whose agent is silent is listed with its discovery error; the pages show no text that did not go through a
translation in either language; the API refuses bad input naming the field; the CLI speaks the chosen
language on a terminal table and refuses an unknown device or kind with exit 2."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from infra_monitor.cli import app as cli_app
from infra_monitor.config import Settings, load_settings
from infra_monitor.db import make_engine, upgrade
from infra_monitor.i18n import PSEUDO_OPEN
from infra_monitor.storage.models import LatestResult
from inventory.changelog import change_context
from inventory.models import Device, DeviceRole, Interface, IPAddress, Site, SnmpProfile
from tests.core.test_cli_language import _data_words as typed_words
from tests.core.test_cli_language import _unmarked, on_terminal
from tests.lab.data.discovery_rec import RecInterface, discovery_snmprec
from tests.requirements import missing
from tests.users import bearer, token_for
from tests.web.test_translations import DURATION_WORDS, NAMES, SYMBOLS, _data_words, _unmarked_words, pseudo

__all__ = ["pseudo"]


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Env:
    db: Path
    engine: Engine
    settings: Settings
    config: Path
    edge: int
    silent: int


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[int]:
    """snmpsim on 127.0.0.1:<port> serving an edge router with IF-MIB only (no IP-MIB, no LLDP-MIB)."""
    probe = subprocess.run([sys.executable, "-c", "import snmpsim.commands.responder"], capture_output=True)
    if probe.returncode != 0:
        missing("snmpsim is not importable (pip install snmpsim)")
    data = tmp_path / "snmpsim" / "data"
    data.mkdir(parents=True)
    (tmp_path / "snmpsim" / "cache").mkdir()
    (data / "public.snmprec").write_text(discovery_snmprec(
        "edge-01", "1.3.6.1.4.1.14988.1", [RecInterface(1, "ether1", "ether1", 1000),
                                          RecInterface(2, "ether2", "ether2", 100)], [], []), encoding="utf-8")
    port = _free_udp_port()
    proc = subprocess.Popen([sys.executable, "-m", "snmpsim.commands.responder", "--log-level=error",
                             "--data-dir", str(data), f"--agent-udpv4-endpoint=127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "SNMPSIM_ALLOW_ROOT": "true",
                                 "TMPDIR": str(tmp_path / "snmpsim" / "cache")})
    try:
        for _ in range(300):
            done = subprocess.run(["snmpget", "-v2c", "-c", "public", "-r0", "-t0.3", "-Oqv", f"127.0.0.1:{port}",
                                   "1.3.6.1.2.1.1.5.0"], capture_output=True, text=True)
            if done.returncode == 0 and "edge-01" in done.stdout:
                break
            if proc.poll() is not None:
                pytest.fail("snmpsim exited during startup")
            time.sleep(0.1)
        else:
            pytest.fail("snmpsim did not answer on 127.0.0.1")
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=5)


@pytest.fixture
def env(agent: int, tmp_path: Path) -> Iterator[Env]:
    url = f"sqlite:///{tmp_path / 'rc.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as s, change_context("setup"):
        role, site = DeviceRole(slug="router", name="Router"), Site(slug="xa-a", name="Xã A", category="commune")
        live = SnmpProfile(name="sim", version="2c", community="public", port=agent)
        dead = SnmpProfile(name="dead", version="2c", community="public", port=_free_udp_port())
        s.add_all([role, site, live, dead])
        s.flush()
        edge = Device(site_id=site.id, name="edge-01", role_id=role.id, snmp_profile_id=live.id)
        quiet = Device(site_id=site.id, name="edge-02", role_id=role.id, snmp_profile_id=dead.id)
        s.add_all([edge, quiet])
        s.flush()
        ether1 = Interface(device_id=edge.id, name="ether1", speed_kbps=100_000)  # the agent says 1 Gbit/s
        eth_quiet = Interface(device_id=quiet.id, name="ether1")
        s.add_all([ether1, eth_quiet])
        s.flush()
        a1 = IPAddress(address="127.0.0.1/8", interface_id=ether1.id)
        a2 = IPAddress(address="127.0.0.2/8", interface_id=eth_quiet.id)
        s.add_all([a1, a2])
        s.flush()
        edge.primary_ip_id, quiet.primary_ip_id = a1.id, a2.id
        s.commit()
        assert edge.id is not None and quiet.id is not None
        ids = (edge.id, quiet.id)
    config = tmp_path / "rc.toml"
    config.write_text(f'[database]\nurl = "{url}"\n[probes.discovery]\ntimeout_s = 0.5\nsnmp_retries = 0\n',
                      encoding="utf-8")
    settings = load_settings(config, environ={})
    out = CliRunner().invoke(cli_app, ["probe", "--once", "--kind", "discovery", "--json", "--config", str(config)])
    assert out.exit_code == 0, out.output
    yield Env(tmp_path / "rc.db", engine, settings, config, *ids)
    engine.dispose()


def test_an_agent_without_lldp_and_ip_mib_is_observed_and_a_silent_one_is_listed_with_its_error(env: Env) -> None:
    with Session(env.engine) as s:
        row = s.get(LatestResult, (env.edge, "discovery"))
        assert row is not None and row.success and row.availability is False
        info = row.info or {}
        obs = json.loads(info["observation"])
        assert (obs["schema"], obs["sys_name"], obs["manufacturer"]) == (1, "edge-01", "MikroTik")
        assert [(i["name"], i["speed_kbps"], i["oper"], i["mac"]) for i in obs["interfaces"]] == [
            ("ether1", 1_000_000, "up", "02:00:00:00:00:01"), ("ether2", 100_000, "up", "02:00:00:00:00:02")]
        assert obs["notes"] == ["no IP-MIB ipAddrTable nor ipAddressTable", "no LLDP-MIB lldpRemTable"]
        assert info["notes"] == "; ".join(obs["notes"]) and obs["addresses"] == obs["neighbours"] == []
        silent = s.get(LatestResult, (env.silent, "discovery"))
        assert silent is not None and not silent.success and silent.error
    runner = CliRunner()
    listed = runner.invoke(cli_app, ["reconcile", "--json", "--config", str(env.config)])
    assert listed.exit_code == 0, listed.output
    items = {i["device"]: i for i in json.loads(listed.stdout)}
    assert items["edge-02"]["status"] == "failed" and items["edge-02"]["differences"] == []
    assert [(d["kind"], d["obj"], d["inventory"], d["observed"]) for d in items["edge-01"]["differences"]] == [
        ("speed", "interface:ether1", "100000", "1000000"),
        ("interface_missing_in_inventory", "interface:ether2", None, "ether2 (100000 kbps)")]


def test_cli_table_follows_the_language_and_bad_options_exit_2(env: Env) -> None:
    runner = CliRunner()
    wide = {"COLUMNS": "250"}  # rich wraps cells to the terminal's width
    en = runner.invoke(cli_app, ["--lang", "en", "reconcile", "--format", "table", "--config", str(env.config)],
                       env=wide)
    assert en.exit_code == 0 and "Kind of difference" in en.output and "speed differs" in en.output
    assert "edge-02: " in en.output and "1 device(s) observed, 2 difference(s), 1 device(s)" in en.output
    vi = runner.invoke(cli_app, ["--lang", "vi", "reconcile", "--format", "table", "--config", str(env.config)],
                       env=wide)
    assert "Loại sai khác" in vi.output and "tốc độ khác nhau" in vi.output
    only = runner.invoke(cli_app, ["reconcile", "--device", "xa-a/edge-01", "--kind", "speed", "--format", "tsv",
                                   "--config", str(env.config)])
    assert only.stdout.splitlines()[1].split("\t") == ["edge-01", "xa-a", "speed", "interface:ether1", "100000",
                                                      "1000000", "yes"]
    unknown = runner.invoke(cli_app, ["--lang", "en", "reconcile", "--device", "edge-09", "--config", str(env.config)])
    assert unknown.exit_code == 2 and "no device named 'edge-09'" in unknown.output
    bad_kind = runner.invoke(cli_app, ["--lang", "en", "reconcile", "--kind", "colour", "--config", str(env.config)])
    assert bad_kind.exit_code == 2 and "colour is not a kind of difference" in bad_kind.output


def test_api_reads_for_viewers_and_refuses_bad_accepts_naming_the_field(env: Env) -> None:
    from web.app import create_app

    viewer, operator = token_for(env.engine, "xem", "viewer"), token_for(env.engine, "lan", "operator")
    with TestClient(create_app(env.settings, env.engine)) as c:
        assert c.get("/api/reconcile/").status_code == 401
        listed = c.get("/api/reconcile/", params={"kind": "speed"}, headers=bearer(viewer)).json()
        assert listed["counts"] == {"speed": 1} and listed["count"] == 2
        bad_kind = c.get("/api/reconcile/", params={"kind": "colour"}, headers=bearer(viewer))
        assert bad_kind.status_code == 422  # the spec lists the kinds; the answer names the parameter and them
        assert bad_kind.json()["detail"][0]["loc"][:2] == ["query", "kind"] and "speed" in bad_kind.text
        assert c.get("/api/reconcile/devices/999", headers=bearer(viewer)).status_code == 404
        op = bearer(operator)
        bad = c.post("/api/reconcile/accept", headers=op, json={"device": "edge-01", "kind": "size", "colour": 1})
        assert bad.status_code == 400 and set(bad.json()) == {"device", "kind", "object", "colour"}
        assert c.post("/api/reconcile/accept", headers=op, content=b"{").status_code == 400
        failed = c.post("/api/reconcile/accept", headers=op, json={"device": env.silent, "kind": "speed",
                                                                  "object": "interface:ether1"})
        assert failed.status_code == 404 and "no usable discovery observation" in failed.json()["device"][0]
        gone = c.post("/api/reconcile/accept", headers=op, json={"device": env.edge, "kind": "name",
                                                                "object": "device"})
        assert gone.status_code == 404 and "has no 'name' difference" in gone.json()["non_field_errors"][0]
        made = c.post("/api/reconcile/accept", headers=op, json={"device": env.edge, "kind": "speed",
                                                                "object": "interface:ether1", "inventory": "100000"})
        assert made.status_code == 200 and made.json()["difference"]["observed"] == "1000000"


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_reconcile_pages_show_no_text_that_did_not_go_through_a_translation(env: Env, pseudo: None,
                                                                            lang: str) -> None:
    from web.app import create_app

    viewer = token_for(env.engine, "xem", "viewer")
    allowed = _data_words(env.engine, env.settings) | SYMBOLS | DURATION_WORDS | NAMES
    with TestClient(create_app(env.settings, env.engine), headers=bearer(viewer)) as c:
        found = {}
        for path in ("/reconcile", "/reconcile?kind=speed", f"/reconcile/{env.edge}", f"/reconcile/{env.silent}"):
            r = c.get(path, params={"lang": lang})
            assert r.status_code == 200, path
            words = {w for w in _unmarked_words(r.text) if w not in allowed}
            if words:
                found[path] = words
        assert 'data-kind="speed"' in c.get(f"/reconcile/{env.edge}").text
    assert found == {}, f"text shown without a translation ({lang}): {found}"


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_cli_table_shows_no_word_that_did_not_go_through_a_translation(env: Env, lang: str) -> None:
    shown = on_terminal(env.db, "--lang", lang, "reconcile", INFRA_MONITOR_PSEUDO_I18N="1")
    assert PSEUDO_OPEN in shown and "ether2" in shown
    assert _unmarked(shown) - typed_words(env.db) - {"kbps"} == set()

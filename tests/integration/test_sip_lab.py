"""SIP and H.323 checks of videoconference endpoints in the lab, through the real CLI.

In a lab namespace: Debian's ``sipp`` in server mode answers OPTIONS with 200, 486 and 503 (scenarios in
tests/lab/sip/), over UDP on three addresses and over TCP on three others; a UDP socket of our own counts
what reaches a silent endpoint (it never answers, so the prober retransmits); a TCP listener accepts and
says nothing; an H.323 endpoint is a listener on 1720, and another codec has nothing there.
``infra-monitor probe --once --kind icmp --kind sip --kind h323 --json`` checks them all and stores one
result per check (``vc:<endpoint>:sip``/``:h323`` with the SIP code in its measurements); the busy codec's
device stays UP (ICMP decides that), and the videoconference list and device page show the check."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from infra_monitor.config import load_settings
from infra_monitor.db import make_engine, upgrade
from infra_monitor.storage.models import LatestResult
from tests.lab.netlab import Lab
from tests.probes.vc_inventory import Codec, add_codecs
from tests.requirements import missing
from tests.users import ADMIN_TOKEN

pytestmark = pytest.mark.lab
ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "tests" / "lab" / "sip"
COUNTER = ("import socket, sys\n"  # a silent SIP endpoint: counts the datagrams it receives, never answers
           "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((sys.argv[1], 5060))\n"
           "n = 0\n"
           "while True:\n"
           "    data, _ = s.recvfrom(65535)\n"
           "    n += data.startswith(b'OPTIONS ')\n"
           "    open(sys.argv[2], 'w').write(str(n))\n")
LISTENER = ("import socket, sys\n"  # accepts connections and keeps them open without a word
            "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
            "s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(64)\n"
            "held = []\n"
            "while True:\n    held.append(s.accept()[0])\n")


def _listening(lab: Lab, proto: str, addr: str, port: int) -> None:
    """Wait until something listens on addr:port (``ss`` in the namespace: nothing is sent to it)."""
    for _ in range(200):
        out = lab.run("ss", "-Hln", f"--{proto}").stdout
        if f"{addr}:{port} " in out:
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {proto} {addr}:{port}")


def test_sip_and_h323_endpoints_are_checked_stored_and_shown(lab: Lab, tmp_path: Path) -> None:
    if shutil.which("sipp") is None:
        missing("sipp is not installed (apt-get install -y sip-tester)")
    hosts = lab.add_hosts(10)
    names = ("u200", "u486", "u503", "t200", "t486", "t503", "usilent", "tsilent", "h323-on", "h323-off")
    addr = dict(zip(names, hosts, strict=True))
    logs: dict[str, Path] = {}
    for name in names[:6]:
        scenario, transport = name[1:], {"u": "u1", "t": "t1"}[name[0]]
        logs[name] = tmp_path / f"sipp-{name}.log"
        lab.popen("sipp", "-sf", str(SCENARIOS / f"options_{scenario}.xml"), "-i", addr[name], "-p", "5060",
                  "-t", transport, "-nostdin", "-trace_msg", "-message_file", str(logs[name]),
                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path)
    counted = tmp_path / "silent-count"
    lab.popen(sys.executable, "-c", COUNTER, addr["usilent"], str(counted))
    lab.popen(sys.executable, "-c", LISTENER, addr["tsilent"], "5060")
    lab.popen(sys.executable, "-c", LISTENER, addr["h323-on"], "1720")
    for name in names[:8]:
        _listening(lab, "udp" if name[0] == "u" else "tcp", addr[name], 5060)
    _listening(lab, "tcp", addr["h323-on"], 1720)

    url = f"sqlite:///{tmp_path / 'vc.db'}"
    engine = make_engine(url)
    upgrade(engine)
    codecs = [Codec(n, addr[n], "sip", f"sip:{n}@{addr[n]}" + (";transport=tcp" if n[0] == "t" else ""))
              for n in names[:8]]
    codecs += [Codec(n, addr[n], "h323", "") for n in names[8:]]
    with Session(engine) as s:
        ids = add_codecs(s, codecs)
    config = tmp_path / "vc.toml"
    config.write_text(f'[database]\nurl = "{url}"\n[web]\nadmin_token = "{ADMIN_TOKEN}"\n'
                      "[probes.icmp]\ntimeout_s = 1\n"
                      "[probes.sip]\nt1_ms = 100\nt2_ms = 400\ntimeout_s = 1\n"
                      "[probes.h323]\ntimeout_s = 1\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("INFRA_MONITOR_")}
    done = subprocess.run([sys.executable, "-m", "infra_monitor", "probe", "--once", "--kind", "icmp", "--kind",
                           "sip", "--kind", "h323", "--json", "--config", str(config)],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    results: dict[str, dict[str, Any]] = {r["check"]: r for r in lines if r["kind"] != "icmp"}

    def sip(name: str) -> dict[str, Any]:
        return results[f"vc:{ids[name][1]}:sip"]

    for name in ("u200", "t200"):
        r = sip(name)
        assert r["success"] is True and r["error"] is None, r
        assert r["measurements"]["code"] == 200 and r["info"]["answer"] == "ready"
        assert r["info"]["server"] == "sipp-lab-200" and r["availability"] is False
    for name, code, error in (("u486", 486, "SIP busy: 486 Busy Here"), ("t486", 486, "SIP busy: 486 Busy Here"),
                              ("u503", 503, "SIP unavailable: 503 Service Unavailable"),
                              ("t503", 503, "SIP unavailable: 503 Service Unavailable")):
        r = sip(name)
        assert (r["success"], r["error"], r["measurements"]["code"]) == (False, error, code), r
    assert sip("u486")["info"]["answer"] == "busy" and sip("u503")["info"]["answer"] == "unavailable"
    assert sip("t200")["info"]["transport"] == "tcp" and sip("u200")["info"]["transport"] == "udp"
    # sipp received exactly one OPTIONS for an answered UDP check: no needless retransmission
    assert logs["u200"].read_text(errors="replace").count("UDP message received") == 1
    assert sip("u200")["measurements"]["retransmissions"] == 0

    silent = sip("usilent")
    transmissions = int(silent["measurements"]["retransmissions"]) + 1
    for _ in range(40):  # the last datagram may still be on its way
        if counted.exists() and counted.read_text() == str(transmissions):
            break
        time.sleep(0.05)
    # Timer E: sent at 0, 0.1, 0.3, 0.7 s within the 1 s timeout; the peer counted every one
    assert counted.read_text() == str(transmissions) and 2 <= transmissions <= 4
    assert silent["error"] == f"no answer after {transmissions} transmissions to {addr['usilent']}:5060"
    assert sip("tsilent")["error"] == f"no answer over TCP from {addr['tsilent']}:5060 within 1s"

    on, off = results[f"vc:{ids['h323-on'][1]}:h323"], results[f"vc:{ids['h323-off'][1]}:h323"]
    assert on["success"] is True and on["measurements"]["connect_ms"] > 0
    assert off["error"] == "connect to port 1720 failed: Connection refused"

    with Session(engine) as s:
        stored = {r.check_key: r for r in s.execute(
            select(LatestResult).where(LatestResult.check_key.like("vc:%"))).scalars()}  # type: ignore[attr-defined]
    assert set(stored) == set(results)
    busy = stored[f"vc:{ids['u486'][1]}:sip"]
    assert (busy.kind, busy.success, busy.availability) == ("sip", False, False)
    assert busy.measurements is not None and busy.measurements["code"] == 486
    assert busy.device_id == ids["u486"][0] and busy.info is not None and busy.info["answer"] == "busy"

    from web.app import create_app

    settings = load_settings(config, environ={})
    with TestClient(create_app(settings, engine), headers={"Authorization": f"Token {ADMIN_TOKEN}"}) as c:
        detail = c.get(f"/api/status/devices/{ids['u486'][0]}").json()
        assert detail["device"]["state"] == "up"  # a busy codec is not an unreachable device
        checks = {ch["check_key"]: ch for ch in detail["checks"]}
        assert checks[f"vc:{ids['u486'][1]}:sip"]["state"] == "down"
        assert checks[f"vc:{ids['u486'][1]}:sip"]["measurements"]["code"] == 486
        page = c.get(f"/devices/{ids['u486'][0]}", params={"lang": "en"}).text
        assert f'data-check="vc:{ids["u486"][1]}:sip" data-state="down"' in page and "endpoint busy: 486" in page
        listing = c.get("/inventory/vc", params={"lang": "en", "per_page": 50}).text
        assert 'data-vc-check="busy" data-vc-code="486"' in listing and "Busy (486)" in listing
        assert 'data-vc-check="ready" data-vc-code="200"' in listing and "Ready (200)" in listing
        assert 'data-vc-check="no_answer"' in listing and 'data-vc-check="down"' in listing
        vi = c.get("/inventory/vc", params={"lang": "vi", "per_page": 50}).text
        assert "Đang bận (486)" in vi and "Chưa sẵn sàng (503)" in vi
    engine.dispose()

"""Meeting readiness in the lab, end to end with real probes: every address lives in a lab namespace, SIP
endpoints are real ``sipp`` peers (tests/lab/sip/), the status engine's states come from real ICMP sweeps of
the poller (as the outage lab does) and the saturated link from interface rollups as the pipeline writes them.

Five communes, each with its own trouble:
    xa-000  everything answers (sipp 200)                → ready
    xa-001  codec address silent                          → codec silent
    xa-002  sipp answers 486 Busy Here                    → SIP busy
    xa-003  commune router and codec cut off while d215-rt is DOWN → codec silent, unreachable behind d215-rt
    xa-004  uplink at 96 % of its 100 Mbit/s              → link saturated
then the MCU goes silent: every room is not ready, xa-000 and xa-004 "newly not ready" only for the MCU.
The board (page, API, CLI) lists exactly those rooms with those reasons.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from infra_monitor.cli import app as cli_app
from infra_monitor.config import Settings, load_settings
from infra_monitor.db import make_engine, upgrade
from infra_monitor.scheduler import Poller
from inventory.models import Device, IPAddress
from tests.meetings.setup import meeting_with_check
from tests.users import ADMIN_TOKEN
from tests.web.builders import Province

pytestmark = pytest.mark.lab
SIP_DIR = Path(__file__).resolve().parents[1] / "lab" / "sip"
runner = CliRunner()


def _sipp(lab: Any, addr: str, scenario: str) -> subprocess.Popen[Any]:
    proc = lab.popen("sipp", "-sf", str(SIP_DIR / scenario), "-i", addr, "-p", "5060", "-t", "u1", "-nostdin",
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=str(lab.tmpdir))
    for _ in range(200):   # wait until it listens (not a timed assertion: at most ~10 s, then fail)
        if f"{addr}:5060" in lab.run("ss", "-Hlun").stdout:
            return proc
        if proc.poll() is not None:
            break
        asyncio.run(asyncio.sleep(0.05))
    raise AssertionError(f"sipp {scenario} did not start listening on {addr}:5060")


@pytest.fixture
def world(lab: Any, tmp_path: Path) -> Iterator[tuple[Any, Province, Settings, Path, dict[str, str]]]:
    url = f"sqlite:///{tmp_path / 'lab.db'}"
    engine: Engine = make_engine(url)
    upgrade(engine)
    p = Province.build(engine, communes=5)
    names = ["dc-core-01", "d213-rt", "d215-rt"] + [f"xa-{k:03d}-{r}" for k in range(5) for r in ("rt", "vc")]
    hosts = lab.add_hosts(len(names) - 1)
    silent = lab.silent_addresses(1)[0]
    ips = {}
    it = iter(hosts)
    for name in names:
        ips[name] = silent if name == "xa-001-vc" else next(it)
    with engine.begin() as conn:
        for name, addr in ips.items():
            ip_id = conn.execute(Device.__table__.select().where(Device.__table__.c.name == name)  # type: ignore[attr-defined]
                                 ).one().primary_ip_id
            conn.execute(update(IPAddress).where(IPAddress.id == ip_id).values(host=addr, address=f"{addr}/32"))  # type: ignore[arg-type]
    for name, scenario in (("xa-000-vc", "options_200.xml"), ("xa-002-vc", "options_486.xml"),
                           ("xa-003-vc", "options_200.xml"), ("xa-004-vc", "options_200.xml")):
        _sipp(lab, ips[name], scenario)
    p.traffic([p.commune_interfaces[4]], bps=96e6)
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{url}"\n[web]\nadmin_token = "{ADMIN_TOKEN}"\n'
                      '[probes.icmp]\nretries = 1\ninterval_s = 5\ntimeout_s = 1\n'
                      '[probes.sip]\ntimeout_s = 2\n', encoding="utf-8")
    settings = load_settings(config, environ={})
    try:
        yield lab, p, settings, config, ips
    finally:
        engine.dispose()


async def _sweeps(settings: Settings, engine: Engine, n: int) -> None:
    async with Poller(settings, engine, kinds=("icmp",)) as poller:
        for _ in range(n):
            await poller.sweep("icmp")


def _reasons(board: dict[str, Any]) -> dict[str, list[str]]:
    return {r["device"]: [x["code"] for x in r["reasons"]] for r in board["rooms"]}


def test_the_board_lists_each_planted_trouble_with_its_reason(
        world: tuple[Any, Province, Settings, Path, dict[str, str]]) -> None:
    lab, p, settings, config, ips = world
    for name in ("d215-rt", "xa-003-rt", "xa-003-vc"):
        lab.host_down(ips[name])
    asyncio.run(_sweeps(settings, p.engine, 2))   # hard states from the status engine
    meeting_id = meeting_with_check(p, settings, minutes=50, title="Họp trực tuyến toàn tỉnh")  # a stored check
    cli = runner.invoke(cli_app, ["--lang", "en", "meeting", "check", str(meeting_id), "--format", "json",
                                  "--config", str(config)])
    assert cli.exit_code == 0, cli.output
    board = json.loads(cli.stdout)
    assert _reasons(board) == {"xa-000-vc": [], "xa-001-vc": ["codec_silent"], "xa-002-vc": ["sip_busy"],
                               "xa-003-vc": ["codec_silent", "site_unreachable"],
                               "xa-004-vc": ["link_saturated"]}
    rooms = {r["device"]: r for r in board["rooms"]}
    assert rooms["xa-003-vc"]["reasons"][1] == {"code": "site_unreachable", "router": "xa-003-rt",
                                                "district_router": "d215-rt"}
    assert rooms["xa-004-vc"]["reasons"][0] == {"code": "link_saturated", "cid": "TSLCD-07004", "pct": 96.0,
                                                "rate_mbps": 100.0}
    assert (board["ready"], board["not_ready"]) == (1, 4) and board["mcu_ok"] is True

    from web.app import create_app

    with TestClient(create_app(settings, p.engine), headers={"Authorization": f"Token {ADMIN_TOKEN}"}) as client:
        api = client.get(f"/api/vc/meetings/{meeting_id}/readiness").json()
        assert _reasons(api) == _reasons(board)
        html = client.get(f"/meetings/{meeting_id}?lang=en").text
        assert html.count('data-ready="no"') == 4 and html.count('data-ready="yes"') == 1
        assert "Site unreachable behind d215-rt" in html and "SIP busy (486)" in html
        assert "Link TSLCD-07004 saturated: 96.0 % of 100.0 Mbit/s" in html

        # the MCU goes silent: every room not ready, the MCU named, and what changed since the previous check
        lab.host_down(ips["dc-core-01"])
        again = runner.invoke(cli_app, ["--lang", "en", "meeting", "check", str(meeting_id), "--format", "json",
                                        "--config", str(config)])
        assert again.exit_code == 0, again.output
        after = json.loads(again.stdout)
        assert after["not_ready"] == 5 and after["mcu_ok"] is False
        assert all(r["reasons"][-1] == {"code": "mcu_down", "mcu": "dc-core-01"} for r in after["rooms"])
        assert {r["device"]: r["change"] for r in after["rooms"]} == {
            "xa-000-vc": "newly_not_ready", "xa-001-vc": "still_not_ready", "xa-002-vc": "still_not_ready",
            "xa-003-vc": "still_not_ready", "xa-004-vc": "still_not_ready"}
        html = client.get(f"/meetings/{meeting_id}?lang=en").text
        assert "MCU dc-core-01 down" in html and 'id="newly-not-ready"' in html
        shown = runner.invoke(cli_app, ["--lang", "en", "meeting", "show", str(meeting_id), "--format", "tsv",
                                        "--config", str(config)]).stdout
        assert "xa-000-vc\tnot_ready\tmcu_down\tnewly_not_ready" in shown

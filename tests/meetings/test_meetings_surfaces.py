"""Meetings through the API and the CLI on SQLite and PostgreSQL, with a readiness check that really probes:
codecs on loopback answering ICMP, real SIP peers answering 200/486/503, a commune cut off behind its DOWN
district router (states as the status engine writes them), a link at 95 % of its committed rate (interface
rollups as the pipeline writes them), the MCU (the data center's core router) answering."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlmodel import col
from typer.testing import CliRunner

from infra_monitor.cli import app as cli_app
from infra_monitor.config import Settings, load_settings
from infra_monitor.status.store.models import NotificationRow
from inventory.models import Device, IPAddress
from tests.meetings.sip_peer import SipPeer
from tests.users import ADMIN_TOKEN
from tests.web.builders import Province

runner = CliRunner()


def codec_address(engine: Engine, device_id: int) -> str:
    with Session(engine) as s:
        return str(s.execute(select(col(IPAddress.host)).join(Device, col(Device.primary_ip_id) == col(IPAddress.id))
                             .where(col(Device.id) == device_id)).scalar_one())


@pytest.fixture
def world(migrated_engine: Engine, db_url: str, tmp_path: Path) -> Iterator[tuple[Province, Path, Settings]]:
    p = Province.build(migrated_engine, communes=4)
    # xa-003 sits behind district 215 (odd communes): its router UNREACHABLE behind the DOWN district router
    p.set_state(p.district_routers[1], "down")
    p.set_state(p.commune_routers[3], "unreachable", cause="parent_unreachable", root=p.district_routers[1])
    p.traffic([p.commune_interfaces[2]], bps=95e6)   # 95 % of xa-002's 100 Mbit/s
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{db_url}"\n[web]\nadmin_token = "{ADMIN_TOKEN}"\n'
                      '[probes.sip]\ntimeout_s = 2.0\n'
                      '[[notifications.webhooks]]\nname = "ops"\nurl = "http://127.0.0.1:9/hook"\n', encoding="utf-8")
    settings = load_settings(config, environ={})
    peers = [SipPeer(codec_address(migrated_engine, vc), status)
             for vc, status in zip(p.vc_devices, ("200 OK", "486 Busy Here", "200 OK", "503 Service Unavailable"),
                                   strict=True)]
    try:
        yield p, config, settings
    finally:
        for peer in peers:
            peer.close()


@pytest.fixture
def client(world: tuple[Province, Path, Settings]) -> Iterator[TestClient]:
    from web.app import create_app

    p, _config, settings = world
    with TestClient(create_app(settings, p.engine), headers={"Authorization": f"Token {ADMIN_TOKEN}"}) as c:
        yield c


def cli(config: Path, *args: str, code: int = 0) -> str:
    result = runner.invoke(cli_app, ["--lang", "en", *args, "--config", str(config)])
    assert result.exit_code == code, result.output
    return result.stdout


def soon(minutes: int = 30) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()


def test_the_api_refuses_a_meeting_that_breaks_the_rules_naming_each_field(client: TestClient) -> None:
    r = client.post("/api/vc/meetings/", json={"title": "Họp", "start": "2020-01-01T08:00:00+07:00",
                                               "duration_min": 0, "mcu": "no-such-mcu", "participants": []})
    assert r.status_code == 400
    assert set(r.json()) == {"start", "duration_min", "mcu", "participants"}
    r = client.post("/api/vc/meetings/", json={"title": "Họp", "start": soon(), "mcu": "dc-core-01",
                                               "participants": [{"site": "atlantis"}, {"level": "hamlet"}]})
    assert r.status_code == 400 and set(r.json()) == {"participants[0]", "participants[1]"}


def test_api_create_get_update_delete_and_check_requests(client: TestClient, world: tuple[Province, Path, Settings]
                                                          ) -> None:
    p = world[0]
    r = client.post("/api/vc/meetings/", json={"title": "Giao ban", "start": soon(), "duration_min": 90,
                                               "mcu": "dc-core-01", "participants": [{"level": "commune",
                                                                                      "district": "213"}]})
    assert r.status_code == 201, r.text
    mid = r.json()["id"]
    assert r.json()["participants"][0]["level"] == "commune" and r.json()["mcu"]["name"] == "dc-core-01"
    listed = client.get("/api/vc/meetings/").json()
    assert listed["count"] == 1 and listed["results"][0]["title"] == "Giao ban"
    assert client.patch(f"/api/vc/meetings/{mid}/", json={"title": "Giao ban tuần"}).json()["title"] == "Giao ban tuần"
    assert client.patch(f"/api/vc/meetings/{mid}/", json={"start": "2020-01-01T00:00:00Z"}).status_code == 400
    board = client.get(f"/api/vc/meetings/{mid}/readiness").json()
    assert board["check_id"] is None and board["rooms"] == []
    r = client.post(f"/api/vc/meetings/{mid}/check")
    assert r.status_code == 202   # the builder's poller heartbeat is fresh
    assert client.get(f"/api/vc/meetings/{mid}/readiness").json()["pending_request"] is True
    p.heartbeat(age_s=3600)        # no poller any more: refused with what to do instead
    r = client.post(f"/api/vc/meetings/{mid}/check")
    assert r.status_code == 409 and f"meeting check {mid}" in r.json()["detail"]
    assert client.delete(f"/api/vc/meetings/{mid}/").status_code == 204
    assert client.get(f"/api/vc/meetings/{mid}/").status_code == 404


def test_cli_check_probes_and_the_board_lists_each_room_with_its_reasons(
        client: TestClient, world: tuple[Province, Path, Settings]) -> None:
    p, config, _settings = world
    start = (datetime.now(UTC) + timedelta(minutes=45)).astimezone().strftime("%Y-%m-%dT%H:%M%z")
    bad = runner.invoke(cli_app, ["--lang", "en", "meeting", "add", "--title", "x", "--start", "01/01/2020 08:00",
                                  "--mcu", "dc-core-01", "--config", str(config)])
    assert bad.exit_code == 2 and "--start" in bad.output and "--endpoint/--site/--level" in bad.output
    out = json.loads(cli(config, "meeting", "add", "--title", "Họp toàn tỉnh", "--start", start, "--duration", "120",
                         "--mcu", "dc-core-01", "--level", "commune", "--format", "json"))
    mid = out["id"]
    board = json.loads(cli(config, "meeting", "check", str(mid), "--format", "json"))
    reasons = {r["site"]: [x["code"] for x in r["reasons"]] for r in board["rooms"]}
    assert reasons == {"UBND xã Tân Sỏi 000": [], "UBND xã Tân Sỏi 001": ["sip_busy"],
                       "UBND xã Tân Sỏi 002": ["link_saturated"],
                       "UBND xã Tân Sỏi 003": ["sip_unavailable", "site_unreachable"]}
    by_site = {r["site"]: r for r in board["rooms"]}
    assert by_site["UBND xã Tân Sỏi 002"]["reasons"][0] == {"code": "link_saturated", "cid": "TSLCD-07002",
                                                           "pct": 95.0, "rate_mbps": 100.0}
    assert by_site["UBND xã Tân Sỏi 003"]["reasons"][1]["district_router"] == "d215-rt"
    assert (board["ready"], board["not_ready"]) == (1, 3)
    assert [r["ready"] for r in board["rooms"]] == [False, False, False, True]   # not ready first
    assert {r["change"] for r in board["rooms"]} == {"new"}
    # the API shows the same board; the table for people says it in words
    api = client.get(f"/api/vc/meetings/{mid}/readiness").json()
    assert api["rooms"] == board["rooms"] and api["check_id"] == board["check_id"]
    shown = cli(config, "meeting", "show", str(mid), "--format", "tsv")
    assert "UBND xã Tân Sỏi 001\tPhòng họp\txa-001-vc\tnot_ready\tsip_busy\tnew" in shown
    table = runner.invoke(cli_app, ["--lang", "en", "meeting", "show", str(mid), "--format", "table",
                                    "--config", str(config)], env={"COLUMNS": "300"}).output
    assert "SIP busy (486)" in table
    # the notification lists the rooms not ready
    with Session(p.engine) as s:
        note = s.execute(select(NotificationRow)).scalars().one()
    assert note.channel == "ops" and note.payload["kind"] == "meeting_readiness"
    assert {r["site"] for r in note.payload["not_ready"]} == {"UBND xã Tân Sỏi 001", "UBND xã Tân Sỏi 002",
                                                              "UBND xã Tân Sỏi 003"}
    # the district comes back: at the next check xa-003 is still not ready (503) but no longer unreachable,
    # and an MCU gone silent makes every room not ready: the ready one is "newly not ready"
    p.set_state(p.district_routers[1], "up", cause="none")
    p.set_state(p.commune_routers[3], "up", cause="none")
    with p.engine.begin() as conn:
        conn.execute(IPAddress.__table__.update().where(IPAddress.host == codec_address(p.engine, p.core))  # type: ignore[attr-defined]
                     .values(host="198.51.100.1", address="198.51.100.1/32"))   # TEST-NET-2: routed nowhere
    again = json.loads(cli(config, "meeting", "check", str(mid), "--format", "json"))
    changed = {r["site"]: (r["change"], [x["code"] for x in r["reasons"]]) for r in again["rooms"]}
    assert changed["UBND xã Tân Sỏi 000"] == ("newly_not_ready", ["mcu_down"])
    assert changed["UBND xã Tân Sỏi 003"] == ("still_not_ready", ["sip_unavailable", "mcu_down"])
    assert again["newly_not_ready"] == ["Phòng họp"] and again["mcu_ok"] is False
    listed = json.loads(cli(config, "meeting", "list", "--format", "json"))
    assert [(m["meeting"]["id"], m["ready"], m["not_ready"]) for m in listed] == [(mid, 0, 4)]


def test_pages_list_and_create_and_refuse_a_check_without_a_poller(client: TestClient,
                                                                   world: tuple[Province, Path, Settings]) -> None:
    p = world[0]
    bad = client.post("/meetings?lang=en", data={"title": "Họp", "start": "01/01/2020 08:00", "duration_min": "60",
                                                 "mcu": "dc-core-01", "site": "xa-000"})
    assert bad.status_code == 422 and 'data-error="start"' in bad.text and "must be in the future" in bad.text
    local = (datetime.now(UTC) + timedelta(hours=3)).astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%d/%m/%Y %H:%M")
    made = client.post("/meetings", data={"title": "Họp xã", "start": local, "duration_min": "60",
                                          "mcu": "dc-core-01", "site": "xa-000"}, follow_redirects=False)
    assert made.status_code == 303
    path = made.headers["location"]
    listed = client.get("/meetings?lang=en").text
    assert f'href="{path}"' in listed and "Họp xã" in listed
    p.heartbeat(age_s=3600)
    refused = client.post(f"{path}/check?lang=en", follow_redirects=False)
    assert refused.status_code == 409 and 'id="check-refused"' in refused.text
    assert "No poller is running" in refused.text
    p.heartbeat()
    accepted = client.post(f"{path}/check", follow_redirects=False)
    assert accepted.status_code == 303 and accepted.headers["location"].endswith("?notice=requested")

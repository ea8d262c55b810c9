"""Honest figures: an availability says how much of its window it stands on; the overview names probe kinds
failing on devices that are otherwise UP; a kind without targets is never called fresh."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import delete, insert
from sqlalchemy.engine import Engine

from infra_monitor.status.store.models import PollerHeartbeatRow, StateIntervalRow
from infra_monitor.storage.models import LatestResult
from tests.users import ADMIN_TOKEN
from tests.web.builders import Province


def _interval(engine: Engine, device: int, state: str, start_s_ago: float, end_s_ago: float | None,
              p: Province) -> None:
    with engine.begin() as conn:
        conn.execute(insert(StateIntervalRow), [{
            "device_id": device, "state": state, "cause": "none" if state == "up" else "own_failure",
            "start": p.now - timedelta(seconds=start_s_ago),
            "end": p.now - timedelta(seconds=end_s_ago) if end_s_ago is not None else None}])


def test_availability_says_how_much_of_its_window_it_stands_on(client: TestClient, engine: Engine,
                                                               province: Province) -> None:
    one_minute, outage, old = province.commune_routers[0], province.commune_routers[1], province.commune_routers[2]
    _interval(engine, one_minute, "up", 60, None, province)
    _interval(engine, outage, "down", 80, None, province)
    province.intervals([old])
    page = client.get(f"/devices/{one_minute}").text
    assert "100,00%" in page
    assert re.search(r"tính trên 1 phút( \d giây)? có dữ liệu trong 24 giờ", page)
    page = client.get(f"/devices/{outage}?lang=en").text
    assert "0.00%" in page
    assert re.search(r"over 1 min 2\d s of 24 h", page) and re.search(r"over 1 min 2\d s of 30 days", page)
    api = client.get(f"/api/status/devices/{outage}").json()
    assert api["availability_24h"] == 0.0
    assert 80 <= api["availability_24h_data_s"] < 90  # the page is read a moment after the rows were written
    full = client.get(f"/devices/{old}?lang=en").text
    assert "100.00%" in full and " of 24 h" not in full and " of 30 days" not in full
    nothing = client.get(f"/api/status/devices/{province.commune_routers[3]}").json()
    assert nothing["availability_24h"] is None and nothing["availability_24h_data_s"] == 0.0


def test_level_availability_averages_the_time_per_device(client: TestClient, engine: Engine,
                                                          province: Province) -> None:
    province.intervals(province.commune_routers[:2])          # 40 days each
    _interval(engine, province.commune_routers[2], "up", 3600, None, province)  # one hour
    overview = client.get("/api/status/overview").json()
    commune = next(r for r in overview["coverage"] if r["level"] == "commune")
    assert commune["availability_24h"] == 100.0
    assert (2 * 86400 + 3600) / 3 <= commune["availability_24h_data_s"] < (2 * 86400 + 3600) / 3 + 10
    assert "tính trên 16 giờ 20 phút có dữ liệu trong 24 giờ" in client.get("/").text


def _latest(engine: Engine, p: Province, kind: str, results: dict[int, tuple[bool, str | None]]) -> None:
    with engine.begin() as conn:
        conn.execute(delete(LatestResult).where(LatestResult.kind == kind))  # type: ignore[arg-type]
        conn.execute(insert(LatestResult), [{"device_id": d, "kind": kind, "ts": p.now - timedelta(seconds=20),
                                             "success": ok, "error": err} for d, (ok, err) in results.items()])


def _heartbeats(engine: Engine, p: Province, targets: dict[str, int]) -> None:
    with engine.begin() as conn:
        conn.execute(delete(PollerHeartbeatRow))
        conn.execute(insert(PollerHeartbeatRow), [{
            "poller_group": "default", "kind": k, "last_sweep_started": p.now - timedelta(seconds=25),
            "last_sweep_finished": p.now - timedelta(seconds=20), "targets": n} for k, n in targets.items()])


def test_the_overview_names_a_kind_failing_on_devices_that_are_up(client: TestClient, engine: Engine,
                                                                   province: Province) -> None:
    routers = [province.core, *province.district_routers, *province.commune_routers]
    _heartbeats(engine, province, {"icmp": len(routers), "snmp": len(routers), "tcp": 0, "http": 0})
    _latest(engine, province, "icmp", dict.fromkeys(routers, (True, None)))
    snmp = dict.fromkeys(routers, (True, None))
    snmp[province.core] = (False, "timeout after 2 retries")
    snmp[province.district_routers[0]] = (False, "timeout after 2 retries")
    snmp[province.commune_routers[4]] = (False, "timeout after 2 retries")
    _latest(engine, province, "snmp", snmp)
    province.set_state(province.commune_routers[4], "down")  # down already shows as a problem
    ov = client.get("/api/status/overview").json()
    kinds = {k["kind"]: k for k in ov["probes"]}
    assert kinds["snmp"]["verdict"] == "partial"
    assert kinds["snmp"]["failing"] == 3 and kinds["snmp"]["failing_while_up"] == 2
    assert {c["device"] for c in kinds["snmp"]["failing_devices"]} == {"dc-core-01", "d213-rt"}
    assert kinds["icmp"]["verdict"] == "ok" and kinds["icmp"]["answering"] == len(routers)
    assert kinds["tcp"]["verdict"] == "no_targets"
    page = client.get("/?lang=en").text
    assert "SNMP fails on 2 devices that are otherwise up (of 13 targets):" in page
    assert "dc-core-01" in page and "d213-rt" in page
    assert "timeout" in client.get("/").text


def test_a_kind_without_targets_is_not_called_fresh(client: TestClient, engine: Engine, province: Province) -> None:
    _heartbeats(engine, province, {"icmp": 33, "snmp": 0})
    ov = client.get("/api/status/overview").json()
    snmp = next(p for p in ov["freshness"]["pollers"] if p["kind"] == "snmp")
    assert snmp["idle"] is True and snmp["stale"] is False
    assert ov["freshness"]["stale"] is False
    page = client.get("/?lang=en").text
    fresh_table = page[page.index('id="freshness"'):]
    row = fresh_table[fresh_table.index("SNMP"):fresh_table.index("</tr>", fresh_table.index("SNMP"))]
    assert "No targets" in row and "Fresh" not in row


def test_a_kind_failing_everywhere_does_not_hide_another_kinds_few_failures(tmp_path: Path) -> None:
    from infra_monitor.config import load_settings
    from infra_monitor.db import make_engine
    from web.app import create_app

    url = f"sqlite:///{tmp_path / 'many.db'}"
    engine = make_engine(url)
    p = Province.build(engine, communes=25)  # 53 devices
    everyone = [p.core, *p.district_routers, *p.commune_routers, *p.vc_devices]
    _heartbeats(engine, p, {"icmp": len(everyone), "snmp": 3, "http": len(everyone), "tcp": 0})
    _latest(engine, p, "http", dict.fromkeys(everyone, (False, "HTTP 503")))  # a wrong URL template
    _latest(engine, p, "snmp", {p.core: (False, "timeout"), p.district_routers[0]: (False, "timeout"),
                                p.district_routers[1]: (True, None)})
    settings = load_settings(None, environ={"INFRA_MONITOR_DATABASE__URL": url,
                                            "INFRA_MONITOR_WEB__ADMIN_TOKEN": ADMIN_TOKEN})
    app = create_app(settings, engine)
    app.state.readmodel.cache.ttl_s = 0
    with TestClient(app, headers={"Authorization": f"Token {ADMIN_TOKEN}"}) as c:
        kinds = {k["kind"]: k for k in c.get("/api/status/overview").json()["probes"]}
    assert kinds["http"]["failing_while_up"] == 53 and len(kinds["http"]["failing_devices"]) == 10
    assert {d["device"] for d in kinds["snmp"]["failing_devices"]} == {"dc-core-01", "d213-rt"}
    engine.dispose()

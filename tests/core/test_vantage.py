"""Vantage points on both backends: a device watched by a second group keeps its own group's state; the second
group's answers are stored with their vantage and shown as a disagreement; a silent vantage is no data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from infra_monitor.config import Settings, load_settings
from infra_monitor.pipeline import process_sweep
from infra_monitor.readmodel.vantages import device_vantages, disagreements
from infra_monitor.storage.check_intervals import staleness
from infra_monitor.targets import TargetIndex, load_targets
from inventory.importer import import_document
from probes.base import ProbeResult


def _doc() -> dict[str, Any]:
    def device(name: str, ip: str, **extra: Any) -> dict[str, Any]:
        return {"site": "ttdl", "name": name, "role": "router", "status": "active", "primary_ip": f"{ip}/32",
                "monitoring": {"enabled": True, "poller_group": "dc"}, **extra,
                "interfaces": [{"name": "lo0", "type": "virtual", "ip_addresses": [{"address": f"{ip}/32"}]}]}
    return {"sites": [{"slug": "ttdl", "name": "TTDL", "category": "unit", "status": "active"}],
            "device_roles": [{"slug": "router", "name": "Router"}],
            "devices": [device("core", "127.0.4.1", custom_fields={"also_polled_by": ["huyen-x"]}),
                        device("edge", "127.0.4.2")]}


def _settings(url: str, group: str) -> Settings:
    return load_settings(None, environ={"INFRA_MONITOR_DATABASE__URL": url, "INFRA_MONITOR_POLLER__GROUP": group,
                                        "INFRA_MONITOR_PROBES__ICMP__RETRIES": "1"})


def _sweep(engine: Engine, settings: Settings, idx: TargetIndex, answers: dict[str, bool], at: datetime) -> None:
    results = [ProbeResult(kind="icmp", target=t, success=answers[t.device], started_at=at, duration_s=0.01,
                           error=None if answers[t.device] else "timeout")
               for t in idx.targets["icmp"]]
    process_sweep(engine, "icmp", results, idx, settings, at, finished=at + timedelta(seconds=1))


def test_a_second_vantage_is_stored_and_shown_but_never_decides_the_state(migrated_engine: Engine,
                                                                          db_url: str) -> None:
    engine = migrated_engine
    with Session(engine) as s:
        assert not import_document(s, _doc(), source="test").errors
        ids: dict[str, int] = dict(s.execute(text("SELECT name, id FROM device")).all())
        dc_idx = load_targets(s, poller_group="dc", kinds=("icmp",))
        hx_idx = load_targets(s, poller_group="huyen-x", kinds=("icmp",))
    assert [t.device for t in hx_idx.targets["icmp"]] == ["core"]
    dc, hx = _settings(db_url, "dc"), _settings(db_url, "huyen-x")
    now = datetime.now(UTC).replace(microsecond=0)
    for i in range(3):
        at = now + timedelta(seconds=60 * i)
        _sweep(engine, dc, dc_idx, {"core": True, "edge": True}, at)
        _sweep(engine, hx, hx_idx, {"core": False}, at + timedelta(seconds=5))
    end = now + timedelta(seconds=130)
    with engine.connect() as conn:
        state = conn.execute(text("SELECT state FROM device_status WHERE device_id = :d"), {"d": ids["core"]}
                             ).scalar_one()
        latest = conn.execute(text("SELECT success FROM latest_result WHERE device_id = :d"), {"d": ids["core"]}
                              ).scalars().all()
        raw: dict[str, int] = dict(conn.execute(text(
            "SELECT vantage, count(*) FROM probe_result WHERE device_id = :d GROUP BY vantage"), {"d": ids["core"]}
        ).all())
        window = staleness(dc)
        found = disagreements(conn, end, window)
        edge = device_vantages(conn, ids["edge"], end, window)
        silent = device_vantages(conn, ids["core"], end + 2 * window, window)
    assert state == "up", "the district's DOWN never decides the core's state"
    assert latest == [True], "latest_result holds the device's own group's answer only"
    assert raw == {"dc": 3, "huyen-x": 3}
    assert [(d.device, {v.vantage: v.up for v in d.vantages}) for d in found] == [
        ("core", {"dc": True, "huyen-x": False})]
    assert found[0].vantages[1].error == "timeout"
    assert edge == [], "a device watched from one place has no vantage list"
    assert {v.vantage: v.up for v in silent} == {"dc": None, "huyen-x": None}, "silent vantages are no data"

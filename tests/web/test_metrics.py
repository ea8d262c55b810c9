"""``/metrics`` read by prometheus-client's own parser: probe results, device states, circuit utilisation
against the contracted rate, and the monitor's health (heartbeats, outbox, in-process backlog)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from sqlalchemy import delete, insert
from sqlalchemy.engine import Engine

from infra_monitor.config import Settings
from infra_monitor.scheduler import Poller
from infra_monitor.status.store.models import NotificationRow, PollerHeartbeatRow
from infra_monitor.storage.models import InterfaceRollup, LatestResult
from tests.users import token_for
from tests.web.builders import Province


def _samples(text: str) -> dict[str, list[Sample]]:
    out: dict[str, list[Sample]] = {}
    for family in text_string_to_metric_families(text):
        assert family.documentation, f"{family.name} has no HELP"
        for s in family.samples:
            out.setdefault(s.name, []).append(s)
    return out


def _one(samples: dict[str, list[Sample]], name: str, **labels: str) -> float:
    found = [s.value for s in samples.get(name, []) if all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(found) == 1, (name, labels, found)
    return found[0]


@pytest.fixture
def scrape(client: TestClient, engine: Engine) -> TestClient:
    token = token_for(engine, "prometheus", "viewer", read_only=True)
    return TestClient(client.app, headers={"Authorization": f"Bearer {token}"})


def _results(engine: Engine, p: Province) -> None:
    ts = p.now - timedelta(seconds=15)
    with engine.begin() as conn:
        conn.execute(delete(LatestResult))
        conn.execute(insert(LatestResult), [
            {"device_id": p.core, "kind": "icmp", "ts": ts, "success": True, "rtt_avg_ms": 12.5, "loss_pct": 0.0},
            {"device_id": p.core, "kind": "snmp", "ts": ts, "success": False, "rtt_avg_ms": None, "loss_pct": None},
            {"device_id": p.commune_routers[0], "kind": "icmp", "ts": ts, "success": True, "rtt_avg_ms": 40.0,
             "loss_pct": 20.0},
            {"device_id": p.commune_routers[1], "kind": "icmp", "ts": p.now - timedelta(hours=2), "success": True,
             "rtt_avg_ms": 1.0, "loss_pct": 0.0}])  # too old to describe the present
        bucket = p.now.replace(second=0, microsecond=0) - timedelta(minutes=p.now.minute % 5)
        conn.execute(insert(InterfaceRollup), [{"resolution": 300, "interface_id": p.commune_interfaces[0],
                                                 "bucket": bucket, "n": 2, "in_bps_sum": 2 * 30e6,
                                                 "out_bps_sum": 2 * 5e6, "util_max_pct": 30.0}])
        conn.execute(delete(PollerHeartbeatRow))
        conn.execute(insert(PollerHeartbeatRow), [{
            "poller_group": "default", "kind": "icmp", "last_sweep_started": p.now - timedelta(seconds=22.5),
            "last_sweep_finished": p.now - timedelta(seconds=20), "targets": 33, "overruns": 4}])
        conn.execute(insert(NotificationRow), [
            {"channel": "noc", "payload": {}, "status": "failed", "attempts": 8},
            {"channel": "noc", "payload": {}, "status": "pending", "attempts": 0},
            {"channel": "noc", "payload": {}, "status": "pending", "attempts": 1}])


def test_metrics_parse_and_tell_what_the_database_holds(scrape: TestClient, engine: Engine, province: Province,
                                                         settings: Settings) -> None:
    _results(engine, province)
    province.cut_district(0)
    r = scrape.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    m = _samples(r.text)
    core = {"device": "dc-core-01", "site": "dc", "level": "datacenter"}
    assert _one(m, "infra_monitor_probe_success", kind="icmp", **core) == 1
    assert _one(m, "infra_monitor_probe_success", kind="snmp", **core) == 0
    assert _one(m, "infra_monitor_probe_rtt_seconds", kind="icmp", **core) == pytest.approx(0.0125)
    commune = {"device": "xa-000-rt", "site": "xa-000", "level": "commune", "district": "Thành phố Bắc Giang"}
    assert _one(m, "infra_monitor_probe_loss_ratio", kind="icmp", **commune) == pytest.approx(0.2)
    assert not [s for s in m["infra_monitor_probe_success"] if s.labels["device"] == "xa-001-rt"]  # stale
    assert _one(m, "infra_monitor_device_up", device="d213-rt") == 0
    assert _one(m, "infra_monitor_device_state", device="d213-rt", state="down") == 1
    assert _one(m, "infra_monitor_device_state", device="xa-000-rt", state="unreachable") == 1
    assert _one(m, "infra_monitor_device_state", device="xa-000-rt", state="up") == 0
    assert _one(m, "infra_monitor_device_up", device="d215-rt") == 1
    link = {"circuit": "TSLCD-07000", "provider": "VNPT", "site": "xa-000", "interface": "Gi0/0/0"}
    assert _one(m, "infra_monitor_circuit_commit_rate_bps", **link) == 100e6
    assert _one(m, "infra_monitor_circuit_utilisation_ratio", **link) == pytest.approx(0.30)
    assert _one(m, "infra_monitor_circuit_in_bps", **link) == pytest.approx(30e6)
    health = {"poller_group": "default", "kind": "icmp"}
    assert _one(m, "infra_monitor_sweep_duration_seconds", **health) == pytest.approx(2.5)
    assert _one(m, "infra_monitor_sweep_targets", **health) == 33
    assert _one(m, "infra_monitor_sweep_overruns_total", **health) == 4
    assert _one(m, "infra_monitor_notifications", channel="noc", status="pending") == 2
    assert _one(m, "infra_monitor_notifications", channel="noc", status="failed") == 1


def test_a_poller_in_this_process_reports_its_backlog(scrape: TestClient, settings: Settings,
                                                      engine: Engine) -> None:
    poller = Poller(settings, engine)
    poller.stats.sweeps["icmp"] = 7
    m = _samples(scrape.get("/metrics").text)
    assert _one(m, "infra_monitor_write_backlog_results", poller_group="default") == 0
    assert _one(m, "infra_monitor_sweeps_total", poller_group="default", kind="icmp") == 7
    del poller


def test_metrics_need_a_token_and_answer_401_not_the_sign_in_page(client: TestClient) -> None:
    anonymous = TestClient(client.app)
    r = anonymous.get("/metrics", follow_redirects=False)
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/json")


def test_the_grafana_dashboard_queries_only_exported_metrics(scrape: TestClient, engine: Engine,
                                                             province: Province) -> None:
    import json
    import re
    from pathlib import Path

    _results(engine, province)
    exported = {f.name for f in text_string_to_metric_families(scrape.get("/metrics").text)}
    exported |= {f"{n}_total" for n in exported}
    dashboard = json.loads((Path(__file__).parents[2] / "docs/grafana/infra-monitor-dashboard.json").read_text())
    used = {name for panel in dashboard["panels"] for target in panel["targets"]
            for name in re.findall(r"\binfra_monitor_[a-z_]+", target["expr"])}
    assert used, "the dashboard queries nothing"
    assert used <= exported, f"the dashboard uses metrics /metrics does not export: {used - exported}"


def test_circuits_of_two_providers_with_the_same_id_are_two_series(scrape: TestClient, engine: Engine,
                                                                   province: Province) -> None:
    from sqlalchemy import select

    from inventory.models import Circuit, CircuitTermination, Provider, Site

    with engine.begin() as conn:
        conn.execute(insert(Provider), [{"id": 2, "slug": "viettel", "name": "Viettel"}])
        conn.execute(insert(Circuit), [{"id": 900, "provider_id": 2, "cid": "TSLCD-07000", "type_id": 1,
                                        "commit_rate_kbps": 50_000, "status": "active"}])
        site = conn.execute(select(Site.id).where(Site.slug == province.commune_sites[1])).scalar_one()
        conn.execute(insert(CircuitTermination), [{"circuit_id": 900, "term_side": "Z", "site_id": site,
                                                   "interface_id": province.commune_interfaces[1]}])
    m = _samples(scrape.get("/metrics").text)
    rates = {s.labels["provider"]: s.value for s in m["infra_monitor_circuit_commit_rate_bps"]
             if s.labels["circuit"] == "TSLCD-07000"}
    assert rates == {"VNPT": 100e6, "Viettel": 50e6}

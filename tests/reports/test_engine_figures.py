"""Every figure of every report, checked against the hand-built day of :mod:`tests.reports.intervals`.

Expected values are worked out by hand from the interval table in that module's docstring (hours into the
period; the period is 24 h = 86,400 s). Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy.engine import Engine

from infra_monitor.db import make_engine
from infra_monitor.reports.document import ReportDocument
from infra_monitor.reports.engine import build_report
from infra_monitor.reports.params import params_for
from tests.reports.intervals import END, NOW, START, Day, h

H = 3600


@pytest.fixture
def day(db_url: str) -> Iterator[Day]:
    engine = make_engine(db_url)
    yield Day(engine)
    engine.dispose()


def report(engine: Engine, kind: str, **options: object) -> ReportDocument:
    params = params_for(kind, date(2026, 3, 1), date(2026, 3, 2), **options)  # type: ignore[arg-type]
    assert (params.start, params.end) == (START, END)
    return build_report(engine, params, now=NOW)


def row(doc: ReportDocument, table: str, **match: object) -> dict:
    rows = [r for r in doc.table(table).rows if all(r.get(k) == v for k, v in match.items())]
    assert len(rows) == 1, (table, match, rows)
    return rows[0]


def test_site_availability_with_parent_outage_and_own_outage(day: Day) -> None:
    doc = report(day.engine, "availability")
    r = row(doc, "availability_by_site", slug="xa-000")
    assert (r["up_s"], r["down_parent_s"], r["down_own_s"], r["maintenance_s"], r["no_data_s"]) == (
        22.5 * H, 1 * H, 0.5 * H, 0, 0)
    assert r["availability_pct"] == pytest.approx(100 * 22.5 / 24)
    assert r["covered_pct"] == pytest.approx(100.0)
    assert (r["outages"], r["longest_outage_s"], r["mttr_s"]) == (2, 1 * H, 0.75 * H)
    assert r["top_root_cause"] == "d213-rt"
    assert r["state_at_end"] == "up"


def test_maintenance_overlapping_an_outage_is_excluded_or_counted_by_the_switch(day: Day) -> None:
    r = row(report(day.engine, "availability"), "availability_by_site", slug="xa-001")
    assert (r["up_s"], r["down_own_s"], r["maintenance_s"]) == (20 * H, 2 * H, 2 * H)
    assert r["availability_pct"] == pytest.approx(100 * 20 / 22)
    assert r["covered_pct"] == pytest.approx(100 * 22 / 24)
    assert (r["outages"], r["longest_outage_s"], r["mttr_s"]) == (1, 2 * H, 2 * H)
    down = row(report(day.engine, "availability", maintenance_as_down=True), "availability_by_site", slug="xa-001")
    assert down["availability_pct"] == pytest.approx(100 * 20 / 24)
    assert down["covered_pct"] == pytest.approx(100.0)
    # The outage now runs on through the maintenance: one outage of 4 h (5 → 9).
    assert (down["outages"], down["longest_outage_s"]) == (1, 4 * H)


def test_device_created_mid_period_has_no_data_before_and_says_how_much_it_covers(day: Day) -> None:
    r = row(report(day.engine, "availability"), "availability_by_site", slug="xa-003")
    assert (r["up_s"], r["no_data_s"]) == (12 * H, 12 * H)
    assert r["availability_pct"] == pytest.approx(100.0)
    assert r["covered_pct"] == pytest.approx(50.0)
    strict = row(report(day.engine, "availability", no_data_as_down=True), "availability_by_site", slug="xa-003")
    assert strict["availability_pct"] == pytest.approx(50.0)


def test_outage_still_open_at_the_end_has_no_mttr(day: Day) -> None:
    r = row(report(day.engine, "availability"), "availability_by_device", device="xa-002-vc")
    assert (r["up_s"], r["down_own_s"]) == (20 * H, 4 * H)
    assert (r["outages"], r["longest_outage_s"], r["mttr_s"]) == (1, 4 * H, None)
    assert r["state_at_end"] == "down"


def test_interval_crossing_the_period_start_is_clipped(day: Day) -> None:
    r = row(report(day.engine, "availability"), "availability_by_device", device="d213-rt")
    assert (r["up_s"], r["down_own_s"], r["no_data_s"]) == (23 * H, 1 * H, 0)


def test_rollups_by_level_and_district_are_time_weighted(day: Day) -> None:
    doc = report(day.engine, "availability")
    communes = row(doc, "availability_by_level", level="commune")
    # up 22.5 + 20 + 23 + 12; own 0.5 + 2; parent 1 + 1; maintenance 2; no data 12.
    assert (communes["up_s"], communes["down_own_s"], communes["down_parent_s"], communes["maintenance_s"],
            communes["no_data_s"]) == (77.5 * H, 2.5 * H, 2 * H, 2 * H, 12 * H)
    assert communes["availability_pct"] == pytest.approx(100 * 77.5 / 82)
    assert communes["covered_pct"] == pytest.approx(100 * 82 / 96)
    assert communes["outages"] == 4                 # xa-000: 2, xa-001: 1, xa-002: 1
    d213 = row(doc, "availability_by_district", code="213")      # its office and communes 0 and 2
    assert (d213["up_s"], d213["down_own_s"], d213["down_parent_s"]) == ((23 + 22.5 + 23) * H, 1.5 * H, 2 * H)
    vc = row(doc, "availability_by_level", level="vc")
    assert (vc["up_s"], vc["down_own_s"], vc["no_data_s"]) == ((24 + 24 + 20 + 12) * H, 4 * H, 12 * H)


def test_downtime_by_root_cause(day: Day) -> None:
    r = row(report(day.engine, "availability"), "downtime_by_root_cause", device="d213-rt")
    assert (r["own_down_s"], r["cut_off_s"], r["devices_cut_off"]) == (1 * H, 2 * H, 2)


def test_circuit_availability_is_measured_at_its_served_end(day: Day) -> None:
    r = row(report(day.engine, "availability"), "availability_by_circuit", cid="TSLCD-07000")
    assert r["measured_by"] == "xa-000-rt"
    assert r["availability_pct"] == pytest.approx(100 * 22.5 / 24)


def test_coverage_counts_and_gaps_are_kept_apart(day: Day) -> None:
    doc = report(day.engine, "coverage")
    c = row(doc, "coverage_by_level", level="commune")
    assert (c["target"], c["inventoried"], c["not_inventoried"], c["units_in_force"], c["units_without_site"]) == (
        230, 4, 226, 4, 0)
    assert (c["connected"], c["no_circuit"], c["up"], c["down"], c["unreachable"], c["maintenance"],
            c["no_data"]) == (4, 0, 4, 0, 0, 0, 0)
    assert c["meeting_threshold"] == 1            # only xa-003 (100 % of what was measured)
    assert c["availability_pct"] == pytest.approx(100 * 77.5 / 82)
    assert c["coverage_pct"] == pytest.approx(100 * 4 / 230)
    vc = row(doc, "coverage_by_level", level="vc")
    assert (vc["inventoried"], vc["up"], vc["down"], vc["codec_silent_network_up"]) == (4, 3, 1, 1)
    silent = row(doc, "vc_not_ready", slug="xa-002")
    assert silent["codec_state"] == "down"
    assert doc.table("gap_down").rows == [] and doc.table("gap_unreachable").rows == []
    d = row(doc, "coverage_by_district", code="215")
    assert (d["units_in_force"], d["inventoried"], d["up"], d["meeting_threshold"], d["codecs"], d["codecs_up"]) == (
        2, 2, 2, 1, 2, 2)


def test_coverage_lists_sites_down_and_unreachable_behind_their_root_cause(day: Day) -> None:
    # Ending the period at 02:30 catches district 213 down and its communes cut off behind it.
    from infra_monitor.reports.params import ReportParams

    params = ReportParams(kind="coverage", start=START, end=h(2.5), as_of=date(2026, 3, 1))
    doc = build_report(day.engine, params, now=NOW)
    down = row(doc, "gap_down", slug="ubnd-213")
    assert down["device"] == "d213-rt" and down["since"] == h(2)
    cut = [r for r in doc.table("gap_unreachable").rows]
    assert {r["slug"] for r in cut} == {"xa-000", "xa-002"}
    assert {r["root_device"] for r in cut} == {"d213-rt"}
    c = row(doc, "coverage_by_level", level="commune")
    assert (c["up"], c["unreachable"], c["no_data"]) == (1, 2, 1)   # xa-001 up, xa-003 not created yet
    assert row(doc, "gap_no_data", slug="xa-003")["monitored_devices"] == 1


def test_datacenter_service_survives_a_redundant_member_and_tiers_are_compared(day: Day) -> None:
    doc = report(day.engine, "datacenter")
    service = row(doc, "dc_availability", measure="service")
    assert service["availability_pct"] == pytest.approx(100.0)
    equipment = row(doc, "dc_availability", measure="equipment")
    # dc-core-02: down 0.25 h, maintenance 1 h → the site is up 22.75 h of 23 counted.
    assert (equipment["down_own_s"], equipment["maintenance_s"]) == (0.25 * H, 1 * H)
    assert equipment["availability_pct"] == pytest.approx(100 * 22.75 / 23)
    tiers = doc.table("dc_tiers").rows
    assert [r["threshold_pct"] for r in tiers] == [99.671, 99.741, 99.982, 99.995]
    assert [r["allowed_downtime_h"] for r in tiers] == [28.82, 22.69, 1.58, 0.44]
    assert all(r["met"] for r in tiers)
    assert doc.summary_value("providers") == 2 and doc.summary_value("uplinks") == 2
    assert doc.summary_value("uplinks_all_up_s") == 22.75 * H   # dc-core-02 down 0.25 h, maintenance 1 h
    assert doc.summary_value("uplinks_none_up_s") == 0
    assert doc.table("dc_failovers").rows == [{"time": h(6), "failed": "VTL-INET-01", "remaining": "VNPT-INET-01"}]
    m = row(doc, "dc_maintenance", window="Bảo trì dc-core-02")
    assert (m["devices"], m["service_loss_s"], m["without_loss"]) == (1, 0, True)
    red = row(doc, "dc_redundancy", role="Router")
    assert (red["devices"], red["redundant"], red["all_up_s"], red["any_up_s"]) == (2, True, 22.75 * H, 24 * H)
    assert any("không phải chứng nhận" in n.vi and "do not certify" in n.en for n in doc.notes)
    uptime = report(day.engine, "datacenter", tier_reference="uptime")
    assert [r["tier"] for r in uptime.table("dc_tiers").rows] == ["Tier I", "Tier II", "Tier III", "Tier IV"]


def test_capacity_p95_as_librenms_bills_it(day: Day) -> None:
    doc = report(day.engine, "capacity")
    r = row(doc, "capacity_by_circuit", cid="TSLCD-07000")
    # 288 samples: index round(288 × 0.95) − 1 = 273 → k = 274 → 82.2 Mbit/s in; out constant 10 Mbit/s.
    assert r["samples"] == 288 and r["covered_pct"] == pytest.approx(100.0)
    assert r["p95_in_kbps"] == pytest.approx(82_200) and r["p95_out_kbps"] == pytest.approx(10_000)
    assert r["p95_kbps"] == pytest.approx(82_200) and r["p95_pct"] == pytest.approx(82.2)
    assert r["peak_kbps"] == pytest.approx(86_400)
    assert r["hours_above"] == pytest.approx(22 * 5 / 60)    # k = 267 … 288 at or above 80 Mbit/s
    assert r["rank"] == 1
    assert doc.summary_value("circuits_over_threshold") == 1
    unmeasured = row(doc, "capacity_by_circuit", cid="TSLCD-07001")
    assert unmeasured["samples"] == 0 and unmeasured["p95_pct"] is None and unmeasured["covered_pct"] == 0


def test_videoconference_readiness_keeps_network_and_codec_apart(day: Day) -> None:
    doc = report(day.engine, "videoconference")
    assert row(doc, "vc_endpoints", device="xa-002-vc")["readiness"] == "codec_silent"
    assert row(doc, "vc_endpoints", device="xa-002-vc")["network_state"] == "up"
    assert row(doc, "vc_endpoints", device="xa-000-vc")["readiness"] == "ready"
    assert doc.summary_value("vc_ready") == 3 and doc.summary_value("vc_codec_silent") == 1
    lvl = row(doc, "vc_by_level", level="commune")
    assert (lvl["endpoints"], lvl["ready"], lvl["not_ready"]) == (4, 3, 1)


def test_the_future_is_not_part_of_the_period(day: Day) -> None:
    params = params_for("availability", date(2026, 3, 9), date(2026, 3, 11))   # now = 10/03 12:00 local
    doc = build_report(day.engine, params, now=NOW)
    assert doc.header.measured_until == NOW
    r = row(doc, "availability_by_device", device="dc-core-01")
    assert r["up_s"] == (NOW - params.start).total_seconds()
    assert r["covered_pct"] == pytest.approx(100 * (NOW - params.start) / (params.end - params.start))
    assert any("chưa kết thúc" in n.vi for n in doc.notes)


def test_tiers_are_not_compared_on_too_little_data(day: Day) -> None:
    # Two days ending one hour into the hand-built day: most of the period is in the future, not measured.
    from infra_monitor.reports.params import ReportParams

    params = ReportParams(kind="datacenter", start=START, end=START + (END - START) * 2, as_of=date(2026, 3, 1))
    doc = build_report(day.engine, params, now=h(1))
    assert all(r["met"] is None and r["measured_pct"] == pytest.approx(100.0) for r in doc.table("dc_tiers").rows)
    assert doc.summary_value("highest_tier_met") is None
    assert any("no comparison with the tiers" in n.en for n in doc.notes)


@pytest.mark.parametrize("samples", [1, 2, 19, 20, 21, 30, 287])
def test_p95_in_the_database_equals_the_librenms_rule_on_random_rates(day: Day, samples: int) -> None:
    import random

    from sqlalchemy import delete, insert

    from infra_monitor.reports.capacity import percentile95
    from infra_monitor.storage.models import InterfaceRollup

    rng = random.Random(samples)
    iface = day.p.commune_interfaces[1]
    ins = [float(rng.choice([rng.randrange(0, 90_000_000), 50_000_000])) for _ in range(samples)]  # with ties
    outs = [float(rng.randrange(0, 90_000_000)) for _ in range(samples)]
    with day.engine.begin() as conn:
        conn.execute(delete(InterfaceRollup).where(InterfaceRollup.interface_id == iface))
        conn.execute(insert(InterfaceRollup), [
            {"resolution": 300, "interface_id": iface, "bucket": h(k * 5 / 60), "n": 2, "in_bps_sum": 2 * i,
             "in_bps_max": i, "out_bps_sum": 2 * o, "out_bps_max": o, "util_max_pct": 0.0, "errors": 0}
            for k, (i, o) in enumerate(zip(ins, outs, strict=True))])
    r = row(report(day.engine, "capacity"), "capacity_by_circuit", cid="TSLCD-07001")
    assert r["samples"] == samples
    assert r["p95_in_kbps"] == pytest.approx(percentile95(ins) / 1000)      # type: ignore[operator]
    assert r["p95_out_kbps"] == pytest.approx(percentile95(outs) / 1000)    # type: ignore[operator]
    assert r["hours_above"] == pytest.approx(sum(max(i, o) >= 80e6 for i, o in zip(ins, outs, strict=True)) / 12)

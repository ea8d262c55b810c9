"""The read model behind the status page, on SQLite and PostgreSQL: site states, problems, coverage,
availability from intervals, freshness, search, the dated region structure, caching, details."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, update
from sqlalchemy.engine import Engine

from infra_monitor.config import Settings
from infra_monitor.readmodel import ReadModel, SiteFilter, Tally, site_state
from infra_monitor.status.engine.states import State
from infra_monitor.status.store.models import MaintenanceWindowRow
from inventory.models import Region, RegionParentLink, Site
from tests.web.builders import Province


@pytest.fixture
def web_url(db_url: str) -> str:
    return db_url


@pytest.mark.parametrize(("tally", "expected"), [
    (Tally(up=3), State.UP),
    (Tally(up=1, down=1, unreachable=1), State.DOWN),
    (Tally(unreachable=2), State.UNREACHABLE),
    (Tally(up=1, unreachable=1), State.UNREACHABLE),
    (Tally(up=1, maintenance=1), State.MAINTENANCE),
    (Tally(up=1, unknown=1), State.UP),
    (Tally(unknown=2), State.UNKNOWN),
    (Tally(), State.UNKNOWN),
])
def test_site_state_is_the_worst_meaningful_state_of_its_devices(tally: Tally, expected: State) -> None:
    assert site_state(tally) is expected


def _by_slug(rm: ReadModel, **flt: object) -> dict[str, str]:
    return {s.slug: s.state for s in rm.sites(SiteFilter(**flt)).results}  # type: ignore[arg-type]


def test_district_router_down_makes_its_site_down_and_the_communes_behind_it_unreachable(
        rm: ReadModel, province: Province) -> None:
    province.cut_district(0)
    states = _by_slug(rm)
    assert states["ubnd-213"] == "down"
    assert {states[s] for s in province.commune_sites[0::2]} == {"unreachable"}
    assert {states[s] for s in province.commune_sites[1::2]} == {"up"}
    assert states["dc"] == "up"


def test_problems_list_root_causes_first_with_the_devices_cut_off_behind_them(
        rm: ReadModel, province: Province) -> None:
    province.cut_district(0)
    province.set_state(province.commune_routers[1], "up", cause="none", flapping=True)
    province.set_state(province.vc_devices[3], "maintenance", cause="maintenance")
    problems, total = rm.problems()
    assert [(p.kind, p.device_name) for p in problems] == [
        ("down", "d213-rt"), ("flapping", "xa-001-rt"), ("maintenance", "xa-003-vc")]
    assert problems[0].unreachable_behind == 10  # 5 communes × (router + codec)
    assert total == 3


def test_coverage_keeps_not_yet_inventoried_apart_from_down(rm: ReadModel, province: Province,
                                                           engine: Engine) -> None:
    province.cut_district(0)
    with engine.begin() as conn:  # a retired commune is not inventoried any more
        conn.execute(update(Site).where(Site.slug == province.commune_sites[1]).values(status="retired"))
    cov = {c.level: c for c in rm.overview().coverage}
    commune = cov["commune"]
    assert (commune.target, commune.inventoried, commune.not_inventoried) == (230, 9, 221)
    assert (commune.connected, commune.reachable, commune.states.unreachable) == (9, 4, 5)
    district = cov["district"]
    assert (district.target, district.inventoried, district.reachable, district.states.down) == (10, 2, 1, 1)
    assert (cov["vc"].inventoried, cov["vc"].reachable) == (9, 4)
    assert (cov["datacenter"].connected, cov["datacenter"].reachable) == (1, 1)


def test_availability_is_time_based_from_state_intervals(rm: ReadModel, province: Province) -> None:
    routers = province.commune_routers
    province.intervals(routers[:5], down_minutes=144)
    province.intervals(routers[5:])
    cov = {c.level: c for c in rm.overview().coverage}
    # half the commune routers down for 144 of 1440 minutes: 1 - 144 / 2880 of the device-time
    assert cov["commune"].availability_24h == pytest.approx(95.0, abs=0.01)
    assert cov["commune"].availability_30d == pytest.approx(100 - 100 * 144 / (2 * 43200), abs=0.01)
    assert cov["vc"].availability_24h is None  # no interval recorded: no data, not 0 %


def test_data_is_stale_when_the_last_sweep_is_older_than_stale_after_s(rm: ReadModel, province: Province,
                                                                       settings: Settings) -> None:
    assert rm.freshness().stale is False
    province.heartbeat(age_s=settings.web.stale_after_s + 60)
    fr = rm.freshness()
    assert fr.stale is True and fr.age_s is not None and fr.age_s > settings.web.stale_after_s
    province.heartbeat(kinds=())
    assert rm.freshness().stale is True and rm.freshness().last_sweep_at is None


def test_site_search_ignores_diacritics_and_district_filter_includes_the_communes_below(
        rm: ReadModel, province: Province) -> None:
    assert _by_slug(rm, q="tan soi 003") == {"xa-003": "up"}
    in_213 = set(_by_slug(rm, district="213"))
    assert in_213 == {"ubnd-213", *province.commune_sites[0::2]}
    assert set(_by_slug(rm, level="district")) == {"ubnd-213", "ubnd-215"}


def test_a_site_of_a_merged_commune_counts_under_the_successors_district(
        rm: ReadModel, province: Province, engine: Engine) -> None:
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    with engine.begin() as conn:
        new = conn.execute(insert(Region).values(code="07999", name="Xã Mới", slug="x-moi", level="commune",
                                                 valid_from=yesterday, search_text="")).inserted_primary_key[0]
        d215 = conn.execute(Region.__table__.select().where(Region.code == "215")).one().id  # type: ignore[attr-defined]
        conn.execute(insert(RegionParentLink).values(region_id=new, parent_id=d215, valid_from=yesterday))
        conn.execute(update(Region).where(Region.code == "07000").values(valid_to=yesterday, successor_id=new))
    row = rm.sites(SiteFilter(q="xa-000")).results[0]
    assert (row.region_code, row.district_code) == ("07999", "215")
    assert "xa-000" in _by_slug(rm, district="215")


def test_an_unconfirmed_failure_does_not_change_the_site_state(rm: ReadModel, province: Province) -> None:
    province.set_state(province.commune_routers[2], "down", hard=False)
    assert _by_slug(rm)["xa-002"] == "up"
    detail = rm.site("xa-002")
    assert detail is not None
    router = next(d for d in detail.devices if d.name == "xa-002-rt")
    assert (router.state, router.hard, router.pending_state) == ("up", False, "down")


def test_cached_aggregates_are_dropped_when_a_sweep_finishes(engine: Engine, settings: Settings,
                                                             province: Province) -> None:
    rm = ReadModel(engine, settings, cache_ttl_s=3600, token_check_s=0)
    assert rm.overview().sites.down == 0
    province.cut_district(0)
    assert rm.overview().sites.down == 0  # same sweep: served from the cache
    province.now += timedelta(seconds=60)
    province.heartbeat()
    assert rm.overview().sites.down == 1


def test_site_detail_shows_devices_circuits_traffic_vc_measurements_and_maintenance(
        rm: ReadModel, province: Province, engine: Engine) -> None:
    slug, router = province.commune_sites[1], province.commune_routers[1]
    province.measurements([router], hours=1)
    province.traffic([province.commune_interfaces[1]], bps=40e6)
    province.event(router, "up", "down", minutes_ago=30)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(insert(MaintenanceWindowRow).values(
            name="Thay nguồn UPS", scope_type="site", scope_id=rm.site_id(slug), kind="one_off",
            start=now - timedelta(minutes=5), end=now + timedelta(hours=1), days=[], comment="VNPT"))
    d = rm.site(slug)
    assert d is not None
    assert [x.name for x in d.devices] == [f"{slug}-rt", f"{slug}-vc"]
    (circuit,) = d.circuits
    assert (circuit.side, circuit.commit_rate_kbps, circuit.in_bps) == ("Z", 100_000, 40e6)
    assert circuit.util_pct == pytest.approx(40.0)
    assert [v.device_name for v in d.vc_endpoints] == [f"{slug}-vc"]
    assert [(m.device_name, m.kind, m.success) for m in d.measurements] == [(f"{slug}-rt", "icmp", True)]
    assert [e.new_state for e in d.events] == ["down"]
    assert [(w.name, w.active_now) for w in d.maintenance] == [("Thay nguồn UPS", True)]
    assert rm.site("no-such-site") is None


def test_series_are_downsampled_in_sql_to_at_most_400_points(rm: ReadModel, province: Province,
                                                            engine: Engine) -> None:
    from infra_monitor.storage.models import Rollup

    device = province.commune_routers[1]
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    hourly = [{"resolution": 3600, "device_id": device, "kind": "icmp", "bucket": end - timedelta(hours=h),
               "count": 60, "successes": 60, "rtt_min_ms": 5.0 + h % 3, "rtt_max_ms": 50.0 + h % 5,
               "rtt_sum_ms": 600.0 * (1 + h % 2), "rtt_n": 60, "loss_sum_pct": 60.0, "loss_n": 60}
              for h in range(24 * 366)]
    with engine.begin() as conn:
        conn.execute(insert(Rollup), hourly)
    province.measurements([device], hours=24, rtt=12.5)
    site_id = rm.site_id("xa-001")
    assert site_id is not None
    for period, points in (("24h", 288), ("7d", 168), ("30d", 360), ("1y", 365)):
        series = rm.site_series(site_id, "rtt", period)
        avg = next(line for line in series.lines if line.key == "rtt_avg")
        assert len(avg.points) == points <= 400, period
        values = [v for _t, v in avg.points if v is not None]
        if period == "24h":
            assert set(values) == {12.5}
        elif period == "7d":  # one point per hour: even hours average 10 ms, odd hours 20 ms
            assert set(values) == {10.0, 20.0}
        else:  # 2 h or 24 h groups merge sums and counts exactly: (10 + 20) / 2, except a partial edge
            assert all(10.0 <= v <= 20.0 for v in values) and values.count(15.0) >= len(values) - 2, period
        low = next(line for line in series.lines if line.key == "rtt_min")
        assert min(v for _t, v in low.points if v is not None) == pytest.approx(10.5 if period == "24h" else 5.0)
        loss = rm.site_series(site_id, "loss", period).lines[0]
        assert {v for _t, v in loss.points if v is not None} <= {0.0, 1.0}


def test_util_series_plots_a_circuits_traffic_against_its_committed_rate(rm: ReadModel, province: Province) -> None:
    province.traffic([province.commune_interfaces[1]], bps=40e6, hours=3)
    site_id = rm.site_id("xa-001")
    assert site_id is not None
    series = rm.site_series(site_id, "util", "24h")
    lines = {line.key: line for line in series.lines}
    assert set(lines) == {"in_bps", "out_bps", "commit_bps"}
    assert {v for _t, v in lines["in_bps"].points if v is not None} == {40e6}
    assert {v for _t, v in lines["commit_bps"].points} == {100e6}
    assert series.subject == "TSLCD-07001"


def test_a_maintenance_window_recorded_after_the_fact_takes_its_downtime_out_of_availability(
        rm: ReadModel, province: Province, engine: Engine) -> None:
    from infra_monitor.status.store.models import StateIntervalRow

    now = datetime.now(UTC)
    province.intervals(province.commune_routers[1:])
    rows = [("up", now - timedelta(days=40), now - timedelta(hours=3)),
            ("down", now - timedelta(hours=3), now - timedelta(hours=1)), ("up", now - timedelta(hours=1), None)]
    with engine.begin() as conn:
        for state, start, end in rows:
            conn.execute(insert(StateIntervalRow).values(
                device_id=province.commune_routers[0], state=state, start=start, end=end,
                cause="own_failure" if state == "down" else "none"))
    before = {c.level: c for c in rm.overview().coverage}["commune"].availability_24h
    assert before == pytest.approx(100 - 100 * 120 / (10 * 1440), abs=0.01)
    with engine.begin() as conn:  # the outage was planned work, recorded afterwards
        conn.execute(insert(MaintenanceWindowRow).values(
            name="Nâng cấp phần mềm", scope_type="device", scope_id=province.commune_routers[0], kind="one_off",
            start=now - timedelta(hours=3, minutes=5), end=now - timedelta(minutes=55), days=[]))
    after = {c.level: c for c in rm.overview().coverage}["commune"].availability_24h
    assert after == pytest.approx(100.0)

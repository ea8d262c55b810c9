"""Graph series over HTTP on SQLite and PostgreSQL: every range (1 h … 1 y) reads the right source (raw
results or rollups) in its own step, gaps stay null, loss is a percentage, the committed rate is a line on
the same grid, and a bad range is refused with a message naming the parameter."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from infra_monitor.config import Settings
from infra_monitor.readmodel.series import PERIODS, RAW
from infra_monitor.storage.writer import InterfaceRecord, ResultRecord, write_interface_samples, write_results
from tests.users import ADMIN_TOKEN
from tests.web.builders import Province

NOW = datetime(2026, 11, 25, 9, 31, 20, tzinfo=UTC)
GAP = (NOW - timedelta(minutes=40), NOW - timedelta(minutes=25))  # the poller was stopped
LOSSY = NOW - timedelta(minutes=10)  # one check lost every packet


@pytest.fixture
def web_url(db_url: str) -> str:
    return db_url


def _results(device: int, start: datetime, end: datetime, every: timedelta) -> list[ResultRecord]:
    out, ts, i = [], start, 0
    while ts < end:
        if not GAP[0] <= ts < GAP[1]:
            if abs((ts - LOSSY).total_seconds()) < every.total_seconds() / 2:
                out.append(ResultRecord(ts, device, "icmp", False, loss_pct=100.0, error="timeout"))
            else:
                rtt = 10.0 + i % 5
                out.append(ResultRecord(ts, device, "icmp", True, rtt - 1.5, rtt, rtt + 3.0, 0.0))
        ts += every
        i += 1
    return out


@pytest.fixture
def seeded(engine: Engine) -> Province:
    """A province with 9 days of checks of commune 1's router: every minute for the last 7 hours, every 5
    minutes before; its circuit's interface sampled every minute for 2 hours; a 15-minute gap; a lost check."""
    p = Province.build(engine, communes=2, now=NOW)
    router, interface = p.commune_routers[1], p.commune_interfaces[1]
    recent = NOW - timedelta(hours=7)
    records = _results(router, NOW - timedelta(days=9), recent, timedelta(minutes=5))
    records += _results(router, recent, NOW, timedelta(minutes=1))
    samples = [InterfaceRecord(NOW - timedelta(minutes=k), interface, 1, in_bps=30e6 + k * 1e5, out_bps=8e6)
               for k in range(1, 121)]
    with engine.begin() as conn:
        for k in range(0, len(records), 2000):
            write_results(conn, records[k:k + 2000])
        write_interface_samples(conn, samples)
    return p


@pytest.fixture
def api(engine: Engine, settings: Settings, seeded: Province) -> Iterator[TestClient]:
    from web.app import create_app

    app = create_app(settings, engine)
    app.state.readmodel.cache.ttl_s = 0
    app.state.readmodel._clock = lambda: NOW  # the series grid follows the read model's clock
    with TestClient(app, headers={"Authorization": f"Token {ADMIN_TOKEN}"}) as c:
        yield c


def _get(api: TestClient, path: str, **params: str) -> dict:  # type: ignore[type-arg]
    r = api.get(path, params=params)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def _values(series: dict, key: str) -> list[float | None]:  # type: ignore[type-arg]
    (line,) = [ln for ln in series["lines"] if ln["key"] == key]
    return [v for _t, v in line["points"]]


def test_each_range_has_its_own_step_and_about_its_length_in_points(api: TestClient) -> None:
    expected = {"1h": (120, 30), "6h": (300, 72), "24h": (300, 288), "7d": (3600, 168), "30d": (7200, 360),
                "1y": (86400, 365)}
    assert set(expected) == set(PERIODS)
    for name, (step, points) in expected.items():
        s = _get(api, "/api/status/sites/xa-001/series", metric="rtt", period=name)
        assert s["period"] == name and s["resolution_s"] == step
        lines = s["lines"]
        assert [ln["key"] for ln in lines] == ["rtt_min", "rtt_avg", "rtt_max"]
        times = [t for t, _v in lines[0]["points"]]
        assert points <= len(times) <= points + 1, (name, len(times))
        assert all(b - a == step * 1000 for a, b in itertools.pairwise(times))
        assert all([t for t, _v in ln["points"]] == times for ln in lines)  # one grid for every line
        start, end = datetime.fromisoformat(s["start"]), datetime.fromisoformat(s["end"])
        assert end - start == PERIODS[name].length and NOW < end <= NOW + timedelta(seconds=step)
        assert any(v is not None for v in _values(s, "rtt_avg")), name


def test_short_ranges_read_raw_results_and_keep_gaps_as_null(api: TestClient, seeded: Province) -> None:
    assert PERIODS["1h"].resolution == RAW and PERIODS["6h"].resolution == RAW
    s = _get(api, "/api/status/sites/xa-001/series", metric="rtt", period="1h")
    times = [t for t, _v in s["lines"][0]["points"]]
    got = dict(zip(times, zip(_values(s, "rtt_min"), _values(s, "rtt_avg"), _values(s, "rtt_max"), strict=True),
                   strict=True))
    # what the raw checks of each 2-minute step give (5-minute rollups could not: their steps are 5 minutes)
    checks: dict[int, list[ResultRecord]] = {}
    for r in _results(seeded.commune_routers[1], NOW - timedelta(hours=7), NOW, timedelta(minutes=1)):
        if r.rtt_avg_ms is not None:
            checks.setdefault(int(r.ts.timestamp()) // 120 * 120_000, []).append(r)
    for t, (lo, avg, hi) in got.items():
        step = checks.get(t)
        if not step:
            assert (lo, avg, hi) == (None, None, None), t  # a gap is null, never zero
            continue
        assert lo == min(r.rtt_min_ms for r in step)  # type: ignore[type-var]
        assert hi == max(r.rtt_max_ms for r in step)  # type: ignore[type-var]
        assert avg == pytest.approx(sum(r.rtt_avg_ms for r in step) / len(step))  # type: ignore[misc]
    gap_steps = [t for t in got if GAP[0].timestamp() * 1000 <= t and t + 120_000 <= GAP[1].timestamp() * 1000]
    assert len(gap_steps) >= 6 and all(got[t] == (None, None, None) for t in gap_steps)
    assert sum(v[1] is not None for v in got.values()) >= 20
    loss = _values(_get(api, "/api/status/sites/xa-001/series", metric="loss", period="1h"), "loss")
    assert max(v for v in loss if v is not None) == 50.0  # one of the two checks of that step lost everything
    assert min(v for v in loss if v is not None) == 0.0
    six = _get(api, "/api/status/sites/xa-001/series", metric="loss", period="6h")
    assert six["resolution_s"] == 300 and max(v for v in _values(six, "loss") if v is not None) == 20.0


def test_seven_days_come_from_hourly_rollups_with_one_point_per_hour(api: TestClient) -> None:
    s = _get(api, "/api/status/sites/xa-001/series", metric="rtt", period="7d")
    avg = _values(s, "rtt_avg")
    assert sum(v is not None for v in avg) >= 160 and all(v is None or 10 <= v <= 14 for v in avg)
    year = _get(api, "/api/status/sites/xa-001/series", metric="rtt", period="1y")
    days = [v for v in _values(year, "rtt_avg") if v is not None]
    assert 9 <= len(days) <= 10  # nine days of history, the first and last ones partial


def test_traffic_against_the_committed_rate_on_the_same_grid(api: TestClient, seeded: Province) -> None:
    for period in ("1h", "24h"):
        s = _get(api, "/api/status/sites/xa-001/series", metric="util", period=period)
        keys = [ln["key"] for ln in s["lines"]]
        assert keys == ["in_bps", "out_bps", "commit_bps"] and s["subject"] == "TSLCD-07001"
        commit = _values(s, "commit_bps")
        assert set(commit) == {100_000 * 1000.0}  # the circuit's 100 Mbps, at every step
        assert len(commit) == len(_values(s, "in_bps"))
        ins = [v for v in _values(s, "in_bps") if v is not None]
        assert ins and all(30e6 < v < 42.1e6 for v in ins), period
        assert {v for v in _values(s, "out_bps") if v is not None} == {8e6}
    device = _get(api, f"/api/status/devices/{seeded.commune_routers[1]}/series", metric="util", period="6h")
    assert [ln["key"] for ln in device["lines"]][-1] == "commit_bps"


@pytest.mark.parametrize("bad", ["2h", "24H", "", "7d;drop", "1y "])
def test_a_bad_range_is_refused_naming_the_parameter(api: TestClient, bad: str) -> None:
    for path in ("/api/status/sites/xa-001/series", "/api/status/devices/1/series"):
        r = api.get(path, params={"period": bad})
        assert r.status_code == 422, (path, bad)
        (error,) = r.json()["detail"]
        assert error["loc"] == ["query", "period"] and "1h" in error["msg"] and "1y" in error["msg"]

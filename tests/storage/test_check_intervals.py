"""Per-check state intervals and service availability from them, through the writer every sweep uses, on
SQLite and PostgreSQL: an interval goes on while the state stays, closes and reopens on a change, ends at the
last result when the check falls silent longer than the staleness window (missing data is never up), retention
drops old closed intervals, and a service's availability is the time all its checks were up over the time
with data for all of them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from infra_monitor.config import RetentionConfig
from infra_monitor.readmodel.service_uptime import combined_figures, service_figures, service_times
from infra_monitor.storage.check_intervals import CheckStateIntervalRow, intervals_of
from infra_monitor.storage.retention import apply_retention
from infra_monitor.storage.writer import ResultRecord, write_results
from inventory.models import Device, DeviceRole, Service, Site

T0 = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)
GAP = timedelta(minutes=3)
MIN = timedelta(minutes=1)


def _service(engine: Engine, ports: list[int]) -> tuple[int, int]:
    with Session(engine) as s:
        role = DeviceRole(slug="server", name="Server")
        site = Site(slug="ttdl", name="TTDL", category="province")
        s.add_all([role, site])
        s.flush()
        dev = Device(site_id=site.id, name="srv1", role_id=role.id)  # type: ignore[arg-type]
        s.add(dev)
        s.flush()
        svc = Service(device_id=dev.id, name="Cổng", kind="tcp", ports=ports,  # type: ignore[arg-type]
                      counts_toward="hosted_systems")
        s.add(svc)
        s.commit()
        return dev.id, svc.id  # type: ignore[return-value]


def _key(service_id: int, port: int) -> str:
    return f"service:{service_id}:tcp:{port}"


def _write(engine: Engine, device_id: int, service_id: int, at: datetime, states: dict[int, bool]) -> None:
    with engine.begin() as conn:
        write_results(conn, [ResultRecord(ts=at, device_id=device_id, kind="tcp", success=ok,
                                          check_key=_key(service_id, port), service_id=service_id,
                                          availability=False) for port, ok in states.items()], max_gap=GAP)


def test_an_interval_lasts_while_the_state_stays_and_a_change_starts_the_next(migrated_engine: Engine) -> None:
    dev, svc = _service(migrated_engine, [443])
    for m, ok in enumerate([True, True, True, False, False, True]):
        _write(migrated_engine, dev, svc, T0 + m * MIN, {443: ok})
    with migrated_engine.connect() as conn:
        rows = [(r.state, r.start, r.end, r.last_seen, r.service_id)
                for r in intervals_of(conn, dev, _key(svc, 443))]
    assert rows == [("up", T0, T0 + 3 * MIN, T0 + 2 * MIN, svc),
                    ("down", T0 + 3 * MIN, T0 + 5 * MIN, T0 + 4 * MIN, svc),
                    ("up", T0 + 5 * MIN, None, T0 + 5 * MIN, svc)]


def test_a_silence_longer_than_the_staleness_window_is_no_data(migrated_engine: Engine) -> None:
    dev, svc = _service(migrated_engine, [443])
    _write(migrated_engine, dev, svc, T0, {443: True})
    _write(migrated_engine, dev, svc, T0 + MIN, {443: True})
    _write(migrated_engine, dev, svc, T0 + 11 * MIN, {443: True})  # ten silent minutes, window three
    _write(migrated_engine, dev, svc, T0 + 10 * MIN, {443: False})  # written late, out of order: ignored
    with migrated_engine.connect() as conn:
        rows = [(r.state, r.start, r.end) for r in intervals_of(conn, dev, _key(svc, 443))]
        assert rows == [("up", T0, T0 + MIN), ("up", T0 + 11 * MIN, None)]
        times = service_times(conn, [svc], T0, T0 + 20 * MIN, now=T0 + 12 * MIN, max_gap=GAP)[svc]
        # up from 0 to 1 and from 11 to now (12); nothing counted in between, nothing after now
        assert (times.up_s, times.down_s, times.window_s) == (120.0, 0.0, 720.0)
        assert times.pct == 100.0
        # the check falls silent for good: its open interval stops counting at its last result
        later = service_times(conn, [svc], T0, T0 + 30 * MIN, now=T0 + 30 * MIN, max_gap=GAP)[svc]
        assert later.up_s == 60.0


def test_service_availability_needs_every_check_and_any_down_check_is_downtime(migrated_engine: Engine) -> None:
    dev, svc = _service(migrated_engine, [80, 443])
    # minute 0-10: both up; 10-15: 443 down; 15-20: only 80 answers anything (443 not checked): no data
    for m in range(0, 10):
        _write(migrated_engine, dev, svc, T0 + m * MIN, {80: True, 443: True})
    for m in range(10, 15):
        _write(migrated_engine, dev, svc, T0 + m * MIN, {80: True, 443: False})
    _write(migrated_engine, dev, svc, T0 + 15 * MIN, {80: True, 443: True})
    for m in range(16, 21):
        _write(migrated_engine, dev, svc, T0 + m * MIN, {80: True})
    now = T0 + 20 * MIN
    with migrated_engine.connect() as conn:
        t = service_times(conn, [svc], T0, now, now=now, max_gap=timedelta(seconds=90))[svc]
        # 443's last result is at 15: with a 90 s window it has no data after 15
        assert (t.up_s, t.down_s) == (600.0 + 0.0, 300.0)
        assert round(t.pct or 0, 3) == round(100 * 600 / 900, 3)
        figs = service_figures(conn, [svc], now, max_gap=timedelta(seconds=90))
        assert figs["24h"][svc].pct == t.pct and figs["24h"][svc].data_s == 900.0
        assert figs["24h"][svc].window_s == 86400.0
        # three-minute window: at 17, 443's last result (15) is fresh, so 15-17 counts as up; at 20 it is stale
        t3 = service_times(conn, [svc], T0, now, now=T0 + 17 * MIN, max_gap=GAP)[svc]
        assert (t3.up_s, t3.down_s) == (720.0, 300.0)
        assert service_times(conn, [svc], T0, now, now=now, max_gap=GAP)[svc].up_s == 600.0


def test_several_services_are_service_time_weighted_and_an_unmeasured_one_lowers_the_coverage(
        migrated_engine: Engine) -> None:
    dev, svc = _service(migrated_engine, [443])
    with Session(migrated_engine) as s:
        other = Service(device_id=dev, name="Một cửa", kind="tcp", ports=[8443], counts_toward="hosted_systems")
        silent = Service(device_id=dev, name="Thư điện tử", kind="tcp", ports=[25], counts_toward="hosted_systems")
        s.add_all([other, silent])
        s.commit()
        other_id, silent_id = other.id, silent.id
    assert other_id is not None and silent_id is not None
    for m in range(0, 11):
        _write(migrated_engine, dev, svc, T0 + m * MIN, {443: True})
        with migrated_engine.begin() as conn:
            write_results(conn, [ResultRecord(ts=T0 + m * MIN, device_id=dev, kind="tcp", success=m >= 5,
                                              check_key=_key(other_id, 8443), service_id=other_id,
                                              availability=False)], max_gap=GAP)
    now = T0 + 10 * MIN
    with migrated_engine.connect() as conn:
        fig = combined_figures(conn, [svc, other_id, silent_id], now, max_gap=GAP)["24h"]
    # svc: 10 min up; other: 5 min down then 5 min up; silent: nothing → 15 up of 20 counted, 20 min / 3 services
    assert fig.pct == 75.0
    assert fig.data_s == 400.0


def test_retention_drops_closed_intervals_older_than_the_long_retention(migrated_engine: Engine) -> None:
    dev, svc = _service(migrated_engine, [443])
    old, recent = T0 - timedelta(days=40), T0 - timedelta(days=20)
    for at, ok in ((old, True), (old + MIN, False), (recent, True), (recent + MIN, False), (T0, True)):
        _write(migrated_engine, dev, svc, at, {443: ok})
    cfg = RetentionConfig(raw_days=1, rollup_5m_days=2, rollup_1h_days=30)
    report = apply_retention(migrated_engine, cfg, T0 + MIN)
    # the two intervals of 40 days ago ended before the 30-day cut; the later ones stay, the open one too
    assert report.deleted["check_state_interval"] == 2
    with migrated_engine.connect() as conn:
        assert [(r.state, r.start, r.end) for r in intervals_of(conn, dev, _key(svc, 443))] == [
            ("up", recent, recent + MIN), ("down", recent + MIN, recent + MIN), ("up", T0, None)]
        assert conn.execute(select(func.count()).select_from(CheckStateIntervalRow)).scalar_one() == 3

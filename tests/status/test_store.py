"""Specification of the persistence layer: a sweep applied to a real database (SQLite file and PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from infra_monitor.status.engine.availability import device_availability
from infra_monitor.status.engine.config import ChannelSpec, StatusConfig
from infra_monitor.status.engine.states import Cause, State
from infra_monitor.status.store.models import (
    DeviceStatusRow,
    EventRow,
    MaintenanceWindowRow,
    NotificationRow,
    PollerHeartbeatRow,
    StateIntervalRow,
)
from infra_monitor.status.store.sweeps import (
    apply_sweep,
    load_intervals,
    load_statuses,
    load_topology,
    record_heartbeat,
)
from tests.status.inventory import Province, add_communes, build_province

T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
CONFIG = StatusConfig(retries=1, channels=(ChannelSpec("ops", min_severity="warning"),))


def at(n: int) -> datetime:
    return T0 + n * MINUTE


def observe(p: Province, *failing: int) -> dict[int, bool | None]:
    obs: dict[int, bool | None] = {d: True for d in [p.core, p.district, p.district_codec, *p.communes]}
    obs.update(dict.fromkeys(failing, False))
    return obs


def sweep(engine: Engine, obs: dict[int, bool | None], now: datetime, config: StatusConfig = CONFIG):
    with Session(engine) as session, session.begin():
        return apply_sweep(session, obs, now, config)


def rows(engine: Engine, model: type, *where: object) -> list:
    with Session(engine) as session:
        return list(session.execute(select(model).where(*where)).scalars())  # type: ignore[arg-type]


def test_topology_is_read_from_the_inventory_skipping_unmonitored_devices(
    status_db: Engine, province: Province
) -> None:
    with Session(status_db) as session:
        topo = load_topology(session)
    assert topo.parents_of(province.district) == {province.core}
    assert topo.parents_of(province.communes[0]) == {province.district}
    assert province.district_switch not in topo.device_ids
    assert topo.parents_of(province.district_codec) == {province.district}


def test_first_sweep_stores_one_status_and_one_open_interval_per_device(status_db: Engine, province: Province) -> None:
    outcome = sweep(status_db, observe(province), at(0))
    assert outcome.notifications == 0
    statuses = rows(status_db, DeviceStatusRow)
    assert len(statuses) == 23 and {s.state for s in statuses} == {"up"}
    intervals = rows(status_db, StateIntervalRow)
    assert len(intervals) == 23
    assert all(iv.end is None and iv.start == at(0) and iv.start.tzinfo is not None for iv in intervals)


def test_district_down_with_20_communes_behind_enqueues_exactly_one_notification(
    status_db: Engine, province: Province
) -> None:
    sweep(status_db, observe(province), at(0))
    outcome = sweep(status_db, observe(province, province.district, *province.behind_district), at(1))
    notes = rows(status_db, NotificationRow)
    assert len(notes) == 1
    payload = notes[0].payload
    assert payload["device"]["name"] == "yt-router" and payload["device"]["state"] == "down"
    assert payload["affected_count"] == 21
    assert "21 device(s) unreachable behind it" in payload["title"]
    assert outcome.events == 22
    with Session(status_db) as session:
        statuses = load_statuses(session)
    for d in province.behind_district:
        assert (statuses[d].state, statuses[d].root_cause_device_id) == (State.UNREACHABLE, province.district)


def test_state_intervals_close_and_open_at_the_first_failed_check(status_db: Engine, province: Province) -> None:
    config = StatusConfig(retries=3)
    commune = province.communes[0]
    sweep(status_db, observe(province), at(0), config)
    for n in (1, 2, 3):
        sweep(status_db, observe(province, commune), at(n), config)
    intervals = rows(status_db, StateIntervalRow, StateIntervalRow.device_id == commune)
    intervals.sort(key=lambda iv: iv.start)
    assert [(iv.state, iv.start, iv.end) for iv in intervals] == [("up", at(0), at(1)), ("down", at(1), None)]


def test_maintenance_window_suppresses_notifications_and_is_excluded_from_availability(
    status_db: Engine, province: Province
) -> None:
    with Session(status_db) as session, session.begin():
        session.add(MaintenanceWindowRow(name="power cut", scope_type="site", scope_id=province.district_site,
                                         kind="one_off", start=at(1), end=at(3), created_by="test"))
    sweep(status_db, observe(province), at(0))
    sweep(status_db, observe(province, province.district, *province.behind_district), at(1))
    sweep(status_db, observe(province, province.district, *province.behind_district), at(2))
    sweep(status_db, observe(province), at(3))
    assert rows(status_db, NotificationRow) == []
    kinds = [e.kind for e in rows(status_db, EventRow, EventRow.maintenance_window_id.is_not(None))]  # type: ignore[union-attr]
    assert sorted(kinds) == ["maintenance_end", "maintenance_start"]

    with Session(status_db) as session:
        intervals = load_intervals(session, at(0), at(4))
    per_device = device_availability(intervals, at(0), at(4))
    assert per_device[province.district].maintenance == 2 * MINUTE
    assert per_device[province.district].uptime_pct == 100.0
    commune = per_device[province.communes[0]]
    assert (commune.maintenance, commune.down_parent, commune.uptime_pct) == (2 * MINUTE, timedelta(0), 100.0)
    assert {iv.cause for iv in intervals if iv.device_id == province.communes[0]} == {Cause.NONE, Cause.MAINTENANCE}


def test_region_window_covers_sites_of_the_regions_below(status_db: Engine, province: Province) -> None:
    with Session(status_db) as session, session.begin():
        session.add(MaintenanceWindowRow(name="district works", scope_type="region",
                                         scope_id=province.district_region, kind="one_off", start=at(0), end=at(9)))
    outcome = sweep(status_db, observe(province), at(1))
    assert outcome.in_maintenance == {province.district, province.district_codec, *province.communes}


def test_devices_unchecked_for_too_long_become_unknown(status_db: Engine, province: Province) -> None:
    config = StatusConfig(retries=1, interval_s=60, stale_after_intervals=3, channels=CONFIG.channels)
    sweep(status_db, observe(province), at(0), config)
    checked: dict[int, bool | None] = {province.core: True, province.district: True}
    sweep(status_db, checked, at(0) + timedelta(minutes=3, seconds=1), config)
    with Session(status_db) as session:
        statuses = load_statuses(session)
    assert statuses[province.core].state is State.UP
    assert {statuses[d].state for d in province.communes} == {State.UNKNOWN}
    notes = rows(status_db, NotificationRow)
    assert len(notes) == 1 and notes[0].payload["kind"] == "no_data"


@contextmanager
def count_statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


def _statements_for_district_failure(engine: Engine, p: Province, start: int) -> int:
    sweep(engine, observe(p), at(start))
    with count_statements(engine) as seen:
        sweep(engine, observe(p, p.district, *p.behind_district), at(start + 1))
    return len([s for s in seen if not s.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK"))])


def test_a_sweep_costs_the_same_number_of_queries_for_5_or_60_communes(status_db: Engine) -> None:
    with Session(status_db) as session:
        p = build_province(session, communes=5)
    few = _statements_for_district_failure(status_db, p, 0)
    with Session(status_db) as session:
        add_communes(session, p, 55)
    many = _statements_for_district_failure(status_db, p, 10)
    assert len(p.communes) == 60
    # 15 for statuses, intervals, events, outbox; 4 for the problem opened; 4 for the site tallies (generation,
    # delete and insert of the sites that changed, the generation built at)
    assert few == many <= 23


def test_heartbeat_is_upserted_and_counts_overruns(status_db: Engine) -> None:
    with Session(status_db) as session, session.begin():
        record_heartbeat(session, "default", "icmp", at(0), at(1), 230, overran=True)
    with Session(status_db) as session, session.begin():
        record_heartbeat(session, "default", "icmp", at(2), at(3), 231, overran=False)
    [hb] = rows(status_db, PollerHeartbeatRow)
    assert (hb.targets, hb.overruns, hb.last_sweep_finished) == (231, 1, at(3))


@pytest.mark.parametrize("monitored", [True, False])
def test_disabling_monitoring_removes_the_status_and_closes_the_interval(
    status_db: Engine, province: Province, monitored: bool
) -> None:
    from inventory.models import Device

    sweep(status_db, observe(province), at(0))
    with Session(status_db) as session, session.begin():
        session.get(Device, province.communes[0]).monitoring_enabled = monitored  # type: ignore[union-attr]
    sweep(status_db, observe(province), at(5))
    status = rows(status_db, DeviceStatusRow, DeviceStatusRow.device_id == province.communes[0])
    [iv] = rows(status_db, StateIntervalRow, StateIntervalRow.device_id == province.communes[0])
    assert bool(status) is monitored
    assert iv.end == (None if monitored else at(5))


def test_two_sweeps_applied_at_once_are_serialised(status_db: Engine, province: Province) -> None:
    sweep(status_db, observe(province), at(0))
    failing = observe(province, province.district, *province.behind_district)
    first = Session(status_db)
    first.begin()
    apply_sweep(first, failing, at(1), CONFIG)
    second_done = threading.Event()

    def second() -> None:
        sweep(status_db, failing, at(1) + timedelta(seconds=20))
        second_done.set()

    worker = threading.Thread(target=second)
    worker.start()
    worker.join(0.3)  # give the second sweep the chance to read before the first commits, were it unlocked
    first.commit()
    first.close()
    worker.join()
    assert second_done.is_set()
    assert len(rows(status_db, NotificationRow)) == 1
    open_intervals = rows(status_db, StateIntervalRow, StateIntervalRow.end.is_(None))  # type: ignore[union-attr]
    assert len(open_intervals) == len({iv.device_id for iv in open_intervals}) == 23

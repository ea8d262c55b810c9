"""Migration 0007 carries results per (device, kind) over to results per check, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from infra_monitor.db import import_all_models, make_engine, upgrade
from infra_monitor.storage.writer import ResultRecord, write_results
from inventory.models import Device, DeviceRole, Site

T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def _seed_0006(engine: Engine) -> None:
    """Results as the 0006 schema held them: one latest row and one rollup line per (device, kind)."""
    # the inventory is written by today's models on today's schema, which is then taken down to 0006 (the
    # models' later columns, e.g. object_change.source, do not exist at 0006)
    upgrade(engine)
    with Session(engine) as s:
        role, site = DeviceRole(slug="r", name="R"), Site(slug="dc", name="DC", category="datacenter")
        s.add_all([role, site])
        s.flush()
        s.add(Device(id=1, site_id=site.id, name="rt", role_id=role.id))
        s.commit()
    upgrade_down(engine)
    with engine.begin() as conn:
        for i, kind in enumerate(("icmp", "snmp", "tcp")):
            ts = T0 + timedelta(minutes=i)
            conn.execute(text("INSERT INTO probe_result (ts, device_id, kind, success, rtt_avg_ms, loss_pct, "
                              "poller_group) VALUES (:ts, 1, :k, true, 2.5, 0, 'default')"), {"ts": ts, "k": kind})
            conn.execute(text("INSERT INTO latest_result (device_id, kind, ts, success, rtt_avg_ms, loss_pct) "
                              "VALUES (1, :k, :ts, :ok, 2.5, 0)"), {"ts": ts, "k": kind, "ok": kind != "tcp"})
            conn.execute(text("INSERT INTO rollup (resolution, device_id, kind, bucket, count, successes, rtt_min_ms, "
                              "rtt_max_ms, rtt_sum_ms, rtt_n, loss_sum_pct, loss_n) VALUES (300, 1, :k, :b, 2, 2, "
                              "1.0, 4.0, 5.0, 2, 0, 2)"), {"k": kind, "b": T0})


def test_existing_results_become_one_check_per_kind_and_new_checks_sit_beside_them(db_url: str) -> None:
    import_all_models()
    engine = make_engine(db_url)
    try:
        _seed_0006(engine)
        upgrade(engine)
        with engine.connect() as conn:
            latest = conn.execute(text("SELECT check_key, kind, success, availability, rtt_avg_ms FROM latest_result "
                                       "ORDER BY check_key")).all()
            assert [tuple(r) for r in latest] == [("icmp", "icmp", True, True, 2.5), ("snmp", "snmp", True, True, 2.5),
                                                  ("tcp", "tcp", False, True, 2.5)]
            assert conn.execute(text("SELECT count(*) FROM probe_result WHERE check_key = kind")).scalar_one() == 3
            rollups = conn.execute(text("SELECT check_key, count, rtt_sum_ms FROM rollup ORDER BY check_key")).all()
            assert [tuple(r) for r in rollups] == [("icmp", 2, 5.0), ("snmp", 2, 5.0), ("tcp", 2, 5.0)]
        # a device with two ports now has two checks of the same kind, each with its own state and rollup
        with engine.begin() as conn:
            write_results(conn, [
                ResultRecord(T0 + timedelta(minutes=5), 1, "tcp", True, rtt_avg_ms=1.0, check_key="tcp:22",
                             measurements={"connect_ms": 1.0}),
                ResultRecord(T0 + timedelta(minutes=5), 1, "tcp", False, error="refused", check_key="tcp:443"),
            ])
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT check_key, success FROM latest_result WHERE kind = 'tcp' "
                                     "ORDER BY check_key")).all()
            assert [tuple(r) for r in rows] == [("tcp", False), ("tcp:22", True), ("tcp:443", False)]
            assert conn.execute(text("SELECT count(*) FROM rollup WHERE kind = 'tcp' AND resolution = 300")
                                ).scalar_one() == 3
        # and back: one result per (device, kind) again, the newest one
        upgrade_down(engine)
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT kind, success FROM latest_result ORDER BY kind")).all()
            assert [tuple(r) for r in rows] == [("icmp", True), ("snmp", True), ("tcp", False)]
            assert conn.execute(text("SELECT sum(count) FROM rollup WHERE kind = 'tcp' AND resolution = 300")
                                ).scalar_one() == 4
    finally:
        engine.dispose()


def upgrade_down(engine: Engine) -> None:
    from alembic import command

    from infra_monitor.db import alembic_config

    command.downgrade(alembic_config(engine), "0006")

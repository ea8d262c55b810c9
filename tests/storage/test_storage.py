"""Storage: batch writes, rollups equal to what the raw rows give, retention in batches (both backends)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from infra_monitor.config import RetentionConfig
from infra_monitor.storage.models import InterfaceRollup, InterfaceSampleRow, LatestResult, ProbeResultRow, Rollup
from infra_monitor.storage.retention import apply_retention
from infra_monitor.storage.writer import InterfaceRecord, ResultRecord, write_interface_samples, write_results
from inventory.models import Device, DeviceRole, Interface, Site

T0 = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)


def _devices(engine: Engine, n: int) -> tuple[list[int], list[int]]:
    with Session(engine) as s:
        role = DeviceRole(slug="router", name="Router")
        site = Site(slug="s1", name="Site 1", category="commune")
        s.add_all([role, site])
        s.flush()
        devs = [Device(site_id=site.id, name=f"d{i}", role_id=role.id) for i in range(n)]
        s.add_all(devs)
        s.flush()
        ifs = [Interface(device_id=d.id, name="wan0") for d in devs]
        s.add_all(ifs)
        s.commit()
        return [d.id for d in devs], [i.id for i in ifs]  # type: ignore[misc]


def _sweeps(device_ids: list[int], minutes: int, seed: int = 7) -> list[list[ResultRecord]]:
    rnd = random.Random(seed)
    sweeps = []
    for m in range(minutes):
        ts = T0 + timedelta(minutes=m, seconds=rnd.randint(0, 5))
        batch = []
        for d in device_ids:
            ok = rnd.random() > 0.2
            rtts = sorted(rnd.uniform(1, 80) for _ in range(3)) if ok else []
            batch.append(ResultRecord(
                ts=ts, device_id=d, kind="icmp", success=ok,
                rtt_min_ms=rtts[0] if ok else None, rtt_avg_ms=sum(rtts) / 3 if ok else None,
                rtt_max_ms=rtts[-1] if ok else None, loss_pct=rnd.choice([0.0, 33.3]) if ok else 100.0))
        sweeps.append(batch)
    return sweeps


def _raw_aggregate(records: list[ResultRecord], resolution: int) -> dict[tuple[int, datetime], dict[str, float]]:
    out: dict[tuple[int, datetime], dict[str, float]] = {}
    for r in records:
        epoch = int(r.ts.timestamp())
        key = (r.device_id, datetime.fromtimestamp(epoch - epoch % resolution, tz=UTC))
        a = out.setdefault(key, {"count": 0, "ok": 0, "min": float("inf"), "max": 0.0, "sum": 0.0, "n": 0,
                                 "loss": 0.0})
        a["count"] += 1
        a["ok"] += r.success
        a["loss"] += r.loss_pct or 0.0
        if r.rtt_avg_ms is not None:
            a["min"] = min(a["min"], r.rtt_min_ms)  # type: ignore[type-var]
            a["max"] = max(a["max"], r.rtt_max_ms)  # type: ignore[type-var]
            a["sum"] += r.rtt_avg_ms
            a["n"] += 1
    return out


def test_rollups_keep_exactly_what_the_raw_results_give(migrated_engine: Engine) -> None:
    device_ids, _ = _devices(migrated_engine, 4)
    sweeps = _sweeps(device_ids, minutes=130)
    for batch in sweeps:
        with migrated_engine.begin() as conn:
            write_results(conn, batch)
    flat = [r for b in sweeps for r in b]
    with Session(migrated_engine) as s:
        assert s.scalar(select(func.count()).select_from(ProbeResultRow)) == len(flat)
        for resolution in (300, 3600, 86400):
            expected = _raw_aggregate(flat, resolution)
            rows = s.execute(select(Rollup).where(Rollup.resolution == resolution)).scalars().all()
            assert len(rows) == len(expected)
            for row in rows:
                e = expected[(row.device_id, row.bucket)]
                assert row.count == e["count"] and row.successes == e["ok"]
                assert row.rtt_n == e["n"]
                if e["n"]:
                    assert abs(row.rtt_min_ms - e["min"]) < 1e-9 and abs(row.rtt_max_ms - e["max"]) < 1e-9
                    assert abs(row.rtt_sum_ms - e["sum"]) < 1e-6
                assert abs(row.loss_sum_pct - e["loss"]) < 1e-6
        latest = {r.device_id: r for r in s.execute(select(LatestResult)).scalars()}
        assert set(latest) == set(device_ids)
        for d in device_ids:
            last = next(r for r in sweeps[-1] if r.device_id == d)
            assert latest[d].ts == last.ts and latest[d].success == last.success


def test_retention_deletes_in_batches_and_rollups_keep_the_figures(migrated_engine: Engine) -> None:
    device_ids, if_ids = _devices(migrated_engine, 3)
    sweeps = _sweeps(device_ids, minutes=90)
    for i, batch in enumerate(sweeps):
        with migrated_engine.begin() as conn:
            write_results(conn, batch)
            write_interface_samples(conn, [InterfaceRecord(ts=batch[0].ts, interface_id=f, in_bps=1e6 * (i % 7),
                                                           out_bps=2e6, in_util_pct=1.0 * (i % 7))
                                           for f in if_ids])
    with Session(migrated_engine) as s:
        before = [(r.device_id, r.bucket, r.count, r.successes, r.rtt_sum_ms)
                  for r in s.execute(select(Rollup).order_by(Rollup.device_id, Rollup.bucket)).scalars()]
        if_before = s.execute(select(func.sum(InterfaceRollup.in_bps_sum))).scalar()
    now = T0 + timedelta(days=1, minutes=30)
    cfg = RetentionConfig(raw_days=1, rollup_5m_days=90, rollup_1h_days=3650, delete_batch=100)
    report = apply_retention(migrated_engine, cfg, now)
    cutoff = now - timedelta(days=1)
    expected_deleted = sum(1 for b in sweeps for r in b if r.ts < cutoff)
    assert 0 < expected_deleted < sum(len(b) for b in sweeps)
    assert report.deleted["probe_result"] == expected_deleted
    with Session(migrated_engine) as s:
        assert s.scalar(select(func.min(ProbeResultRow.ts))) >= cutoff
        assert s.scalar(select(func.min(InterfaceSampleRow.ts))) >= cutoff
        after = [(r.device_id, r.bucket, r.count, r.successes, r.rtt_sum_ms)
                 for r in s.execute(select(Rollup).order_by(Rollup.device_id, Rollup.bucket)).scalars()]
        assert after == before
        assert s.execute(select(func.sum(InterfaceRollup.in_bps_sum))).scalar() == if_before
    # rollups expire on their own schedule
    far = T0 + timedelta(days=100)
    apply_retention(migrated_engine, cfg, far)
    with Session(migrated_engine) as s:
        assert s.scalar(select(func.count()).select_from(Rollup).where(Rollup.resolution == 300)) == 0
        assert s.scalar(select(func.count()).select_from(Rollup).where(Rollup.resolution == 3600)) > 0


def test_naive_datetimes_are_refused(migrated_engine: Engine) -> None:
    import pytest
    from sqlalchemy.exc import StatementError

    device_ids, _ = _devices(migrated_engine, 1)
    with pytest.raises(StatementError, match="timezone-aware"), migrated_engine.begin() as conn:
        write_results(conn, [ResultRecord(ts=datetime(2026, 1, 1), device_id=device_ids[0], kind="icmp",
                                          success=True)])


def test_daily_buckets_start_at_local_midnight() -> None:
    from infra_monitor.storage.writer import bucket_start

    # 23:30 local (GMT+7) on 1/11 is 16:30 UTC: its day began at 17:00 UTC on 31/10
    ts = datetime(2026, 11, 1, 16, 30, tzinfo=UTC)
    assert bucket_start(ts, 86400, 7 * 3600) == datetime(2026, 10, 31, 17, 0, tzinfo=UTC)
    # 00:30 local on 2/11 (17:30 UTC on 1/11) is in the next local day
    assert bucket_start(ts + timedelta(hours=1), 86400, 7 * 3600) == datetime(2026, 11, 1, 17, 0, tzinfo=UTC)
    # hours and 5-minute buckets stay on the epoch grid
    assert bucket_start(ts, 3600, 7 * 3600) == datetime(2026, 11, 1, 16, 0, tzinfo=UTC)
    assert bucket_start(ts.replace(minute=34), 300, 7 * 3600) == datetime(2026, 11, 1, 16, 30, tzinfo=UTC)

"""Storage benchmark: bytes per monitored target against rrdtool, and a year of availability from rollups.

Run from the repository root: ``.venv/bin/python bench/bench_storage.py [--targets N] [--pg]``
(``--help`` for the knobs; PostgreSQL on 127.0.0.1:5432 is used when reachable, in a throwaway schema).

1. Bytes per target per day at a 1-minute ICMP interval. A fresh database (schema from the alembic
   migrations) gets N devices with one interface each and one simulated day: 1,440 sweeps, each
   written as the poller writes it (one transaction: ``write_results`` for N results and
   ``write_interface_samples`` for N samples; seeded random values). Growth on SQLite is
   (page_count − freelist_count) × page_size; on PostgreSQL the growth of ``pg_total_relation_size``
   of the five storage tables after VACUUM (also run every simulated hour in place of autovacuum), with
   ``--pg-targets`` devices (its writer costs more per row). Steady state per target at the configured
   retention is extrapolated from the measured bytes per row of each table. Peer: one rrdtool RRD per
   target (step 60; rtt avg/min/max, loss, success, in/out bps; RRAs 1 min for raw_days, 5-min and
   1-h AVERAGE/MIN/MAX for the rollup retentions): a preallocated file whose size is the figure.
2. One year of hourly availability for 1,000 targets: 1-hour rollups (count 60, a few failures from
   a fixed integer hash, identical on every backend) bulk-loaded with one ``INSERT … SELECT`` (on
   PostgreSQL with FK triggers off and the primary key rebuilt, then VACUUM ANALYZE). Timed, best of
   ``--repeat`` (a run over 5 s is not repeated): per-device availability (``sum(successes)/sum(count)``
   grouped by device) and the hourly series of every device streamed into Python. Target: under 1 s on
   SQLite. Peer: 1,000 RRDs (step 3600, one DS ``avail`` = successes/count, one AVERAGE RRA of 8,760
   rows) filled with ``rrdtool update`` (8,760 values per file), then one ``fetch … AVERAGE -r 3600``
   per file, all through one ``rrdtool -`` pipe, values parsed into Python.
"""
from __future__ import annotations

import argparse
import logging
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _common import (
    RrdPipe,
    best_of,
    command_version,
    db_sizes,
    human_bytes,
    machine_facts,
    pg_reachable,
    pg_vacuum,
    print_table,
    ratio,
    temp_database,
)
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from infra_monitor.config import RetentionConfig
from infra_monitor.db import import_all_models, make_engine, upgrade
from infra_monitor.readmodel.series import epoch_seconds
from infra_monitor.storage.models import Rollup
from infra_monitor.storage.writer import InterfaceRecord, ResultRecord, write_interface_samples, write_results
from inventory.models import Device, DeviceRole, Interface, Site

log = logging.getLogger(__name__)

SEED = 20190329
DAY_START = datetime(2026, 3, 2, tzinfo=UTC)
SWEEPS_PER_DAY = 1440
YEAR_START = datetime(2025, 1, 1, tzinfo=UTC)
HOURS = 8760
YEAR_END = YEAR_START + timedelta(hours=HOURS)
STORAGE_TABLES = ("probe_result", "interface_sample", "latest_result", "rollup", "interface_rollup")
NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
RRD_DS = ("rtt_avg", "rtt_min", "rtt_max", "loss", "success", "in_bps", "out_bps")
IF_SPEED_BPS = 100e6
LONG_RUN_S = 5.0  # a timed run this long is not repeated (see _common.best_of)
# Failed checks in (device d, hour h): the same integer hash in SQLite, PostgreSQL and Python.
FAILS_SQL = "CASE WHEN ({d} * 7919 + {h} * 104729) % 997 < 20 THEN ({d} + {h}) % 7 ELSE 0 END"


def fails(d: int, h: int) -> int:
    return (d + h) % 7 if (d * 7919 + h * 104729) % 997 < 20 else 0


# ---------------------------------------------------------------- part 1: bytes per target per day


@dataclass
class DayFigures:
    backend: str
    targets: int
    growth_bytes: int
    sweep_ms: float
    rows: dict[str, int]
    table_bytes: dict[str, int]
    per_row: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.per_row = {t: self.table_bytes[t] / n for t, n in self.rows.items() if n}

    @property
    def per_target_day(self) -> float:
        return self.growth_bytes / self.targets

    def steady_state(self, cfg: RetentionConfig, snmp_check: bool = False) -> float:
        """Bytes per target at the retention: raw rows for raw_days, rollup rows for their own periods."""
        checks = 2 if snmp_check else 1  # an SNMP check adds a probe_result row and rollups of kind snmp
        raw = cfg.raw_days * SWEEPS_PER_DAY * (checks * self.per_row["probe_result"] + self.per_row["interface_sample"])
        per_bucket = checks * self.per_row["rollup"] + self.per_row["interface_rollup"]
        rollups = (cfg.rollup_5m_days * 288 + cfg.rollup_1h_days * 24) * per_bucket
        return raw + rollups + checks * self.per_row["latest_result"]


def add_inventory(engine: Engine, n: int, interfaces: bool) -> tuple[list[int], list[int]]:
    """Minimal rows for ``n`` devices (one site, one role) and, optionally, one WAN interface each."""
    with Session(engine) as s:
        role = DeviceRole(slug="router", name="Router")
        site = Site(slug="bench", name="Bench site", category="commune")
        s.add_all([role, site])
        s.flush()
        assert site.id is not None and role.id is not None
        devices = [Device(site_id=site.id, name=f"d{i:05d}", role_id=role.id) for i in range(n)]
        s.add_all(devices)
        s.flush()
        device_ids = [d.id for d in devices if d.id is not None]
        ifaces = [Interface(device_id=d, name="wan0", speed_kbps=int(IF_SPEED_BPS / 1000)) for d in device_ids]
        if interfaces:
            s.add_all(ifaces)
        s.commit()
        return device_ids, [i.id for i in ifaces if i.id is not None]


def sweep_records(rnd: random.Random, start: datetime, device_ids: list[int],
                  iface_ids: list[int]) -> tuple[list[ResultRecord], list[InterfaceRecord]]:
    """One sweep: 3-packet ICMP results (2 % down, 3 % with one packet lost) and one interface sample each."""
    results: list[ResultRecord] = []
    for d in device_ids:
        ts = start + timedelta(microseconds=rnd.randrange(3_000_000))
        if rnd.random() < 0.02:
            results.append(ResultRecord(ts, d, "icmp", False, loss_pct=100.0,
                                        error="no reply to 3 echo request(s) within 1s"))
            continue
        rtts = sorted(round(rnd.uniform(2.0, 45.0), 3) for _ in range(2 if rnd.random() < 0.03 else 3))
        results.append(ResultRecord(ts, d, "icmp", True, rtts[0], round(sum(rtts) / len(rtts), 3), rtts[-1],
                                    round(100 * (3 - len(rtts)) / 3, 2)))
    samples: list[InterfaceRecord] = []
    for i in iface_ids:
        in_bps, out_bps = rnd.uniform(1e5, 9e7), rnd.uniform(1e5, 4e7)
        errors = rnd.randrange(3) if rnd.random() < 0.01 else 0
        samples.append(InterfaceRecord(start, i, 1, in_bps, out_bps, round(100 * in_bps / IF_SPEED_BPS, 2),
                                       round(100 * out_bps / IF_SPEED_BPS, 2), errors, 0))
    return results, samples


def simulate_day(engine: Engine, device_ids: list[int], iface_ids: list[int], vacuum_every: int = 0) -> float:
    """Write one day of sweeps as the poller does; returns the mean wall time of a sweep's transaction (ms)."""
    rnd = random.Random(SEED)
    spent = 0.0
    for m in range(SWEEPS_PER_DAY):
        results, samples = sweep_records(rnd, DAY_START + timedelta(minutes=m), device_ids, iface_ids)
        started = time.perf_counter()
        with engine.begin() as conn:
            write_results(conn, results)
            write_interface_samples(conn, samples)
        spent += time.perf_counter() - started
        if vacuum_every and (m + 1) % vacuum_every == 0:
            pg_vacuum(engine, STORAGE_TABLES)
        if (m + 1) % 240 == 0:
            log.info("event=day_progress backend=%s sweeps=%d ms_per_sweep=%.1f", engine.dialect.name, m + 1,
                     1000 * spent / (m + 1))
    return 1000 * spent / SWEEPS_PER_DAY


def measure_day(url: str, targets: int) -> DayFigures:
    engine = make_engine(url)
    try:
        upgrade(engine)
        device_ids, iface_ids = add_inventory(engine, targets, interfaces=True)
        pg = engine.dialect.name == "postgresql"
        before, before_tables = db_sizes(engine, STORAGE_TABLES)
        sweep_ms = simulate_day(engine, device_ids, iface_ids, vacuum_every=60 if pg else 0)
        used, tables = db_sizes(engine, STORAGE_TABLES)
        growth = used - before
        with engine.connect() as conn:
            rows = {t: int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in STORAGE_TABLES}
        table_growth = {t: tables[t] - before_tables[t] for t in STORAGE_TABLES}
        return DayFigures(engine.dialect.name, targets, growth, sweep_ms, rows, table_growth)
    finally:
        engine.dispose()


def rrd_layout(cfg: RetentionConfig) -> tuple[list[str], int]:
    """``rrdtool create`` arguments equivalent to the retention, and the RRA rows one day adds."""
    args = ["--step", "60", *(f"DS:{ds}:GAUGE:120:U:U" for ds in RRD_DS),
            f"RRA:AVERAGE:0.5:1:{cfg.raw_days * 1440}"]
    for steps, days in ((5, cfg.rollup_5m_days), (60, cfg.rollup_1h_days)):
        args += [f"RRA:{cf}:0.5:{steps}:{days * 1440 // steps}" for cf in ("AVERAGE", "MIN", "MAX")]
    return args, 1440 + 3 * 1440 // 5 + 3 * 1440 // 60


def rrd_file_size(workdir: Path, cfg: RetentionConfig) -> tuple[int, int]:
    """(size of one target's RRD file, bytes one day of history occupies in it: 8 B per DS per row)."""
    args, rows_per_day = rrd_layout(cfg)
    path = workdir / "target.rrd"
    subprocess.run(["rrdtool", "create", str(path), "--start", str(int(DAY_START.timestamp())), *args], check=True)
    size = path.stat().st_size
    path.unlink()
    return size, 8 * len(RRD_DS) * rows_per_day


# ---------------------------------------------------------------- part 2: a year of hourly availability


def load_year(engine: Engine, devices: int) -> float:
    """1-hour ICMP rollups for ``devices`` × 8,760 hours in one ``INSERT … SELECT``; returns seconds.

    On PostgreSQL the load runs as a bulk load does (one transaction: FK triggers off with
    ``session_replication_role = replica``, primary key dropped and rebuilt), then VACUUM ANALYZE.
    """
    add_inventory(engine, devices, interfaces=False)
    cols = ("resolution, device_id, check_key, kind, bucket, count, successes, rtt_min_ms, rtt_max_ms, rtt_sum_ms, "
            "rtt_n, loss_sum_pct, loss_n")
    values = ("60, 60 - f, 1.5 + did % 10, 20.0 + i % 30, (60 - f) * (5.25 + did % 10), 60 - f, f * 100.0, 60 "
              f"FROM (SELECT d.id AS did, h.i AS i, {FAILS_SQL.format(d='d.id', h='h.i')} AS f")
    t0 = int(YEAR_START.timestamp())
    sqlite = engine.dialect.name == "sqlite"
    if sqlite:  # device is the outer loop: rows arrive in primary-key order, no sort needed
        statements = [
            f"WITH RECURSIVE h(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM h WHERE i < {HOURS - 1}) "
            f"INSERT INTO rollup ({cols}) SELECT 3600, did, 'icmp', 'icmp', "
            f"strftime('%Y-%m-%d %H:%M:%S.000000', {t0} + i * 3600, 'unixepoch'), {values} "
            f"FROM device AS d CROSS JOIN h) AS g"]
    else:
        with engine.connect() as conn:
            pkey = conn.execute(text("SELECT conname FROM pg_constraint WHERE conrelid = 'rollup'::regclass "
                                     "AND contype = 'p'")).scalar_one()
        statements = [
            "SET LOCAL session_replication_role = replica",
            f'ALTER TABLE rollup DROP CONSTRAINT "{pkey}"',
            f"INSERT INTO rollup ({cols}) SELECT 3600, did, 'icmp', 'icmp', to_timestamp({t0} + i * 3600), {values} "
            f"FROM device AS d CROSS JOIN generate_series(0, {HOURS - 1}) AS h(i)) AS g",
            f'ALTER TABLE rollup ADD CONSTRAINT "{pkey}" PRIMARY KEY (resolution, device_id, check_key, bucket)']
    started = time.perf_counter()
    with engine.begin() as conn:
        for sql in statements:
            conn.execute(text(sql))
    if sqlite:
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    else:
        pg_vacuum(engine, ["rollup"], analyze=True)
    elapsed = time.perf_counter() - started
    derive_daily(engine)
    with engine.connect() as conn:  # the rows must read back as the app's own UTC datetimes
        rc = Rollup.__table__.c  # type: ignore[attr-defined]
        first = conn.execute(select(func.min(rc.bucket)).where(rc.resolution == 3600)).scalar_one()
    if first != YEAR_START:
        raise RuntimeError(f"bulk-loaded buckets read back as {first!r}, expected {YEAR_START!r}")
    return elapsed


DAY_OFFSET_S = 7 * 3600  # daily buckets start at local midnight, GMT+7 (as the writer makes them)


def derive_daily(engine: Engine) -> None:
    """Daily rollups as the writer keeps them (sums of the day's hours, local midnight), from the hourly rows."""
    cols = ("resolution, device_id, check_key, kind, bucket, count, successes, rtt_min_ms, rtt_max_ms, rtt_sum_ms, "
            "rtt_n, loss_sum_pct, loss_n")
    aggs = ("sum(count), sum(successes), min(rtt_min_ms), max(rtt_max_ms), sum(rtt_sum_ms), sum(rtt_n), "
            "sum(loss_sum_pct), sum(loss_n)")
    if engine.dialect.name == "sqlite":
        day = (f"strftime('%Y-%m-%d %H:%M:%S.000000', ((CAST(strftime('%s', bucket) AS INTEGER) + {DAY_OFFSET_S})"
               f" / 86400) * 86400 - {DAY_OFFSET_S}, 'unixepoch')")
    else:
        day = f"to_timestamp(((extract(epoch from bucket)::bigint + {DAY_OFFSET_S}) / 86400) * 86400 - {DAY_OFFSET_S})"
    with engine.begin() as conn:
        conn.execute(text(f"INSERT INTO rollup ({cols}) SELECT 86400, device_id, check_key, kind, {day}, {aggs} "
                          f"FROM rollup WHERE resolution = 3600 GROUP BY device_id, check_key, kind, {day}"))


def availability(engine: Engine, resolution: int = 3600) -> dict[int, float]:
    """Per-device availability over the year from the 1-hour (or daily) rollups (one grouped query)."""
    r = Rollup.__table__.c  # type: ignore[attr-defined]
    lo = YEAR_START if resolution < 86400 else YEAR_START - timedelta(days=1)  # local days start at 17:00 UTC
    stmt = (select(r.device_id, func.sum(r.successes), func.sum(r.count))
            .where(r.resolution == resolution, r.check_key == "icmp", r.bucket >= lo, r.bucket < YEAR_END)
            .group_by(r.device_id))
    with engine.connect() as conn:
        return {d: ok / n for d, ok, n in conn.execute(stmt)}


def hourly_series(engine: Engine) -> tuple[int, int]:
    """Every device's hourly (epoch, successes, count) rows streamed into Python: (rows, total successes)."""
    r = Rollup.__table__.c  # type: ignore[attr-defined]
    rows = ok = 0
    with engine.connect() as conn:
        stmt = (select(r.device_id, epoch_seconds(conn, r.bucket), r.successes, r.count)
                .where(r.resolution == 3600, r.check_key == "icmp", r.bucket >= YEAR_START, r.bucket < YEAR_END)
                .order_by(r.device_id, r.bucket))
        result = conn.execution_options(yield_per=50_000).execute(stmt)
        for part in result.partitions():
            rows += len(part)
            ok += sum(row[2] for row in part)
    return rows, ok


@dataclass
class YearFigures:
    load_s: float
    avail_s: float
    avail_daily_s: float
    series_s: float
    rows: int
    successes: int
    mean_availability: float


def measure_year(url: str, devices: int, repeat: int) -> YearFigures:
    engine = make_engine(url)
    try:
        upgrade(engine)
        load_s = load_year(engine, devices)
        log.info("event=year_loaded backend=%s rows=%d seconds=%.1f", engine.dialect.name, devices * HOURS, load_s)
        avail_s, avail = best_of(repeat, lambda: availability(engine), enough_s=LONG_RUN_S)
        daily_s, daily = best_of(repeat, lambda: availability(engine, 86400), enough_s=LONG_RUN_S)
        if any(abs(daily[d] - avail[d]) > 1e-12 for d in avail):
            raise RuntimeError("daily and hourly rollups disagree on availability")
        series_s, (rows, ok) = best_of(repeat, lambda: hourly_series(engine), enough_s=LONG_RUN_S)
        return YearFigures(load_s, avail_s, daily_s, series_s, rows, ok, sum(avail.values()) / len(avail))
    finally:
        engine.dispose()


def rrd_year(workdir: Path, devices: int, repeat: int) -> tuple[float, float, int, float]:
    """(fill seconds, best fetch seconds, rows fetched, sum of hourly availability) for ``devices`` RRDs."""
    t0 = int(YEAR_START.timestamp())
    stamps = [f"{t0 + (h + 1) * 3600}:" for h in range(HOURS)]  # value for hour h ends at its bucket's end
    pipe = RrdPipe(workdir)
    try:
        started = time.perf_counter()
        for d in range(1, devices + 1):
            pipe.run(f"create d{d}.rrd --start {t0} --step 3600 DS:avail:GAUGE:7200:0:1 RRA:AVERAGE:0.5:1:{HOURS}")
            values = [s + "1" for s in stamps]
            for h in range(HOURS):
                if (failed := fails(d, h)):
                    values[h] = f"{stamps[h]}{(60 - failed) / 60:.6f}"
            for c in range(0, HOURS, 400):
                pipe.run(f"update d{d}.rrd {' '.join(values[c:c + 400])}")
        fill_s = time.perf_counter() - started

        def fetch_all() -> tuple[int, float]:
            rows, total = 0, 0.0
            for d in range(1, devices + 1):
                for line in pipe.run(f"fetch d{d}.rrd AVERAGE -r 3600 -s {t0} -e {t0 + (HOURS - 1) * 3600}"):
                    _, sep, value = line.partition(": ")
                    if sep:
                        v = float(value)
                        if v == v:
                            rows += 1
                            total += v
            return rows, total

        fetch_s, (rows, total) = best_of(repeat, fetch_all, enough_s=LONG_RUN_S)
    finally:
        pipe.close()
    return fill_s, fetch_s, rows, total


# ---------------------------------------------------------------- report


def report_day(day: dict[str, DayFigures], rrd_size: int, rrd_day: int, cfg: RetentionConfig) -> None:
    backends = [NAMES[b] for b in day]
    headers = ["Figure", *(f"ours, {b}" for b in backends), "rrdtool", *(f"{b}/rrdtool" for b in backends)]
    retention = f"raw {cfg.raw_days} d, 5-min {cfg.rollup_5m_days} d, 1-h {cfg.rollup_1h_days} d"

    def row(label: str, ours: list[float], peer: float | None) -> list[str]:
        return [label, *(human_bytes(v) for v in ours), human_bytes(peer) if peer else "–",
                *(ratio(v, peer) for v in ours)]

    print_table("1. Storage per monitored target (1-minute ICMP check + one interface)", headers, [
        row("bytes per target per day", [d.per_target_day for d in day.values()], rrd_day),
        row(f"steady state per target ({retention})", [d.steady_state(cfg) for d in day.values()], rrd_size),
        row("steady state with an SNMP check as well", [d.steady_state(cfg, True) for d in day.values()], None),
        ["one sweep's write transaction", *(f"{d.sweep_ms:.1f} ms / {d.targets} targets" for d in day.values()),
         "–", *("" for _ in backends)],
    ])
    print_table("   Measured bytes per row (tables with their indexes, after one day)",
                ["table", *(f"{b} B/row" for b in backends), *(f"{b} rows" for b in backends)],
                [[t, *(f"{d.per_row.get(t, 0):.1f}" for d in day.values()), *(f"{d.rows[t]:,}" for d in day.values())]
                 for t in STORAGE_TABLES])
    print("   ratio = ours ÷ rrdtool (below 1×: ours is smaller)")
    print(f"   rrdtool: one preallocated file per target, {len(RRD_DS)} DS × 8 B per row; its per-day figure is "
          f"the space one day of history occupies in the RRAs ({rrd_day // (8 * len(RRD_DS)):,} rows).")


def report_year(year: dict[str, YearFigures], rrd: tuple[float, float, int, float], devices: int,
                repeat: int) -> bool:
    fill_s, fetch_s, rrd_rows, rrd_total = rrd
    backends = [NAMES[b] for b in year]
    headers = ["Figure", *(f"ours, {b}" for b in backends), "rrdtool", *(f"{b}/rrdtool" for b in backends)]

    def row(label: str, ours: list[float], peer: float, ratios: bool = True) -> list[str]:
        return [label, *(f"{v:.3f} s" for v in ours), f"{peer:.3f} s",
                *(ratio(v, peer) if ratios else "" for v in ours)]

    print_table(f"2. One year of hourly availability, {devices:,} targets ({devices * HOURS:,} hourly rows), "
                f"wall time, best of {repeat} (a run over {LONG_RUN_S:g} s: one run)", headers, [
        row("bulk load (setup, not a figure)", [y.load_s for y in year.values()], fill_s, ratios=False),
        row("availability per device over the year (1-h rollups)", [y.avail_s for y in year.values()], fetch_s),
        row("availability per device over the year (daily rollups)", [y.avail_daily_s for y in year.values()],
            fetch_s),
        row("hourly series of every device into Python", [y.series_s for y in year.values()], fetch_s),
    ])
    sqlite_ok = year["sqlite"].avail_daily_s < 1.0
    print(f"   target: availability of {devices:,} targets over a year in under 1 s on SQLite: "
          f"{'met' if sqlite_ok else 'MISSED'} ({year['sqlite'].avail_daily_s:.3f} s from the daily rollups, "
          f"{year['sqlite'].avail_s:.3f} s from the hourly ones)")
    print("   ratio = ours ÷ rrdtool (below 1×: ours is faster). rrdtool has no grouped query: both its rows are "
          "one `fetch` per file through one `rrdtool -` pipe, values parsed and averaged in Python.")
    checks = {b: (y.rows, y.successes) for b, y in year.items()}
    rrd_successes = round(rrd_total * 60)
    print(f"   check (rows, successes): {checks} rrdtool=({rrd_rows}, {rrd_successes}); mean availability "
          + ", ".join(f"{b} {y.mean_availability:.5%}" for b, y in year.items()) + f", rrdtool "
          f"{rrd_total / max(rrd_rows, 1):.5%}")
    expected = devices * HOURS
    return all(v == (expected, checks["sqlite"][1]) for v in checks.values()) and rrd_rows == expected \
        and abs(rrd_successes - checks["sqlite"][1]) <= devices


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--targets", type=int, default=200, help="targets of the simulated day on SQLite")
    parser.add_argument("--pg-targets", type=int, default=25,
                        help="targets of the simulated day on PostgreSQL (its writes cost more per row)")
    parser.add_argument("--year-devices", type=int, default=1000, help="targets of the one-year rollup test")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each query (the best is kept)")
    parser.add_argument("--only", choices=("day", "year"), help="run one part only")
    pg_group = parser.add_mutually_exclusive_group()
    pg_group.add_argument("--pg", action="store_true", help="require PostgreSQL (default: use it if reachable)")
    pg_group.add_argument("--no-pg", action="store_true", help="SQLite and rrdtool only")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s",
                        stream=sys.stderr)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if not shutil.which("rrdtool"):
        print("rrdtool is missing: apt-get install -y rrdtool", file=sys.stderr)
        return 2
    reachable = pg_reachable()
    if args.pg and not reachable:
        print("PostgreSQL is not reachable on 127.0.0.1:5432 (--pg)", file=sys.stderr)
        return 2
    backends = ["sqlite", "postgresql"] if reachable and not args.no_pg else ["sqlite"]
    import_all_models()
    cfg = RetentionConfig()
    facts = [*machine_facts("postgresql" in backends),
             ("rrdtool", command_version(["rrdtool", "--version"]).split("Copyright")[0].strip())]
    started = time.perf_counter()
    day: dict[str, DayFigures] = {}
    year: dict[str, YearFigures] = {}
    with tempfile.TemporaryDirectory(prefix="bench_storage_") as tmp:
        work = Path(tmp)
        for backend in backends if args.only != "year" else []:
            targets = args.targets if backend == "sqlite" else args.pg_targets
            with temp_database(backend, work / "day.db", "bench_storage") as url:
                day[backend] = measure_day(url, targets)
        rrd_size, rrd_day = rrd_file_size(work, cfg)
        for backend in backends if args.only != "day" else []:
            with temp_database(backend, work / "year.db", "bench_storage") as url:
                year[backend] = measure_year(url, args.year_devices, args.repeat)
        if year:
            (work / "rrd").mkdir()
            rrd = rrd_year(work / "rrd", args.year_devices, args.repeat)
    print_table("Machine", ["fact", "value"], facts)
    if day:
        report_day(day, rrd_size, rrd_day, cfg)
    consistent = report_year(year, rrd, args.year_devices, args.repeat) if year else True
    print(f"\ntotal run {time.perf_counter() - started:.0f} s")
    if not consistent:
        print("the backends disagree about the loaded year: a bug in the benchmark or the storage", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Report benchmark: each report kind over a year of stored state of the demo province, on SQLite.

    .venv/bin/python bench/bench_reports.py [--repeat 3] [--profile]

1. A fresh SQLite file in a temporary directory: schema from the alembic migrations and the demo province
   (what ``infra-monitor init --demo`` does, through the same Python API).
2. A year of stored state (365 days ending at the start of the current local day; seeded, reproducible),
   bulk-inserted with Core ``executemany``: hard-state intervals in ``state_interval`` for every monitored
   device (UP most of the time; 1-4 own outages a month per device, 1-120 min each; an outage of a district
   router makes every device behind it in the topology UNREACHABLE with the router as root cause for the
   same span, as the status engine writes it; two province-wide poller gaps and a few per-device gaps as
   UNKNOWN/no_data; each device's intervals contiguous and non-overlapping from two days before the year,
   the last one open), five one-off maintenance windows (device, site and region scopes, recorded after
   the fact: the intervals under them are left as they were), and 5-minute ``interface_rollup`` rows for
   the A-side interface of every circuit over the last ``retention.rollup_5m_days`` days (90) with a daily
   office-hours traffic curve (weekends at half), none during the poller gaps.
3. For each kind (coverage, availability, datacenter, capacity, videoconference) over the year, and
   capacity over the last 30 days: ``build_report`` (the document, i.e. the json structure) and each
   format's ``render`` timed separately, best of ``--repeat`` (pdf: 2 runs, one when it takes over 5 s);
   then one more run of compute + every render under ``tracemalloc`` for the peak of Python allocations
   (tracemalloc slows that run; it is not timed). The process's ``ru_maxrss`` is printed at the end.
   Peer: Debian's ``sqlite3`` shell running one grouped query that computes the same per-device
   time-based totals over the year from ``state_interval`` (SUM of clipped julianday durations by device
   and availability bucket); ratio = our availability ``build_report`` ÷ that query (wall, best of
   ``--repeat``, the shell's start-up included). The up/down/unreachable/no-data seconds of a sample of
   devices without maintenance must agree with the engine's ``availability_by_device`` table within 1 s.
4. Targets (end to end, what a user waits for: ``build_report`` + render): json under 1 s for coverage,
   availability, datacenter and videoconference over the year, pdf under 5 s for every report timed.
   Exit 1 when one is missed (unless ``BENCH_NO_TARGETS=1``) or the peer disagrees; 2 when ``sqlite3``
   is missing.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import gc
import io
import itertools
import logging
import os
import pstats
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from math import exp
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from _common import best_of, command_version, human_bytes, machine_facts, print_table, ratio
from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from infra_monitor.config import RetentionConfig, Settings, load_settings
from infra_monitor.db import import_all_models, make_engine, upgrade
from infra_monitor.demo_loader import load_demo_if_empty
from infra_monitor.readmodel.frame import monitored
from infra_monitor.reports.document import ReportDocument
from infra_monitor.reports.engine import build_report, params_from_config
from infra_monitor.reports.params import ReportParams, local_midnight, params_for
from infra_monitor.reports.render import FORMATS, render
from infra_monitor.status.store.models import MaintenanceWindowRow, StateIntervalRow
from infra_monitor.status.store.sweeps import load_topology
from infra_monitor.storage.models import InterfaceRollup
from inventory.choices import DeviceStatusChoices
from inventory.models import Circuit, CircuitTermination, Device, DeviceRole, Interface, Site

log = logging.getLogger(__name__)

SEED = 20260301
DAYS = 365
TZ = "Asia/Ho_Chi_Minh"
TS = "%Y-%m-%d %H:%M:%S.%f"       # how SQLAlchemy's SQLite DATETIME stores a (naive UTC) datetime
HISTORY_BEFORE = timedelta(days=2)  # the first interval of every device starts this long before the year
TARGET_JSON_S = 1.0
TARGET_PDF_S = 5.0
JSON_TARGET_KINDS = ("coverage", "availability", "datacenter", "videoconference")
KINDS = ("coverage", "availability", "datacenter", "capacity", "videoconference")
LONG_RUN_S = 5.0
BUCKET_S = 300
BUCKETS = ("up", "down_own", "down_parent", "maintenance", "no_data")
SAMPLE_DEVICES = 25

# priority when spans of one device overlap: poller silence > upstream failure > own failure > up
P_UNKNOWN, P_UNREACHABLE, P_DOWN = 3, 2, 1


@dataclass
class Year:
    start_date: date
    end_date: date

    @property
    def start(self) -> datetime:
        return local_midnight(self.start_date, TZ)

    @property
    def end(self) -> datetime:
        return local_midnight(self.end_date, TZ)


@dataclass
class Generated:
    intervals: Counter[str]
    windows: int
    rollups: int
    interfaces: int
    devices: int
    district_routers: int
    seconds: float


@dataclass
class Case:
    kind: str
    label: str
    params: ReportParams
    compute_s: float = 0.0
    render_s: dict[str, float] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    rss_base: int = 0                  # resident set size before the case
    rss_peak: int = 0                  # ru_maxrss over the case's runs (high-water mark reset before it)
    peak_bytes: int | None = None      # tracemalloc peak of one compute + every render (--tracemalloc)
    doc: ReportDocument | None = None

    def total(self, fmt: str) -> float:
        return self.compute_s + self.render_s[fmt]


# ---------------------------------------------------------------- generation


def _spans_of(rng: random.Random, year: Year) -> list[tuple[datetime, datetime]]:
    """1-4 own outages in each of the 12 months of the year, 1-120 min each (whole seconds)."""
    out = []
    month = (year.end - year.start) / 12
    for m in range(12):
        lo = year.start + m * month
        for _ in range(rng.randint(1, 4)):
            length = timedelta(seconds=rng.randint(60, 7200))
            at = lo + timedelta(seconds=rng.randrange(int((month - length).total_seconds())))
            out.append((at, at + length))
    return out


def _paint(h0: datetime, labels: list[tuple[datetime, datetime, int, str, str, int | None]]
           ) -> list[tuple[str, str, int | None, datetime, datetime | None]]:
    """Contiguous, non-overlapping intervals from ``h0`` (UP where no label is; the highest priority label
    wins where several overlap; touching pieces in the same state merged; the last interval open)."""
    points = sorted({h0, *(x for lb in labels for x in lb[:2])})
    by_start = sorted(labels)
    i, active = 0, []
    out: list[list[Any]] = []
    for a, b in itertools.pairwise(points):
        while i < len(by_start) and by_start[i][0] <= a:
            active.append(by_start[i])
            i += 1
        active = [lb for lb in active if lb[1] > a]
        state, cause, root = (max(active, key=lambda lb: lb[2])[3:] if active else ("up", "none", None))
        if out and out[-1][:3] == [state, cause, root]:
            out[-1][4] = b
        else:
            out.append([state, cause, root, a, b])
    if out and out[-1][0] == "up":
        out[-1][4] = None
    else:
        out.append(["up", "none", None, points[-1], None])
    return [tuple(x) for x in out]  # type: ignore[misc]


def _cut_off(topo: Any, order: dict[int, int], root: int) -> list[int]:
    """Devices behind ``root``: every descendant all of whose parents are ``root`` or behind it."""
    children = topo.children()
    seen: set[int] = set()
    stack = list(children.get(root, ()))
    while stack:
        d = stack.pop()
        if d not in seen:
            seen.add(d)
            stack.extend(children.get(d, ()))
    cut = {root}
    for d in sorted(seen, key=lambda x: order.get(x, 0)):
        if topo.parents_of(d) and all(p in cut for p in topo.parents_of(d)):
            cut.add(d)
    cut.discard(root)
    return sorted(cut)


def _daily_curve(t: datetime) -> float:
    """Share of the committed rate used at ``t`` (local office hours peak at 10:00 and 15:00)."""
    local = t.astimezone(ZoneInfo(TZ))
    h = local.hour + local.minute / 60
    v = 0.08 + 0.55 * exp(-(((h - 10) / 2.0) ** 2)) + 0.45 * exp(-(((h - 15) / 2.2) ** 2))
    return v * (0.5 if local.weekday() >= 5 else 1.0)


def generate(engine: Engine, year: Year, rollup_days: int) -> Generated:
    started = time.perf_counter()
    rng = random.Random(SEED)
    d, s, r = Device.__table__.c, Site.__table__.c, DeviceRole.__table__.c  # type: ignore[attr-defined]
    with engine.connect() as conn:
        devs = conn.execute(select(d.id, d.site_id, s.category, s.region_id, r.slug)
                            .select_from(Device.__table__.join(Site, s.id == d.site_id)  # type: ignore[attr-defined]
                                         .join(DeviceRole, r.id == d.role_id))
                            .where(monitored(d)).order_by(d.id)).all()
    with Session(engine) as session:
        topo = load_topology(session)
    order = {dev: i for i, dev in enumerate(topo.topological_order(allow_cycles=True))}
    h0 = year.start - HISTORY_BEFORE
    labels: dict[int, list[tuple[datetime, datetime, int, str, str, int | None]]] = {x.id: [] for x in devs}
    # a few poller gaps: province-wide (every device unknown), and single devices
    gaps = []
    for _ in range(2):
        at = year.start + timedelta(seconds=rng.randrange(int((year.end - year.start).total_seconds()) - 7200))
        gaps.append((at, at + timedelta(minutes=rng.randint(20, 60))))
    for dev in labels:
        labels[dev] += [(a, b, P_UNKNOWN, "unknown", "no_data", None) for a, b in gaps]
    for dev in rng.sample(sorted(labels), 20):
        at = year.start + timedelta(seconds=rng.randrange(int((year.end - year.start).total_seconds()) - 6 * 3600))
        labels[dev].append((at, at + timedelta(minutes=rng.randint(60, 360)), P_UNKNOWN, "unknown", "no_data", None))
    district_routers = [x.id for x in devs if x.category == "district" and x.slug == "router"]
    for x in devs:
        outages = _spans_of(rng, year)
        labels[x.id] += [(a, b, P_DOWN, "down", "own_failure", None) for a, b in outages]
        if x.id in district_routers:
            for dev in _cut_off(topo, order, x.id):
                if dev in labels:
                    labels[dev] += [(a, b, P_UNREACHABLE, "unreachable", "parent_unreachable", x.id)
                                    for a, b in outages]
    rows = []
    for dev, lbs in labels.items():
        rows += [{"device_id": dev, "state": st, "cause": cause, "root_cause_device_id": root, "start": a, "end": b}
                 for st, cause, root, a, b in _paint(h0, lbs)]
    counts = Counter(str(x["state"]) for x in rows)
    with engine.begin() as conn:
        conn.execute(insert(StateIntervalRow), rows)
        windows = _windows(conn, rng, year, devs)
    log.info("event=intervals_written rows=%d seconds=%.1f", len(rows), time.perf_counter() - started)
    rollups, interfaces = _rollups(engine, rng, year, rollup_days, gaps)
    log.info("event=rollups_written rows=%d seconds=%.1f", rollups, time.perf_counter() - started)
    with engine.connect() as conn:  # no ANALYZE: the application never runs it either
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return Generated(counts, windows, rollups, interfaces, len(devs), len(district_routers),
                     time.perf_counter() - started)


def _windows(conn: Any, rng: random.Random, year: Year, devs: list[Any]) -> int:
    """Five one-off windows recorded after the fact: three devices, the data-center site, one district."""
    now = datetime.now(UTC)
    communes = [x for x in devs if x.category == "commune" and x.slug == "router"]
    dc_site = next(x.site_id for x in devs if x.category == "datacenter")
    district = next(x for x in devs if x.category == "district" and x.slug == "router")
    scopes = [("device", x.id, "Thay thiết bị") for x in rng.sample(communes, 3)]
    scopes += [("site", dc_site, "Bảo trì điện Trung tâm dữ liệu"), ("region", district.region_id, "Nâng cấp huyện")]
    rows = []
    for scope_type, scope_id, name in scopes:
        day = year.start_date + timedelta(days=rng.randrange(DAYS - 1))
        start = datetime.combine(day, dtime(rng.choice((1, 2, 13, 22))), tzinfo=ZoneInfo(TZ)).astimezone(UTC)
        rows.append({"name": name, "scope_type": scope_type, "scope_id": scope_id, "kind": "one_off",
                     "start": start, "end": start + timedelta(hours=rng.randint(2, 4)), "days": [], "tz": TZ,
                     "created_by": "bench", "created_at": now, "start_time": None})
    conn.execute(insert(MaintenanceWindowRow), rows)
    return len(rows)


def _rollups(engine: Engine, rng: random.Random, year: Year, days: int,
             gaps: list[tuple[datetime, datetime]]) -> tuple[int, int]:
    """5-minute rollups (n = 5 one-minute samples) of every circuit's A-side interface over the last ``days``."""
    t, c, i = (CircuitTermination.__table__.c, Circuit.__table__.c,  # type: ignore[attr-defined]
               Interface.__table__.c)  # type: ignore[attr-defined]
    with engine.connect() as conn:
        ifaces = conn.execute(select(t.interface_id, c.commit_rate_kbps, i.speed_kbps)
                              .select_from(CircuitTermination.__table__  # type: ignore[attr-defined]
                                           .join(Circuit, c.id == t.circuit_id).join(Interface, i.id == t.interface_id))
                              .where(t.term_side == "A", t.interface_id.is_not(None))
                              .order_by(t.interface_id)).all()
    lo = year.end - timedelta(days=days)
    stamps = [lo + timedelta(seconds=BUCKET_S * k) for k in range(days * 86400 // BUCKET_S)]
    stamps = [x for x in stamps if not any(a <= x < b for a, b in gaps)]
    buckets = [x.astimezone(UTC).strftime(TS) for x in stamps]
    curve = [_daily_curve(x) for x in stamps]
    sql = ("INSERT INTO interface_rollup (resolution, interface_id, bucket, n, in_bps_sum, in_bps_max, out_bps_sum, "
           "out_bps_max, util_max_pct, errors) VALUES (300, ?, ?, 5, ?, ?, ?, ?, ?, ?)")
    total = 0
    rand = rng.random
    with engine.begin() as conn:
        for iface, commit_kbps, speed_kbps in ifaces:
            commit = (commit_kbps or 100_000) * 1000.0
            speed = (speed_kbps or commit_kbps or 100_000) * 1000.0
            scale = commit * (rng.uniform(1.0, 1.6) if rng.random() < 0.1 else rng.uniform(0.2, 0.9))
            out_share = rng.uniform(0.15, 0.4)
            rows = []
            for b, f in zip(buckets, curve, strict=True):
                avg_in = scale * f * (0.8 + 0.4 * rand())
                avg_out = avg_in * out_share * (0.8 + 0.4 * rand())
                peak_in = avg_in * (1.0 + 0.5 * rand())
                rows.append((iface, b, 5 * avg_in, peak_in, 5 * avg_out, avg_out * 1.3, 100.0 * peak_in / speed,
                             1 if rand() < 0.001 else 0))
            conn.exec_driver_sql(sql, rows)
            total += len(rows)
    with engine.connect() as conn:  # the rows must read back as the app's own UTC datetimes
        ir = InterfaceRollup.__table__.c  # type: ignore[attr-defined]
        first = conn.execute(select(func.min(ir.bucket)).where(ir.resolution == BUCKET_S)).scalar_one()
    if first != stamps[0]:
        raise RuntimeError(f"bulk-loaded buckets read back as {first!r}, expected {stamps[0]!r}")
    return total, len(ifaces)


# ---------------------------------------------------------------- measuring


def reset_peak_rss() -> bool:
    """Reset the process's RSS high-water mark (ru_maxrss, VmHWM) on Linux; False when not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def rss_now() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def max_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def measure(engine: Engine, settings: Settings, case: Case, repeat: int, lang: str) -> None:
    def compute() -> ReportDocument:
        return build_report(engine, case.params, settings.reports, province_name=settings.general.province_name)

    gc.collect()
    reset_peak_rss()
    case.rss_base = rss_now()
    case.compute_s, doc = best_of(repeat, compute, enough_s=LONG_RUN_S)
    case.doc = doc
    for fmt in FORMATS:
        gc.collect()
        n = 2 if fmt == "pdf" else repeat
        case.render_s[fmt], data = best_of(n, lambda f=fmt: render(doc, f, lang), enough_s=LONG_RUN_S)  # type: ignore[misc]
        case.sizes[fmt] = len(data)
        del data
    case.rss_peak = max_rss()
    log.info("event=case_done kind=%s period=%s compute_s=%.3f", case.kind, case.label, case.compute_s)


def traced_peak(engine: Engine, settings: Settings, case: Case, lang: str) -> int:
    """Peak of Python allocations (tracemalloc) over one compute and every render of ``case``."""
    gc.collect()
    tracemalloc.start()
    try:
        doc = build_report(engine, case.params, settings.reports, province_name=settings.general.province_name)
        for fmt in FORMATS:
            render(doc, fmt, lang)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _ts(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime(TS)


def peer_sql(year: Year) -> str:
    lo, hi = _ts(year.start), _ts(year.end)
    statuses = ", ".join(f"'{x}'" for x in DeviceStatusChoices.MONITORED)
    return (
        "SELECT si.device_id, CASE "
        "WHEN si.state = 'maintenance' OR si.cause = 'maintenance' THEN 'maintenance' "
        "WHEN si.state = 'unknown' OR si.cause = 'no_data' THEN 'no_data' "
        "WHEN si.state = 'up' THEN 'up' WHEN si.state = 'unreachable' THEN 'down_parent' ELSE 'down_own' END AS b, "
        f"SUM(MAX(0.0, (julianday(MIN(COALESCE(si.\"end\", '{hi}'), '{hi}')) - julianday(MAX(si.start, '{lo}')))"
        " * 86400.0)) "
        "FROM state_interval AS si JOIN device AS d ON d.id = si.device_id "
        f"WHERE d.monitoring_enabled = 1 AND d.status IN ({statuses}) "
        f"AND si.start < '{hi}' AND (si.\"end\" IS NULL OR si.\"end\" > '{lo}') "
        "GROUP BY si.device_id, b;")


def run_peer(db: Path, sql: str) -> dict[int, dict[str, float]]:
    done = subprocess.run(["sqlite3", "-readonly", "-csv", str(db), sql], capture_output=True, text=True, check=True)
    out: dict[int, dict[str, float]] = defaultdict(lambda: dict.fromkeys(BUCKETS, 0.0))
    for dev, b, secs in csv.reader(io.StringIO(done.stdout)):
        out[int(dev)][b] += float(secs)
    return dict(out)


def check_peer(engine: Engine, doc: ReportDocument, peer: dict[int, dict[str, float]]) -> tuple[int, float, list[str]]:
    """(devices compared, largest difference in s, mismatches): a sample of devices without maintenance."""
    d, s = Device.__table__.c, Site.__table__.c  # type: ignore[attr-defined]
    with engine.connect() as conn:
        names = {(row.dname, row.sname): row.id for row in conn.execute(
            select(d.id, d.name.label("dname"), s.name.label("sname")).join(Site, s.id == d.site_id))}
    table = next(tb for tb in doc.tables if tb.key == "availability_by_device")
    rows = [row for row in table.rows if not row["maintenance_s"]]
    sample = random.Random(SEED).sample(rows, min(SAMPLE_DEVICES, len(rows)))
    worst, bad = 0.0, []
    for row in sample:
        dev = names[(row["device"], row["site"])]
        for b in ("up", "down_own", "down_parent", "no_data"):
            diff = abs(float(row[f"{b}_s"] or 0) - peer.get(dev, {}).get(b, 0.0))
            worst = max(worst, diff)
            if diff > 1.0:
                bad.append(f"{row['device']} {b}: engine {row[f'{b}_s']} s, sqlite3 {peer.get(dev, {}).get(b)} s")
    return len(sample), worst, bad


def profile(what: str, fn: Callable[[], object]) -> None:
    prof = cProfile.Profile()
    prof.enable()
    fn()
    prof.disable()
    print(f"\ncProfile of {what} (top 10, cumulative):")
    pstats.Stats(prof, stream=sys.stdout).sort_stats("cumulative").print_stats(10)


# ---------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of compute and cheap renders (best kept)")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile the slowest build_report and the slowest pdf render")
    parser.add_argument("--tracemalloc", action="store_true",
                        help="one more run of each report under tracemalloc for its Python allocation peak "
                             "(3-6x slower: adds several minutes)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s",
                        stream=sys.stderr)
    if not shutil.which("sqlite3"):
        print("sqlite3 (the peer) is missing: apt-get install -y sqlite3", file=sys.stderr)
        return 2
    import_all_models()
    facts = [*machine_facts(with_pg=False), ("sqlite3 shell", command_version(["sqlite3", "--version"])[:40])]
    started = time.perf_counter()
    today = datetime.now(ZoneInfo(TZ)).date()
    year = Year(today - timedelta(days=DAYS), today)
    rollup_days = RetentionConfig().rollup_5m_days
    with tempfile.TemporaryDirectory(prefix="bench_reports_") as tmp:
        db = Path(tmp) / "reports.db"
        url = f"sqlite:///{db}"
        settings = load_settings(environ={"INFRA_MONITOR_DATABASE__URL": url})
        lang = settings.general.language
        engine = make_engine(url)
        t0 = time.perf_counter()
        upgrade(engine)
        load_demo_if_empty(engine)
        init_s = time.perf_counter() - t0
        gen = generate(engine, year, rollup_days)
        db_bytes = sum(p.stat().st_size for p in Path(tmp).glob("reports.db*"))
        rss_after_gen = max_rss()
        resettable = reset_peak_rss()
        opts = params_from_config(settings.reports)
        cases = [Case(k, f"year {year.start_date}…{year.end_date}",
                      params_for(k, year.start_date, year.end_date, timezone=settings.general.timezone, **opts))
                 for k in KINDS]
        cases.append(Case("capacity", f"30 d {year.end_date - timedelta(days=30)}…{year.end_date}",
                          params_for("capacity", year.end_date - timedelta(days=30), year.end_date,
                                     timezone=settings.general.timezone, **opts)))
        for case in cases:
            measure(engine, settings, case, args.repeat, lang)
        sql = peer_sql(year)
        peer_s, peer = best_of(args.repeat, lambda: run_peer(db, sql))
        avail = next(c for c in cases if c.kind == "availability")
        assert avail.doc is not None
        compared, worst, mismatches = check_peer(engine, avail.doc, peer)
        pdf_slowest = max(cases, key=lambda c: c.render_s["pdf"])
        pdf_doc = pdf_slowest.doc
        for case in cases:
            case.doc = None
        if args.tracemalloc:
            for case in cases:
                case.peak_bytes = traced_peak(engine, settings, case, lang)
        if args.profile:
            slowest = max(cases, key=lambda c: c.compute_s)
            profile(f"build_report, {slowest.kind} {slowest.label}",
                    lambda: build_report(engine, slowest.params, settings.reports,
                                         province_name=settings.general.province_name))
            assert pdf_doc is not None
            profile(f"render pdf, {pdf_slowest.kind} {pdf_slowest.label}", lambda: render(pdf_doc, "pdf", lang))
        engine.dispose()
    rss = max([rss_after_gen, max_rss(), *(c.rss_peak for c in cases)])

    print_table("Machine", ["fact", "value"], facts)
    print_table(f"Generated (seed {SEED}, {gen.seconds:.1f} s; schema + demo province {init_s:.1f} s)",
                ["what", "rows"], [
                    ["monitored devices (district routers with devices behind them)",
                     f"{gen.devices} ({gen.district_routers})"],
                    *[[f"state_interval {st}", f"{n:,}"] for st, n in sorted(gen.intervals.items())],
                    ["state_interval total", f"{sum(gen.intervals.values()):,}"],
                    ["maintenance_window (one_off)", f"{gen.windows}"],
                    [f"interface_rollup 5-min, {gen.interfaces} A-side interfaces × {rollup_days} d",
                     f"{gen.rollups:,}"],
                    ["database file", human_bytes(db_bytes)]])
    rows = []
    missed: list[str] = []
    for c in cases:
        marks = []
        if c.kind in JSON_TARGET_KINDS and c.label.startswith("year"):
            ok = c.total("json") <= TARGET_JSON_S
            marks.append(f"json {'✔' if ok else '✘'}")
            if not ok:
                missed.append(f"{c.kind} {c.label}: json {c.total('json'):.3f} s > {TARGET_JSON_S:g} s")
        ok = c.total("pdf") <= TARGET_PDF_S
        marks.append(f"pdf {'✔' if ok else '✘'}")
        if not ok:
            missed.append(f"{c.kind} {c.label}: pdf {c.total('pdf'):.3f} s > {TARGET_PDF_S:g} s")
        rows.append([c.kind, c.label.split(" ")[0] + (" d" if c.label.startswith("30") else ""),
                     f"{c.compute_s:.3f}", *(f"{c.render_s[f]:.3f}" for f in FORMATS),
                     f"{c.total('json'):.3f}", f"{c.total('pdf'):.3f}", human_bytes(c.sizes["pdf"]),
                     f"{human_bytes(c.rss_peak)} (+{human_bytes(max(c.rss_peak - c.rss_base, 0))})",
                     human_bytes(c.peak_bytes) if c.peak_bytes is not None else "–", " ".join(marks)])
    print_table(f"Reports on SQLite, seconds (wall, best of {args.repeat}; pdf best of 2; a run over "
                f"{LONG_RUN_S:g} s is not repeated)",
                ["report", "period", "build_report", *(f"render {f}" for f in FORMATS), "json total", "pdf total",
                 "pdf size", "peak RSS (+ over start)", "tracemalloc peak", "target"], rows)
    print(f"   totals = build_report + render (what a user waits for). Targets: json ≤ {TARGET_JSON_S:g} s "
          f"({', '.join(JSON_TARGET_KINDS)}, over the year), pdf ≤ {TARGET_PDF_S:g} s (every report).")
    print("   peak RSS: ru_maxrss over the report's timed runs (compute + the four renders), the high-water mark "
          "reset before each report" if resettable else
          "   peak RSS: ru_maxrss of the process so far (its high-water mark could not be reset)")
    print("   tracemalloc peak: one more compute + all four renders, traced (Python allocations only)"
          if args.tracemalloc else "   tracemalloc peak: not measured (--tracemalloc; it slows the code 3-6x)")
    print(f"   ru_maxrss of the process: {human_bytes(rss)} at most ({human_bytes(rss_after_gen)} after "
          "generating the data)")
    print_table("Peer: per-device availability totals over the year from state_interval", [
        "measure", "infra-monitor", "sqlite3 (peer)", "ratio"], [
        ["availability build_report vs one grouped SQL query", f"{avail.compute_s:.3f} s", f"{peer_s:.3f} s",
         ratio(avail.compute_s, peer_s)]])
    print(f"   ratio = our availability json compute time / sqlite3 query time = {avail.compute_s / peer_s:.2f} "
          f"(the shell's start-up included; the peer does only the per-device sums, no maintenance overlay, sites, "
          f"outages or roll-ups)")
    print(f"   check: {compared} devices without maintenance, up/down/unreachable/no-data seconds, largest "
          f"difference engine vs sqlite3 {worst:.3f} s (must be ≤ 1 s)")
    print(f"\ntotal run {time.perf_counter() - started:.0f} s")
    status = 0
    if mismatches or worst > 1.0:
        print("the engine and the peer disagree:\n  " + "\n  ".join(mismatches[:10]), file=sys.stderr)
        status = 1
    if missed:
        print("targets MISSED:\n  " + "\n  ".join(missed), file=sys.stderr)
        if os.environ.get("BENCH_NO_TARGETS") == "1":
            print("(BENCH_NO_TARGETS=1: not failing on targets)", file=sys.stderr)
        else:
            status = 1
    else:
        print("all targets met")
    return status


if __name__ == "__main__":
    sys.exit(main())

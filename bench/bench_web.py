"""Status page under load: 10,000 sites with 30 days of rollups, the real server, concurrent clients.

    .venv/bin/python bench/bench_web.py [--sites 10000] [--days 30] [--clients 8] [--seconds 15] [--db PATH]

Builds (or reuses, with ``--reuse``) a SQLite file: one data center, 50 districts, communes up to
``--sites`` (router + videoconference codec each, a circuit from their district), device statuses with one
district cut off, state intervals, events, hourly rollups over ``--days`` days and 5-minute RTT and
traffic rollups over the last day for every commune router. Then it starts ``infra-monitor serve
--no-probes`` on a free loopback port and measures each endpoint with concurrent threads (httpx): p50,
p95, p99 and requests per second. It also times one uncached overview computation. Target: overview p95
< 100 ms at 10,000 sites.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from infra_monitor.config import load_settings  # noqa: E402
from infra_monitor.db import import_all_models, make_engine  # noqa: E402
from inventory.search import fold  # noqa: E402

DISTRICTS = 50
TS = "%Y-%m-%d %H:%M:%S.%f"


def build(path: Path, sites: int, days: int) -> None:
    """Write the synthetic province to ``path`` (replaced if it exists)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    metadata = import_all_models().metadata
    metadata.create_all(engine)
    now = datetime.now(UTC).replace(microsecond=0)
    rows: dict[str, list[dict[str, Any]]] = {t: [] for t in metadata.tables}
    ids: dict[str, int] = dict.fromkeys(metadata.tables, 0)

    def add(table: str, **values: Any) -> int:
        ids[table] += 1
        rows[table].append({"id": ids[table], **values})
        return ids[table]

    def device(site: int, name: str, role: int, state: str = "up", root: int | None = None) -> int:
        d = add("device", site_id=site, name=name, role_id=role, parent_id=None, search_text=fold(name))
        since = now - timedelta(days=40) if state == "up" else now - timedelta(minutes=37)
        cause = {"up": "none", "down": "own_failure", "unreachable": "parent_unreachable"}[state]
        rows["device_status"].append({"device_id": d, "state": state, "hard": True, "since": since, "cause": cause,
                                      "root_cause_device_id": root, "hard_state": state, "hard_since": since,
                                      "last_check_at": now, "flapping": False})
        rows["state_interval"].append({"device_id": d, "state": "up", "cause": "none",
                                       "start": now - timedelta(days=40), "end": None if state == "up" else since})
        if state != "up":
            rows["state_interval"].append({"device_id": d, "state": state, "cause": cause, "start": since,
                                           "end": None})
        return d

    def circuit(cid: str, a: tuple[int, int], z: tuple[int, int], kbps: int) -> int:
        c = add("circuit", provider_id=1, cid=cid, type_id=1, commit_rate_kbps=kbps, search_text=fold(cid))
        a_if = add("interface", device_id=a[1], name=f"Gi0/0/1.{c}", speed_kbps=1_000_000)
        z_if = add("interface", device_id=z[1], name="Gi0/0/0", speed_kbps=1_000_000)
        rows["circuit_termination"] += [
            {"circuit_id": c, "term_side": "A", "site_id": a[0], "device_id": a[1], "interface_id": a_if},
            {"circuit_id": c, "term_side": "Z", "site_id": z[0], "device_id": z[1], "interface_id": z_if}]
        return z_if

    router, codec = add("device_role", slug="router", name="Router"), add("device_role", slug="vc", name="VC")
    add("provider", slug="vnpt", name="VNPT")
    add("circuit_type", slug="tslcd", name="TSLCD")
    province = add("region", code="24", name="Tỉnh Bắc Giang", slug="bac-giang", level="province",
                   latitude=21.3, longitude=106.6, search_text="")
    dc = add("site", slug="dc", name="Trung tâm tích hợp dữ liệu tỉnh", category="datacenter", region_id=province,
             latitude=21.28, longitude=106.2, search_text="dc")
    core = device(dc, "dc-core-01", router)
    communes = sites - 1 - DISTRICTS
    gateways: list[tuple[int, int, int]] = []  # (router, Z interface, cut off?)
    for d in range(DISTRICTS):
        reg = add("region", code=f"{300 + d}", name=f"Huyện Số {d}", slug=f"h-{d}", level="district",
                  latitude=21.1 + (d % 10) * 0.05, longitude=105.9 + (d // 10) * 0.2, search_text="")
        rows["region_parent_link"].append({"region_id": reg, "parent_id": province})
        site = add("site", slug=f"ubnd-h-{d}", name=f"UBND huyện Số {d}", category="district", region_id=reg,
                   latitude=21.1 + (d % 10) * 0.05, longitude=105.9 + (d // 10) * 0.2, search_text=f"ubnd huyen so {d}")
        cut = d == 7
        rt = device(site, f"h-{d}-rt", router, "down" if cut else "up")
        circuit(f"TSLCD-{300 + d}", (dc, core), (site, rt), 1_000_000)
        for k in range(d, communes, DISTRICTS):
            creg = add("region", code=f"9{k:05d}", name=f"Xã {k}", slug=f"x-{k}", level="commune", latitude=None,
                       longitude=None, search_text="")
            rows["region_parent_link"].append({"region_id": creg, "parent_id": reg})
            name = f"UBND xã Tân Sỏi {k}"
            csite = add("site", slug=f"xa-{k}", name=name, category="commune", region_id=creg,
                        latitude=21.05 + (k % 97) * 0.006, longitude=105.85 + (k // 97) * 0.011,
                        search_text=fold(f"xa-{k} {name}"))
            crt = device(csite, f"xa-{k}-rt", router, "unreachable" if cut else "up", rt if cut else None)
            vc = device(csite, f"xa-{k}-vc", codec, "unreachable" if cut else "up", rt if cut else None)
            add("vc_endpoint", device_id=vc, protocol="sip", uri=f"sip:xa{k}@mcu", e164="", room="Phòng họp")
            gateways.append((crt, circuit(f"TSLCD-9{k:05d}", (site, rt), (csite, crt), 100_000), cut))
    for cat, target in (("department", 22), ("district", 10), ("commune", 230)):
        add("coverage_target", plan="KH-59-2019", category=cat, target=target, valid_from=None, valid_to=None)
    rows["poller_heartbeat"] = [{"poller_group": "default", "kind": k, "last_sweep_started": now,
                                 "last_sweep_finished": now, "targets": len(rows["device"])} for k in ("icmp", "snmp")]
    rows["event"] = [{"time": now - timedelta(minutes=i), "kind": "state_change", "device_id": g[0],
                      "severity": "warning", "old_state": "up", "new_state": "unreachable",
                      "cause": "parent_unreachable", "message": "", "details": {}}
                     for i, g in enumerate(gateways[:300])]
    order = ("region", "region_parent_link", "device_role", "provider", "circuit_type", "site", "device", "interface",
             "device_status", "state_interval", "circuit", "circuit_termination", "vc_endpoint", "coverage_target",
             "poller_heartbeat", "event")
    with engine.begin() as conn:
        for table in order:
            if rows[table]:
                conn.execute(insert(metadata.tables[table]), rows[table])
    engine.dispose()
    _rollups(path, gateways, now, days)


def _rollups(path: Path, gateways: list[tuple[int, int, int]], now: datetime, days: int) -> None:
    """Hourly rollups over ``days`` and 5-minute RTT/traffic over the last day (raw sqlite3: fast)."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    hour = now.replace(minute=0, second=0)
    five = now.replace(minute=now.minute - now.minute % 5, second=0)
    rnd = random.Random(7)
    for res, step, count in ((3600, timedelta(hours=1), 24 * days), (300, timedelta(minutes=5), 288)):
        end = hour if res == 3600 else five
        buckets = [(end - i * step).strftime(TS) for i in range(count)]
        for chunk in range(0, len(gateways), 500):
            batch = []
            ifaces = []
            for dev, iface, cut in gateways[chunk:chunk + 500]:
                for b in buckets:
                    rtt = 8 + rnd.random() * 6
                    n = 60 if res == 3600 else 5
                    ok = 0 if cut and b >= buckets[7] else n
                    batch.append((res, dev, "icmp", b, n, ok, rtt - 3, rtt + 9, rtt * ok, ok, 100.0 * (n - ok), n))
                    if res == 300:
                        bps = 20e6 + rnd.random() * 30e6
                        ifaces.append((res, iface, b, 1, bps, bps, bps / 5, bps / 5, bps / 1e6, 0))
            db.executemany("INSERT INTO rollup (resolution, device_id, kind, check_key, bucket, count, successes, "
                           "rtt_min_ms, rtt_max_ms, rtt_sum_ms, rtt_n, loss_sum_pct, loss_n) "
                           "VALUES (?,?,?,'icmp',?,?,?,?,?,?,?,?,?)", batch)
            db.executemany("INSERT INTO interface_rollup (resolution, interface_id, bucket, n, in_bps_sum, in_bps_max, "
                           "out_bps_sum, out_bps_max, util_max_pct, errors) VALUES (?,?,?,?,?,?,?,?,?,?)", ifaces)
            db.commit()
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("ANALYZE")
    db.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(path: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "INFRA_MONITOR_DATABASE__URL": f"sqlite:///{path}", "INFRA_MONITOR_WEB__PORT": str(port),
           "INFRA_MONITOR_LOGGING__LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", "from infra_monitor.cli import main; main()", "serve",
                             "--no-probes"], env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit("server did not start")


def viewer_token(path: Path) -> dict[str, str]:
    """A viewer account's API token: every request is authenticated like an operator's browser (one lookup)."""
    from sqlalchemy.orm import Session

    from infra_monitor.accounts.tokens import create_token
    from infra_monitor.accounts.users import AccountError, add_user, get_user
    engine = make_engine(f"sqlite:///{path}")
    import_all_models().metadata.create_all(engine)    # the schema build() made, accounts included
    with Session(engine) as session:
        try:
            get_user(session, "bench-viewer")
        except AccountError:
            add_user(session, "bench-viewer", "bench-viewer-password", "viewer")
        _row, token = create_token(session, "bench-viewer")
        session.commit()
    engine.dispose()
    return {"Authorization": f"Bearer {token}"}


def load(base: str, paths: list[str], clients: int, seconds: float,
         headers: dict[str, str] | None = None) -> dict[str, float]:
    """``clients`` threads request ``paths`` (round robin) for ``seconds``; latency percentiles in ms."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker(offset: int) -> None:
        nonlocal errors
        with httpx.Client(base_url=base, timeout=30, headers=headers) as client:
            i = offset
            while time.monotonic() < stop:
                started = time.perf_counter()
                r = client.get(paths[i % len(paths)])
                took = (time.perf_counter() - started) * 1000
                with lock:
                    latencies.append(took)
                    errors += r.status_code != 200
                i += 1

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    begun = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - begun
    q = statistics.quantiles(latencies, n=100)
    return {"requests": len(latencies), "errors": errors, "p50": q[49], "p95": q[94], "p99": q[98],
            "rps": len(latencies) / elapsed}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sites", type=int, default=10_000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--db", type=Path, default=ROOT / "bench" / "results" / "bench_web.db")
    ap.add_argument("--reuse", action="store_true", help="reuse --db if it exists")
    args = ap.parse_args()
    args.db.parent.mkdir(parents=True, exist_ok=True)
    if not (args.reuse and args.db.exists()):
        started = time.perf_counter()
        build(args.db, args.sites, args.days)
        print(f"built {args.db} ({args.db.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.1f} s")
    from sqlalchemy.orm import Session

    from infra_monitor.readmodel import ReadModel
    from infra_monitor.status.store.site_tally import refresh_site_tally

    settings = load_settings(None, environ={"INFRA_MONITOR_DATABASE__URL": f"sqlite:///{args.db}"})
    engine = make_engine(settings.database)
    with Session(engine) as session, session.begin():  # what the poller's first sweep does: store the tallies
        refresh_site_tally(session, (), datetime.now(UTC), full=True)
    rm = ReadModel(engine, settings, cache_ttl_s=0)
    cold = []
    for _ in range(3):
        started = time.perf_counter()
        ov = rm.overview()
        cold.append((time.perf_counter() - started) * 1000)
    print(f"uncached overview: {ov.sites.total} sites, {ov.devices.total} devices, best of 3 {min(cold):.0f} ms")
    auth = viewer_token(args.db)
    proc, base = serve(args.db)
    try:
        rnd = random.Random(1)
        site_pages = [f"/sites/xa-{rnd.randrange(args.sites - 1 - DISTRICTS)}" for _ in range(200)]
        scenarios = {
            "overview page /": ["/"],
            "overview fragment": ["/fragments/overview"],
            "GET /api/status/overview": ["/api/status/overview"],
            "site page /sites/<slug>": site_pages,
            "sites table (communes)": ["/sites?level=commune&sort=name"],
        }
        print(f"\n{args.clients} concurrent clients, {args.seconds:.0f} s per endpoint\n")
        print(f"{'endpoint':28} {'requests':>9} {'errors':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>8}")
        for name, paths in scenarios.items():
            for p in paths[:3]:
                httpx.get(base + p, timeout=60, headers=auth)  # warm: compile statements and templates, fill the cache
            r = load(base, paths, args.clients, args.seconds, auth)
            print(f"{name:28} {r['requests']:>9} {r['errors']:>7} {r['p50']:>8.1f} {r['p95']:>8.1f} "
                  f"{r['p99']:>8.1f} {r['rps']:>8.1f}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()

"""Sweeps unharmed by the web: ICMP sweeps of ``serve`` idle and while 8 clients load the status page.

    .venv/bin/python bench/bench_serve_load.py [--clients 8] [--sweeps 5] [--interval 6]

A real ``infra-monitor serve`` on a fresh SQLite file with the demo province (473 devices on 127/8 loopback)
runs its scheduled ICMP sweeps every ``--interval`` s; the other kinds are pushed an hour away. The
benchmark reads each sweep's ``duration_s`` from the log: ``--sweeps`` sweeps idle, then as many while
``--clients`` threads request the overview, the sites list, a district, a site page and the events page
as fast as the server answers. The peer, in the same run: ``fping -c1 -t1000 -i1`` over the same addresses,
idle and under the same load (its own process, so it shows what the machine's load costs any prober).
Target (issue 14): our sweep under load at most 1.2× our idle sweep. ``serve`` runs its poller in a
child process of its own for exactly this.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import machine_facts, print_table, ratio  # noqa: E402

SWEEP = re.compile(r"event=sweep_done kind=icmp targets=(\d+) ok=(\d+) failed=(\d+) duration_s=([0-9.]+)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run([sys.executable, "-m", "infra_monitor", "--lang", "en", *args], env=env, cwd=ROOT,
                          input=stdin, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise SystemExit(f"infra-monitor {' '.join(args)} failed: {done.stderr[-2000:]}")
    return done.stdout


def _sweeps(log: Path, after: int, count: int, timeout: float) -> tuple[list[float], int]:
    """Durations of the next ``count`` ICMP sweeps logged after offset ``after``; and the new offset."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        found = list(SWEEP.finditer(text, after))
        if len(found) >= count:
            return [float(m.group(4)) for m in found[:count]], found[count - 1].end()
        time.sleep(0.5)
    raise SystemExit(f"fewer than {count} ICMP sweeps in {timeout:.0f} s; log tail:\n{log.read_text()[-2000:]}")


def _fping(addresses: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(["fping", "-c1", "-t1000", "-i1", "-q"], input="\n".join(addresses), capture_output=True, text=True)
    return time.perf_counter() - started


class Load:
    """``clients`` threads requesting ``paths`` round robin until stopped; counts answers."""

    def __init__(self, base: str, token: str, paths: list[str], clients: int) -> None:
        self.stop = threading.Event()
        self.answers = 0
        self.errors = 0
        self._lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, args=(base, token, paths, k), daemon=True)
                        for k in range(clients)]

    def _run(self, base: str, token: str, paths: list[str], k: int) -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Token {token}"}, timeout=30) as client:
            i = k
            while not self.stop.is_set():
                ok = client.get(paths[i % len(paths)]).status_code == 200
                i += 1
                with self._lock:
                    self.answers += ok
                    self.errors += not ok

    def __enter__(self) -> Load:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(30)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--sweeps", type=int, default=5)
    ap.add_argument("--interval", type=float, default=6.0)
    args = ap.parse_args()
    for name, value in machine_facts(with_pg=False):
        print(f"{name}: {value}")
    work = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    port = _free_port()
    config = work / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{work}/im.db"\n[web]\nport = {port}\n'
        f"[probes.icmp]\ninterval_s = {args.interval}\ntimeout_s = 1\npackets = 1\n"
        + "".join(f"[probes.{k}]\ninterval_s = 3600\n" for k in ("snmp", "tcp", "http")), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("INFRA_MONITOR_")}
    env["INFRA_MONITOR_CONFIG"] = str(config)
    _cli(env, "init", "--demo")
    _cli(env, "user", "add", "bench", "--role", "viewer", "--password-stdin", stdin="a long bench password 1\n")
    token = _cli(env, "token", "create", "--user", "bench").strip().splitlines()[0]
    with sqlite3.connect(work / "im.db") as db:
        addresses = [a for (a,) in db.execute(
            "SELECT ip.host FROM device d JOIN ip_address ip ON ip.id = d.primary_ip_id WHERE d.monitoring_enabled")]
        district = db.execute("SELECT code FROM region WHERE level = 'district' LIMIT 1").fetchone()
        site = db.execute("SELECT slug FROM site ORDER BY id DESC LIMIT 1").fetchone()[0]
    paths = ["/", "/sites", f"/sites/{site}", "/events", "/problems"]
    if district:
        paths.append(f"/regions/{district[0]}")
    log = work / "serve.log"
    with log.open("w") as err:
        serve = subprocess.Popen([sys.executable, "-m", "infra_monitor", "serve"], env=env, cwd=ROOT,
                                 stdout=subprocess.DEVNULL, stderr=err)
    try:
        base = f"http://127.0.0.1:{port}"
        timeout = args.interval * (args.sweeps + 4) + 60
        _warm, offset = _sweeps(log, 0, 2, timeout)  # the first sweeps also load caches: not counted
        idle, offset = _sweeps(log, offset, args.sweeps, timeout)
        fping_idle = [_fping(addresses) for _ in range(args.sweeps)]
        with Load(base, token, paths, args.clients) as load:
            busy, offset = _sweeps(log, offset, args.sweeps, timeout)
            fping_busy = [_fping(addresses) for _ in range(args.sweeps)]
            answered, failed = load.answers, load.errors
    finally:
        serve.terminate()
        serve.wait(60)
    ours_idle, ours_busy = statistics.median(idle), statistics.median(busy)
    peer_idle, peer_busy = statistics.median(fping_idle), statistics.median(fping_busy)
    print_table(f"ICMP sweep of {len(addresses)} demo devices (median of {args.sweeps}), {args.clients} web "
                f"clients, {answered} pages answered ({failed} not 200)",
                ["", "idle s", "under load s", "load / idle"],
                [["infra-monitor serve", f"{ours_idle:.2f}", f"{ours_busy:.2f}", ratio(ours_busy, ours_idle)],
                 ["fping -c1 -t1000 -i1 (peer)", f"{peer_idle:.2f}", f"{peer_busy:.2f}", ratio(peer_busy, peer_idle)],
                 ["ours / fping", ratio(ours_idle, peer_idle), ratio(ours_busy, peer_busy), ""]])
    met = ours_busy <= 1.2 * ours_idle
    print(f"\ntarget: sweep under load <= 1.2x idle: {'met' if met else 'MISSED'} "
          f"({ours_busy / ours_idle:.2f}x)")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())

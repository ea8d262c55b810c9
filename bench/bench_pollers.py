"""Three pollers sharing one group's targets through PostgreSQL, against fping over the same addresses.

Run from the repository root as root: ``python bench/bench_pollers.py [--targets 30000] [--sweeps 2]``.

N lab addresses (default 30,000; 90 % answer, 10 % silent) in as many lab namespaces as their /20s need; one
device each in one poller group, imported through the real importer into a fresh PostgreSQL schema; three
``infra-monitor poller`` processes (real CLI subprocesses, in the root namespace) share the group by shard
leases (:mod:`infra_monitor.shards`), ICMP with 1 packet, timeout 1 s, interval ``--interval`` (default 60 s).
Once each process holds its share, ``--sweeps`` sweeps of each are measured: the probing duration and CPU
(``probes.sweep event=sweep_done``), the whole sweep's duration (probing, writing the results, the status
engine: ``infra_monitor.scheduler event=sweep_done``), and the process CPU (utime + stime from ``/proc``) over
those sweeps, per 1,000 targets. The three processes share one machine here, so each raw ICMP socket also
receives the others' echo replies (the kernel copies every ICMP packet to every raw socket; pollers on separate
machines do not pay that), and their status engine runs queue behind ``apply_sweep``'s advisory lock (wherever
they run). The peer: ``fping -c1 -t1000 -i1 -q`` over all N addresses in the same run (one process, the same
1 ms pacing per packet as our ``send_interval_s``), its wall and CPU per 1,000 targets; the ratios are
printed. No device probed twice in a sweep is checked from ``probe_result`` (no two probes of one device less
than half an interval apart).
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text
from sqlalchemy.orm import Session

from bench._common import machine_facts, pg_reachable, pg_schema, print_table, ratio
from infra_monitor.db import import_all_models, make_engine, upgrade
from inventory.importer import import_document
from tests.lab.netlab import Lab, check_lab_requirements

ROOT = Path(__file__).resolve().parents[1]
PER_LAB = 4000  # addresses of one lab's /20 used (4,094 hosts minus .0/.255 ones)
DONE = re.compile(r"scheduler event=sweep_done kind=icmp targets=(\d+) .*duration_s=([\d.]+)")
PROBED = re.compile(r"probes.sweep event=sweep_done kind=icmp targets=(\d+) .*duration_s=([\d.]+) cpu_s=([\d.]+)")
OTHER_KINDS = ("snmp", "tcp", "http", "dns", "sip", "h323", "discovery")
CLK = os.sysconf("SC_CLK_TCK")


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK  # utime, stime


def children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _doc(addresses: list[str]) -> dict[str, Any]:
    return {"sites": [{"slug": "ttdl", "name": "TTDL", "category": "unit", "status": "active"}],
            "device_roles": [{"slug": "router", "name": "Router"}],
            "devices": [{"site": "ttdl", "name": f"d{i:05d}", "role": "router", "status": "active",
                         "primary_ip": f"{a}/32", "monitoring": {"enabled": True, "poller_group": "dc"},
                         "interfaces": [{"name": "lo0", "type": "virtual", "ip_addresses": [{"address": f"{a}/32"}]}]}
                        for i, a in enumerate(addresses)]}


class Poller:
    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self.proc = subprocess.Popen([sys.executable, "-m", "infra_monitor", "poller"], env=env, cwd=ROOT,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.done: list[tuple[float, int, float]] = []  # (monotonic, targets, duration s): probed and written
        self.probed: list[tuple[float, float]] = []  # (probing s, probing CPU s) of each sweep
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        with self.log_path.open("w", encoding="utf-8") as out:
            for line in self.proc.stderr:
                out.write(line)
                self._line(line)

    def _line(self, line: str) -> None:
        m = DONE.search(line)
        p = PROBED.search(line)
        if m:
            self.done.append((time.monotonic(), int(m.group(1)), float(m.group(2))))
        elif p:
            self.probed.append((float(p.group(2)), float(p.group(3))))
        elif "level=error" in line or "Traceback" in line:
            print(f"  poller {self.proc.pid}: {line.strip()[:200]}", file=sys.stderr)


def _wait(what: str, cond: Any, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.5)


def run(n: int, sweeps: int, interval_s: float) -> int:
    labs: list[Lab] = []
    pollers: list[Poller] = []
    try:
        up_n = n - n // 10
        addresses: list[str] = []
        for _ in range(math.ceil(n / PER_LAB)):
            labs.append(Lab())
        per = [min(PER_LAB, n - i * PER_LAB) for i in range(len(labs))]
        up_left = up_n
        for lab, k in zip(labs, per, strict=True):
            up = min(k, up_left)
            up_left -= up
            addresses += lab.add_hosts(up) + lab.silent_addresses(k - up)
        with pg_schema("bench_pollers") as url:
            engine = make_engine(url)
            import_all_models()
            upgrade(engine)
            t0 = time.perf_counter()
            with Session(engine) as s:
                report = import_document(s, _doc(addresses), source="bench")
                if report.errors:
                    raise SystemExit(f"import failed: {report.errors[:3]}")
            print(f"imported {n:,} devices in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
            cfg = Path(tempfile.mkdtemp(prefix="bench-pollers-")) / "poller.toml"
            cfg.write_text("\n".join([
                f'[database]\nurl = "{url}"', "[poller]\nheartbeat_s = 2\nbacklog_max_results = 1000000",
                f"[probes.icmp]\ninterval_s = {interval_s}\ntimeout_s = 1\npackets = 1\njitter_s = 0\n"
                "concurrency = 10000",
                *[f"[probes.{k}]\nenabled = false" for k in OTHER_KINDS]]) + "\n", encoding="utf-8")
            env = {k: v for k, v in os.environ.items() if not k.startswith("INFRA_MONITOR_")}
            env.update(INFRA_MONITOR_CONFIG=str(cfg), INFRA_MONITOR_POLLER__GROUP="dc",
                       INFRA_MONITOR_LOGGING__LEVEL="INFO")
            pollers = [Poller(env, cfg.with_name(f"poller-{i + 1}.log")) for i in range(3)]
            print(f"poller logs: {cfg.parent}/poller-*.log", file=sys.stderr)

            def shared() -> bool:
                with engine.connect() as conn:
                    rows = conn.execute(text("SELECT shards FROM poller_instance WHERE poller_group='dc'")).all()
                held = sorted(x for (r,) in rows for x in r)
                return len(rows) == 3 and all(r[0] for r in rows) and held == list(range(64))

            _wait("three pollers sharing every shard", shared, 4 * interval_s + 120)
            base = [len(p.done) for p in pollers]
            _wait("one sweep of each with its share", lambda: all(len(p.done) > b for p, b in
                                                                  zip(pollers, base, strict=True)),
                  2 * interval_s + 120)
            start = [len(p.done) for p in pollers]
            cpu0 = [_cpu_s(p.proc.pid) for p in pollers]
            _wait(f"{sweeps} measured sweeps of each", lambda: all(len(p.done) >= s0 + sweeps for p, s0 in
                                                                 zip(pollers, start, strict=True)),
                  (sweeps + 1) * interval_s + 300)
            cpu = [_cpu_s(p.proc.pid) - c for p, c in zip(pollers, cpu0, strict=True)]
            runs = [p.done[s0:s0 + sweeps] for p, s0 in zip(pollers, start, strict=True)]
            probing = [p.probed[s0:s0 + sweeps] for p, s0 in zip(pollers, start, strict=True)]
            with engine.connect() as conn:  # a device probed twice in one sweep: two probes within half an interval
                doubled, probes, devices = conn.execute(text(
                    "SELECT count(*) FILTER (WHERE gap < make_interval(secs => :half)), count(*), "
                    "count(DISTINCT device_id) FROM (SELECT device_id, ts - lag(ts) OVER (PARTITION BY device_id "
                    "ORDER BY ts) AS gap FROM probe_result) g"), {"half": interval_s / 2}).one()
            for p in pollers:
                p.proc.send_signal(signal.SIGTERM)
            for p in pollers:
                p.proc.wait(60)
            engine.dispose()
        cpu0_f, t0 = children_cpu(), time.perf_counter()
        subprocess.run(["fping", "-c1", "-t1000", "-i1", "-q"], input="\n".join(addresses), capture_output=True,
                       text=True)
        f_wall, f_cpu = time.perf_counter() - t0, children_cpu() - cpu0_f
    finally:
        for p in pollers:
            if p.proc.poll() is None:
                p.proc.kill()
        for lab in labs:
            lab.close()
    per_sweep_targets = [sum(r[1] for r in rs) / len(rs) for rs in runs]
    durations = [max(r[2] for r in rs) for rs in runs]
    probe_s = [max(p[0] for p in ps) for ps in probing]
    cpu_per_1000 = [c / sweeps / (t / 1000) for c, t in zip(cpu, per_sweep_targets, strict=True)]
    f_per_1000 = f_cpu / (n / 1000)
    probe_cpu = [sum(p[1] for p in ps) / len(ps) / (t / 1000) for ps, t in zip(probing, per_sweep_targets,
                                                                                  strict=True)]
    rows = [[f"poller {i + 1}", f"{per_sweep_targets[i]:,.0f}", f"{probe_s[i]:.2f}", f"{durations[i]:.2f}",
             f"{probe_cpu[i]:.3f}", f"{cpu_per_1000[i]:.3f}"] for i in range(3)]
    rows.append(["3 pollers (slowest / mean)", f"{sum(per_sweep_targets):,.0f}", f"{max(probe_s):.2f}",
                 f"{max(durations):.2f}", f"{sum(probe_cpu) / 3:.3f}", f"{sum(cpu) / sweeps / (n / 1000):.3f}"])
    rows.append(["fping -c1 -t1000 -i1 (all)", f"{n:,}", f"{f_wall:.2f}", f"{f_wall:.2f}", f"{f_per_1000:.3f}",
                 f"{f_per_1000:.3f}"])
    print("\n".join(f"{k}: {v}" for k, v in machine_facts(True)))
    print_table(f"{n:,} targets ({n // 10:,} silent), 3 pollers through PostgreSQL, {sweeps} sweeps each, "
                f"interval {interval_s:g} s", ["", "targets/sweep", "probing s", "sweep s (+ write)",
                                               "probe CPU s/1,000", "process CPU s/1,000"], rows)
    print(f"\nratio ours/fping (3 pollers in parallel vs one fping): probing wall {ratio(max(probe_s), f_wall)}, "
          f"whole sweep {ratio(max(durations), f_wall)}; probing CPU per 1,000 targets "
          f"{ratio(sum(probe_cpu) / 3, f_per_1000)}, whole process {ratio(sum(cpu) / sweeps / (n / 1000), f_per_1000)}")
    print(f"probes of the same device less than half an interval apart (twice in one sweep): {doubled:,} "
          f"of {probes:,} probes of {devices:,} devices")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--targets", type=int, default=30_000, help="lab addresses (default 30,000)")
    parser.add_argument("--sweeps", type=int, default=2, help="measured sweeps of each poller")
    parser.add_argument("--interval", type=float, default=60.0, help="ICMP interval of the pollers, seconds")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    reason = check_lab_requirements(need_snmp=False)
    if reason or not pg_reachable():
        print(f"cannot run: {reason or 'PostgreSQL is not reachable'}", file=sys.stderr)
        return 2
    return run(args.targets, args.sweeps, args.interval)


if __name__ == "__main__":
    sys.exit(main())

"""Bring up a network lab of bench size from the command line, measure it, and tear it down.

    python bench/lab_env.py up --hosts 700 --silent 300 --snmpsim 300 --interfaces 8 --hold 0
    python bench/lab_env.py cleanup        # remove labs left behind by killed processes

``up`` prints one JSON document: the lab's prefix, how long each step took, the snmpsim processes'
memory and CPU, and how many agents answered a GET (sent from the root namespace with net-snmp's
snmpget). ``--hold N`` keeps the lab for N seconds (0: tear down at once; -1: until Ctrl-C) so a
prober can be pointed at it by hand. Traffic goes only to the lab's own namespace.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.lab.netlab import Lab, LabUnavailable, cleanup_stale_labs

log = logging.getLogger(__name__)


def _proc_stats(pids: list[int]) -> dict[str, float]:
    rss_kib, cpu_ticks = 0, 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss_kib += int(line.split()[1])
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        cpu_ticks += int(fields[11]) + int(fields[12])
    return {"rss_mib": round(rss_kib / 1024, 1), "cpu_s": cpu_ticks / 100}


def _answering(addresses: list[str], community: str) -> int:
    ok = 0
    for addr in addresses:
        done = subprocess.run(["snmpget", "-v2c", "-c", community, "-r1", "-t1", "-Oqv", addr,
                               "1.3.6.1.2.1.1.5.0"], capture_output=True, text=True)
        ok += done.returncode == 0
    return ok


def up(args: argparse.Namespace) -> dict[str, Any]:
    report: dict[str, Any] = {}
    started = time.monotonic()
    with Lab() as lab:
        report.update(name=lab.name, prefix=str(lab.prefix), lab_s=round(time.monotonic() - started, 3))
        step = time.monotonic()
        hosts = lab.add_hosts(args.hosts + args.snmpsim)
        silent = lab.silent_addresses(args.silent)
        report["addresses_s"] = round(time.monotonic() - step, 3)
        report.update(hosts=len(hosts), silent=len(silent))
        if args.snmpsim:
            agents = hosts[args.hosts:]
            step = time.monotonic()
            sim = lab.start_snmpsim(agents, interfaces=args.interfaces, rate_bps=args.rate_bps)
            report["snmpsim_start_s"] = round(time.monotonic() - step, 1)
            report["snmpsim_processes"] = sim.processes
            report["snmpsim_after_start"] = _proc_stats(sim.pids)
            step = time.monotonic()
            report["snmpsim_answering"] = _answering(agents, sim.community)
            report["snmpsim_get_sweep_s"] = round(time.monotonic() - step, 1)
            time.sleep(5)
            before = _proc_stats(sim.pids)["cpu_s"]
            time.sleep(10)
            report["snmpsim_idle_cpu_percent"] = round((_proc_stats(sim.pids)["cpu_s"] - before) * 10, 1)
        if args.hold:
            print(json.dumps(report, indent=2), flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                time.sleep(args.hold if args.hold > 0 else 10**9)
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    up_p = sub.add_parser("up", help="build a lab, measure it, tear it down")
    up_p.add_argument("--hosts", type=int, default=700, help="addresses that answer ping")
    up_p.add_argument("--silent", type=int, default=300, help="routed addresses that never answer")
    up_p.add_argument("--snmpsim", type=int, default=0, help="extra hosts, each with an snmpsim agent")
    up_p.add_argument("--interfaces", type=int, default=8)
    up_p.add_argument("--rate-bps", type=int, default=10_000_000)
    up_p.add_argument("--hold", type=float, default=0, help="seconds to keep the lab (-1: until Ctrl-C)")
    sub.add_parser("cleanup", help="remove labs whose owning process is gone")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        if args.command == "cleanup":
            print(json.dumps({"removed": cleanup_stale_labs()}))
        else:
            print(json.dumps(up(args), indent=2))
    except LabUnavailable as exc:
        print(f"lab unavailable: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

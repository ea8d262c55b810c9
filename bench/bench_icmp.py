"""ICMP sweep benchmark: our prober vs fping on the same lab addresses (needs root and netns).

Run from the repository root: ``python bench/bench_icmp.py [--quick]``.

1. 1,000 targets (700 answer, 300 silent), 1 packet, timeout 1 s: our sweep's wall and CPU time
   (process CPU around the sweep only; interpreter start-up and imports excluded) against
   ``fping -c1 -t1000 -i1`` (wall, and CPU of the fping process). Targets: wall ≤ 1.25× fping's,
   our CPU < 0.5 s.
2. 10,000 targets (7,000 answer, 3,000 silent) × 3 packets, one sweep per 60 s interval: CPU as a
   percentage of one core over the interval, ours and ``fping -C3 -i1``'s. ``--quick`` skips it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from probes.base import ProbeContext, Target
from probes.icmp import IcmpSettings
from probes.sweep import SweepReport, run_sweep
from tests.lab.netlab import Lab, check_lab_requirements

ROUNDS = 3
INTERVAL_S = 60.0


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_fping(args: list[str], addresses: list[str]) -> tuple[float, float, str]:
    """(wall s, CPU s, stderr) of one fping run; addresses on stdin."""
    cpu0, t0 = children_cpu(), time.perf_counter()
    done = subprocess.run(["fping", *args], input="\n".join(addresses), capture_output=True, text=True)
    return time.perf_counter() - t0, children_cpu() - cpu0, done.stderr


async def our_sweeps(targets: list[Target], settings: IcmpSettings, rounds: int,
                     pause_s: float = 0.0) -> list[tuple[float, float, SweepReport]]:
    """(wall s, CPU s, report) per sweep, in one long-lived context as the scheduler runs it."""
    out = []
    async with ProbeContext() as ctx:
        ctx.prepare("icmp")
        for _ in range(rounds):
            cpu0, t0 = time.process_time(), time.perf_counter()
            report = await run_sweep("icmp", targets, settings, ctx)
            out.append((time.perf_counter() - t0, time.process_time() - cpu0, report))
            if pause_s:
                await asyncio.sleep(pause_s)
    return out


def row(name: str, ours: float, peer: float, unit: str, target: str, ok: bool) -> str:
    ratio = ours / peer if peer else float("inf")
    return f"{name:<34} {ours:>10.3f} {peer:>10.3f} {unit:<4} {ratio:>7.2f}x  {target:<22} {'OK' if ok else 'MISSED'}"


HEADER = f"{'measure':<34} {'ours':>10} {'fping':>10} {'unit':<4} {'ratio':>8}  {'target':<22} result"


def bench_1000(lab: Lab) -> list[str]:
    up, silent = lab.add_hosts(700), lab.silent_addresses(300)
    addresses = up + silent
    targets = [Target(key=f"ip:{a}", address=a, check="icmp") for a in addresses]
    settings = IcmpSettings(timeout_s=1.0, packets=1, send_interval_s=0.001, concurrency=1000)
    ours = asyncio.run(our_sweeps(targets, settings, ROUNDS))
    peers = [run_fping(["-c1", "-t1000", "-i1", "-q"], addresses) for _ in range(ROUNDS)]
    for _wall, _cpu, report in ours:
        assert report.up == 700 and report.down == 300, (report.up, report.down)
    alive = sum(1 for line in peers[0][2].splitlines() if "1/1/0%" in line)
    assert alive == 700, f"fping saw {alive} alive"
    wall, cpu = statistics.median(o[0] for o in ours), statistics.median(o[1] for o in ours)
    p_wall, p_cpu = statistics.median(p[0] for p in peers), statistics.median(p[1] for p in peers)
    return [
        f"1,000 targets (700 up, 300 silent), 1 packet, timeout 1 s, median of {ROUNDS}",
        HEADER,
        row("sweep wall time", wall, p_wall, "s", "<= 1.25x fping", wall <= 1.25 * p_wall),
        row("CPU time (sweep only)", cpu, p_cpu, "s", "ours < 0.5 s", cpu < 0.5),
    ]


def bench_10000() -> list[str]:
    labs = [Lab() for _ in range(3)]
    try:
        up: list[str] = []
        silent: list[str] = []
        for lab in labs:  # a lab routes a /20: three of them hold 10,000 addresses
            up += lab.add_hosts(2334)
            silent += lab.silent_addresses(1000)
        addresses = up[:7000] + silent[:3000]
        random.Random(7).shuffle(addresses)
        targets = [Target(key=f"ip:{a}", address=a, check="icmp") for a in addresses]
        settings = IcmpSettings(timeout_s=1.0, packets=3, packet_interval_s=1.0, send_interval_s=0.001,
                                 concurrency=1000, interval_s=INTERVAL_S)
        t0 = time.perf_counter()
        ((wall, cpu, report),) = asyncio.run(our_sweeps(targets, settings, 1))
        # the rest of the 60 s interval is idle: the dispatcher costs nothing while nothing is sent
        idle_cpu0 = time.process_time()
        time.sleep(max(0.0, INTERVAL_S - (time.perf_counter() - t0)))
        cpu += time.process_time() - idle_cpu0
        p_wall, p_cpu, _err = run_fping(["-C3", "-p1000", "-t1000", "-i1", "-q"], addresses)
        return [
            f"10,000 targets x 3 packets (packet interval 1 s), one sweep per {INTERVAL_S:.0f} s interval",
            HEADER,
            row("sweep wall time", wall, p_wall, "s", "< interval", wall < INTERVAL_S),
            row("CPU % of one core over 60 s", 100 * cpu / INTERVAL_S, 100 * p_cpu / INTERVAL_S, "%",
                "report", True),
            f"  ours: {report.up} up / {report.down} down of {len(addresses)} (7000 configured up)",
        ]
    finally:
        for lab in labs:
            lab.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="only the 1,000-target comparison")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    reason = check_lab_requirements(need_snmp=False)
    if reason:
        print(f"cannot run: {reason}", file=sys.stderr)
        return 2
    with Lab() as lab:
        lines = bench_1000(lab)
    if not args.quick:
        lines += ["", *bench_10000()]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())

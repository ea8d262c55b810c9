"""SNMP sweep benchmark: our prober vs net-snmp ``snmpget`` 32-way parallel (needs root and netns).

Run from the repository root: ``python bench/bench_snmp.py [--agents 300]``.

300 snmpsim agents in a lab namespace, 8 interfaces each. Per agent, both sides read sysUpTime and,
for the 8 interfaces, ifOperStatus, ifAdminStatus, ifHCInOctets, ifHCOutOctets, ifInErrors and
ifOutErrors (49 OIDs). The peer is ``xargs -P32 snmpget -v2c -On -t2 -r1 <agent> <49 OIDs>`` with
the ifIndexes known in advance; we map inventory names to ifIndex ourselves on the first (cold)
sweep and from the cache afterwards (warm). Both sides first touch every agent once (snmpsim
builds per-agent state on first use), then alternate, median of ``--rounds``. Wall time is the
whole sweep; CPU is our process's CPU around the sweep only, and the peer's child processes
(xargs + snmpget). The agents' own CPU (snmpsim, shared by both sides) is counted for neither.
Target: our warm wall time ≤ the peer's.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from probes.base import ProbeContext, SnmpCredentials, Target
from probes.snmp import (
    IF_ADMIN_STATUS,
    IF_HC_IN_OCTETS,
    IF_HC_OUT_OCTETS,
    IF_IN_ERRORS,
    IF_OPER_STATUS,
    IF_OUT_ERRORS,
    SYS_UPTIME,
    SnmpSettings,
)
from probes.sweep import SweepReport, run_sweep
from tests.lab.netlab import Lab, check_lab_requirements

INTERFACES = 8
COLUMNS = (IF_OPER_STATUS, IF_ADMIN_STATUS, IF_HC_IN_OCTETS, IF_HC_OUT_OCTETS, IF_IN_ERRORS, IF_OUT_ERRORS)
OIDS = [SYS_UPTIME] + [f"{col}.{i}" for i in range(1, INTERFACES + 1) for col in COLUMNS]
PEER_PARALLEL = 32


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_peer(addresses: list[str]) -> tuple[float, float, int]:
    """(wall s, CPU s, agents fully answered) of one snmpget sweep, 32 in parallel."""
    argv = ["xargs", f"-P{PEER_PARALLEL}", "-I{}", "snmpget", "-v2c", "-cpublic", "-On", "-t2", "-r1", "{}", *OIDS]
    cpu0, t0 = children_cpu(), time.perf_counter()
    done = subprocess.run(argv, input="\n".join(addresses), capture_output=True, text=True,
                          env={"MIBS": "", "PATH": "/usr/bin:/bin"})
    wall, cpu = time.perf_counter() - t0, children_cpu() - cpu0
    answered = done.stdout.count("Counter64") // (2 * INTERFACES)
    return wall, cpu, answered


async def run_ours(ctx: ProbeContext, targets: list[Target],
                   settings: SnmpSettings) -> tuple[float, float, SweepReport]:
    cpu0, t0 = time.process_time(), time.perf_counter()
    report = await run_sweep("snmp", targets, settings, ctx)
    return time.perf_counter() - t0, time.process_time() - cpu0, report


def complete(report: SweepReport) -> int:
    return sum(1 for r in report.results if r.success and len(r.interfaces) == INTERFACES)


def row(name: str, ours: float, peer: float, unit: str, target: str, ok: bool | None) -> str:
    ratio = ours / peer if peer else float("inf")
    verdict = "" if ok is None else ("OK" if ok else "MISSED")
    return f"{name:<34} {ours:>9.3f} {peer:>9.3f} {unit:<4} {ratio:>7.2f}x  {target:<18} {verdict}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16,
                        help="our sweep concurrency (peer: 32 processes; snmpsim answers serially)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    reason = check_lab_requirements(need_snmp=True)
    if reason:
        print(f"cannot run: {reason}", file=sys.stderr)
        return 2
    creds = SnmpCredentials(version="2c", community="public")
    names = tuple(f"Gi0/{i}" for i in range(1, INTERFACES + 1))
    settings = SnmpSettings(timeout_s=2.0, snmp_retries=1, concurrency=args.concurrency)
    with Lab() as lab:
        addresses = lab.add_hosts(args.agents)
        t0 = time.perf_counter()
        lab.start_snmpsim(addresses, interfaces=INTERFACES)
        started_s = time.perf_counter() - t0
        targets = [Target(key=f"device:{n}", address=a, check="snmp",
                          params={"snmp": creds, "interfaces": names}) for n, a in enumerate(addresses)]
        run_peer(addresses)  # first touch of every agent, for both sides

        async def ours_and_peer() -> tuple[tuple[float, float, SweepReport], list[tuple[float, float, SweepReport]],
                                           list[tuple[float, float, int]]]:
            async with ProbeContext() as ctx:
                cold = await run_ours(ctx, targets, settings)
                warm, peer = [], []
                for _ in range(args.rounds):
                    peer.append(run_peer(addresses))
                    warm.append(await run_ours(ctx, targets, settings))
                return cold, warm, peer

        cold, warm, peer = asyncio.run(ours_and_peer())
    w_wall, w_cpu = statistics.median(w[0] for w in warm), statistics.median(w[1] for w in warm)
    p_wall, p_cpu = statistics.median(p[0] for p in peer), statistics.median(p[1] for p in peer)
    print(f"{args.agents} snmpsim agents x (sysUpTime + {INTERFACES} interfaces x 6 counters = {len(OIDS)} OIDs), "
          f"v2c; ours concurrency {args.concurrency}, peer xargs -P{PEER_PARALLEL} snmpget; "
          f"median of {args.rounds} (agents started in {started_s:.0f} s)")
    print(f"{'measure':<34} {'ours':>9} {'snmpget':>9} {'unit':<4} {'ratio':>8}  {'target':<18} result")
    print(row("warm sweep wall time", w_wall, p_wall, "s", "<= snmpget", w_wall <= p_wall))
    print(row("warm sweep CPU time", w_cpu, p_cpu, "s", "report", None))
    print(row("cold sweep wall (ifIndex discovery)", cold[0], p_wall, "s", "report", None))
    print(row("cold sweep CPU (ifIndex discovery)", cold[1], p_cpu, "s", "report", None))
    print(f"  agents with all {INTERFACES} interfaces read: ours cold {complete(cold[2])}, "
          f"warm {min(complete(w[2]) for w in warm)}; snmpget {min(p[2] for p in peer)} (of {args.agents})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

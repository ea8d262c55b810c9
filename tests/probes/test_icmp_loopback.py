"""ICMP prober on loopback: every packet answered, reply matching, errors; root needed (raw socket)."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from probes.base import ProbeContext, Target
from probes.icmp import IcmpSettings
from probes.sweep import run_sweep
from tests.probes.conftest import probe_once
from tests.requirements import missing, require_raw_icmp, require_root_netns

REPO = Path(__file__).resolve().parents[2]
FAST = IcmpSettings(timeout_s=0.5, packets=3, packet_interval_s=0.02)


@pytest.fixture(autouse=True)
def _raw_icmp() -> None:
    require_raw_icmp()


def test_loopback_answers_every_packet_with_ordered_rtt_figures() -> None:
    result = probe_once("icmp", Target(key="lo", address="127.0.0.1"), FAST)
    assert result.success and result.error is None
    m = result.measurements
    assert (m["sent"], m["received"], m["loss_pct"]) == (3.0, 3.0, 0.0)
    assert 0 <= m["rtt_min_ms"] <= m["rtt_avg_ms"] <= m["rtt_max_ms"]


def test_ipv6_loopback_answers() -> None:
    result = probe_once("icmp", Target(key="lo6", address="::1"), FAST)
    assert result.success, result.error
    assert result.measurements["loss_pct"] == 0.0


def test_reply_from_another_address_does_not_count() -> None:
    # Linux answers an echo to 0.0.0.0 from 127.0.0.1: right id and seq, wrong source
    result = probe_once("icmp", Target(key="any", address="0.0.0.0"), FAST)
    assert not result.success
    assert result.measurements["received"] == 0.0 and result.measurements["loss_pct"] == 100.0
    assert result.error is not None and "no reply" in result.error


def test_every_loopback_address_gets_its_own_reply_in_one_sweep() -> None:
    targets = [Target(key=f"h{i}", address=f"127.0.{i // 250}.{i % 250 + 1}") for i in range(400)]
    settings = IcmpSettings(timeout_s=1.0, packets=2, packet_interval_s=0.05, concurrency=400)

    async def main() -> list[tuple[str, float]]:
        async with ProbeContext() as ctx:
            report = await run_sweep("icmp", targets, settings, ctx)
            return [(r.target.address, r.measurements["received"]) for r in report.results]

    assert asyncio.run(main()) == [(t.address, 2.0) for t in targets]


def test_address_that_is_not_an_ip_is_a_clear_error() -> None:
    result = probe_once("icmp", Target(key="bad", address="router-1.example"), FAST)
    assert not result.success
    assert result.error == "not an IP address: 'router-1.example'"


def _in_throwaway_netns(script: str) -> str:
    """Run ``script`` with this repo's python in a new, empty network namespace (deleted on exit)."""
    require_root_netns()
    if not shutil.which("unshare"):
        missing("this test needs util-linux 'unshare'")
    done = subprocess.run(["unshare", "--net", sys.executable, "-c", textwrap.dedent(script)], capture_output=True,
                          text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_send_failure_loses_that_packet_with_the_reason() -> None:
    # a namespace with no route at all: the kernel refuses the send (nothing leaves the namespace)
    out = _in_throwaway_netns("""
        import asyncio
        from probes.base import ProbeContext, Target
        from probes.icmp import IcmpSettings
        from probes.sweep import run_sweep
        async def main():
            async with ProbeContext() as ctx:
                report = await run_sweep("icmp", [Target(key="x", address="203.0.113.7")],
                                         IcmpSettings(timeout_s=0.5, packets=2, packet_interval_s=0.02), ctx)
                r = report.results[0]
                print(r.success, int(r.measurements["sent"]), int(r.measurements["received"]), r.error, sep="|")
        asyncio.run(main())
    """)
    assert out.strip() == "False|2|0|send failed: Network is unreachable"


def test_unprivileged_ping_socket_is_used_when_raw_sockets_are_not() -> None:
    """The SOCK_DGRAM fallback, run for real in a throwaway namespace whose ping_group_range allows it."""
    out = _in_throwaway_netns("""
        import asyncio, subprocess
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        with open("/proc/sys/net/ipv4/ping_group_range", "w") as fh:
            fh.write("0 2147483647")
        from probes.base import ProbeContext, Target
        from probes.icmp import IcmpSettings
        from probes.sweep import run_sweep
        async def main():
            async with ProbeContext(icmp_modes=("dgram",)) as ctx:
                report = await run_sweep("icmp", [Target(key="lo", address="127.0.0.1"),
                                                  Target(key="other", address="0.0.0.0")],
                                         IcmpSettings(timeout_s=0.5, packets=2, packet_interval_s=0.02), ctx)
                print(ctx.icmp.mode(), *(int(r.measurements["received"]) for r in report.results))
        asyncio.run(main())
    """)
    assert out.split() == ["dgram", "2", "0"]

"""Probers against the network-namespace lab: silent and late hosts, loss vs fping, snmpsim rates.

Needs root and network namespaces (``tests.lab``): skipped with the reason on a laptop, failed under CI.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
from collections.abc import Callable, Iterator

import pytest

from probes.base import ProbeContext, ProbeResult, SnmpCredentials, Target
from probes.icmp import IcmpSettings
from probes.plugin import KindSettings
from probes.rates import InterfaceRate, RateSample, interface_rate
from probes.snmp import SnmpSettings
from probes.sweep import SweepReport, run_sweep
from tests.lab.netlab import NFT_TABLE, Lab, SnmpSim
from tests.requirements import require_commands

# One xdist worker runs the whole module in order (make test: --dist loadscope; the mark for loadgroup), on one
# module_lab: the restart test needs an agent that has been up longer than the restart takes, which the tests
# before it provide; a worker that began the module with it saw the fresh agent's uptime grow across the restart.
pytestmark = [pytest.mark.lab, pytest.mark.xdist_group("lab-probes")]

V2C = SnmpCredentials(version="2c", community="public")
SIM_INTERFACES = tuple(f"Gi0/{i}" for i in range(1, 9))
SNMP = SnmpSettings(timeout_s=2.0, snmp_retries=1, concurrency=32)


def sweep(kind: str, targets: list[Target], settings: KindSettings, ctx: ProbeContext | None = None,
          rounds: int = 1) -> list[SweepReport]:
    async def main() -> list[SweepReport]:
        async with ProbeContext() as own:
            use = ctx or own
            return [await run_sweep(kind, targets, settings, use) for _ in range(rounds)]

    return asyncio.run(main())


def icmp_targets(addresses: list[str]) -> list[Target]:
    return [Target(key=f"ip:{a}", address=a) for a in addresses]


def test_silent_address_is_down_while_answering_hosts_are_up_in_the_same_sweep(module_lab: Lab) -> None:
    hosts, silent = module_lab.add_hosts(20), module_lab.silent_addresses(20)
    settings = IcmpSettings(timeout_s=0.5, packets=2, packet_interval_s=0.05)
    (report,) = sweep("icmp", icmp_targets(hosts + silent), settings)
    status = {r.target.address: (r.success, r.measurements["received"]) for r in report.results}
    assert {a: status[a] for a in hosts} == dict.fromkeys(hosts, (True, 2.0))
    assert {a: status[a] for a in silent} == dict.fromkeys(silent, (False, 0.0))


def test_late_replies_never_make_a_dead_host_look_up(module_lab: Lab) -> None:
    """Replies 0.35 s late (timeout 0.3 s) land while the same host's next requests are outstanding."""
    (late,) = module_lab.silent_addresses(1)
    module_lab.start_late_responder(late, delay_s=0.35)
    hosts, silent = module_lab.add_hosts(300), module_lab.silent_addresses(50)
    settings = IcmpSettings(timeout_s=0.3, packets=3, packet_interval_s=0.1, send_interval_s=0.0005,
                             concurrency=1000)
    targets = icmp_targets([late, *hosts, *silent])
    for report in sweep("icmp", targets, settings, rounds=2):  # round 2 also meets round 1's stragglers
        by_address = {r.target.address: r for r in report.results}
        assert by_address[late].measurements["received"] == 0.0
        assert not by_address[late].success
        assert all(by_address[a].success for a in hosts)
        assert not any(by_address[a].success for a in silent)
    # the responder does answer: with a timeout longer than its delay, every packet comes back
    (patient,) = sweep("icmp", icmp_targets([late]), IcmpSettings(timeout_s=1.0, packets=3, packet_interval_s=0.1))
    assert patient.results[0].measurements["received"] == 3.0


def _fping(address: str, count: int) -> tuple[float, list[float]]:
    done = subprocess.run(["fping", "-C", str(count), "-p", "10", "-t", "500", "-q", address],
                          capture_output=True, text=True)
    fields = done.stderr.split(":", 1)[1].split()
    rtts = [float(f) for f in fields if re.fullmatch(r"[0-9.]+", f)]
    return 100.0 * (count - len(rtts)) / count, rtts


def test_loss_and_rtt_are_plausible_against_fping_on_the_same_host(module_lab: Lab) -> None:
    require_commands("fping")
    (host,) = module_lab.add_hosts(1)
    count = 60
    module_lab.set_loss(50)
    try:
        (report,) = sweep("icmp", icmp_targets([host]),
                          IcmpSettings(timeout_s=0.5, packets=count, packet_interval_s=0.01))
        fping_loss, fping_rtts = _fping(host, count)
    finally:
        module_lab.clear_loss()
    ours = report.results[0].measurements
    # 60 packets at 50 % random loss: both stay well inside 20..80 % (4.6 standard deviations)
    assert 20 <= ours["loss_pct"] <= 80
    assert 20 <= fping_loss <= 80
    assert ours["rtt_min_ms"] <= max(fping_rtts) and min(fping_rtts) <= ours["rtt_max_ms"]


def test_icmp_error_quoting_our_request_ends_that_packet_at_once_with_its_text(module_lab: Lab) -> None:
    (host,) = module_lab.add_hosts(1)
    # the far namespace rejects echo requests to this host (port-unreachable passes the lab's filter)
    module_lab.run("nft", "add", "rule", "inet", NFT_TABLE, "input", "ip", "daddr", host, "icmp", "type",
                   "echo-request", "reject", "with", "icmp", "type", "port-unreachable")
    try:
        (report,) = sweep("icmp", icmp_targets([host]), IcmpSettings(timeout_s=5.0, packets=1))
    finally:
        module_lab.clear_loss()  # flushes the input chain
    result = report.results[0]
    assert not result.success
    assert result.error == f"destination unreachable (code 3) from {host}"  # not the 5 s timeout's text


def test_host_taken_down_is_down_and_up_again_when_it_returns(module_lab: Lab) -> None:
    (host,) = module_lab.add_hosts(1)
    settings = IcmpSettings(timeout_s=0.3, packets=1)
    module_lab.host_down(host)
    assert not sweep("icmp", icmp_targets([host]), settings)[0].results[0].success
    module_lab.host_up(host)
    assert sweep("icmp", icmp_targets([host]), settings)[0].results[0].success


# -- SNMP ----------------------------------------------------------------------------------------

RATES = {1: (8_000_000, 2_000_000), 2: (100_000_000, 100_000_000)}


@pytest.fixture(scope="module")
def small_sim(module_lab: Lab) -> Iterator[tuple[SnmpSim, str]]:
    (address,) = module_lab.add_hosts(1)
    sim = module_lab.start_snmpsim([address], interfaces=3, rate_bps=RATES)
    yield sim, address
    sim.stop()


def _rates(before: ProbeResult, after: ProbeResult) -> dict[str, InterfaceRate]:
    rates = {}
    for a, b in zip(before.interfaces, after.interfaces, strict=True):
        prev = RateSample.from_interface(a, before.started_at, before.measurements["sys_uptime_s"])
        cur = RateSample.from_interface(b, after.started_at, after.measurements["sys_uptime_s"])
        rates[b.name] = interface_rate(prev, cur, speed_kbps=1_000_000, commit_rate_kbps=200_000)
    return rates


def _poll_twice(target: Target, pause_s: float,
                between: Callable[[], None] | None = None) -> tuple[ProbeResult, ProbeResult]:
    async def main() -> tuple[ProbeResult, ProbeResult]:
        async with ProbeContext() as ctx:
            first = (await run_sweep("snmp", [target], SNMP, ctx)).results[0]
            if between is not None:
                between()
            await asyncio.sleep(pause_s)
            return first, (await run_sweep("snmp", [target], SNMP, ctx)).results[0]

    return asyncio.run(main())


def test_snmpsim_rates_are_within_5_percent_of_the_configured_rates(small_sim: tuple[SnmpSim, str]) -> None:
    sim, address = small_sim
    target = Target(key="sim", address=address, params={"snmp": V2C, "interfaces": ("Gi0/1", "Gi0/2")})
    before, after = _poll_twice(target, pause_s=3.0)
    rates = _rates(before, after)
    for name, if_index in (("Gi0/1", 1), ("Gi0/2", 2)):
        want_in, want_out = sim.rate_bps(address, if_index)
        assert rates[name].in_bps == pytest.approx(want_in, rel=0.05)
        assert rates[name].out_bps == pytest.approx(want_out, rel=0.05)
    assert rates["Gi0/2"].in_util_pct == pytest.approx(50.0, rel=0.05)  # 100 Mbit/s on a 200 Mbit/s commit


def test_agent_restart_gives_no_rate_instead_of_a_spike(small_sim: tuple[SnmpSim, str]) -> None:
    sim, address = small_sim
    target = Target(key="sim-restart", address=address, params={"snmp": V2C, "interfaces": ("Gi0/1",)})
    before, after = _poll_twice(target, pause_s=1.0, between=sim.restart)
    rate = _rates(before, after)["Gi0/1"]
    assert rate.in_bps is None and rate.out_bps is None
    assert rate.note is not None and "rebooted" in rate.note


def test_inventory_name_matching_ifdescr_finds_the_interface(small_sim: tuple[SnmpSim, str]) -> None:
    _sim, address = small_sim
    target = Target(key="sim-descr", address=address,
                    params={"snmp": V2C, "interfaces": ("GigabitEthernet0/3", "Gi0/1")})
    (report,) = sweep("snmp", [target], SNMP)
    assert [(i.name, i.if_index) for i in report.results[0].interfaces] == [("GigabitEthernet0/3", 3), ("Gi0/1", 1)]


def test_agent_host_down_fails_then_recovers_with_the_cached_mapping(module_lab: Lab,
                                                                     small_sim: tuple[SnmpSim, str]) -> None:
    _sim, address = small_sim
    target = Target(key="sim-down", address=address, params={"snmp": V2C, "interfaces": ("Gi0/1",)})
    settings = SnmpSettings(timeout_s=1.5, snmp_retries=0)  # snmpsim is a Python agent: slow on a loaded machine

    async def main() -> list[ProbeResult]:
        async with ProbeContext() as ctx:
            results = [(await run_sweep("snmp", [target], settings, ctx)).results[0]]
            module_lab.host_down(address)
            try:
                results.append((await run_sweep("snmp", [target], settings, ctx)).results[0])
            finally:
                module_lab.host_up(address)
            results.append((await run_sweep("snmp", [target], settings, ctx)).results[0])
            return results

    up, down, back = asyncio.run(main())
    assert up.success and back.success and not down.success
    assert down.error is not None and "no snmp response" in down.error.lower()
    assert [i.if_index for i in back.interfaces] == [1]


def test_many_snmpsim_agents_are_swept_with_every_interface(module_lab: Lab) -> None:
    """100 agents here (the 300-agent sweep is in bench/bench_snmp.py, against snmpget)."""
    addresses = module_lab.add_hosts(100)
    sim = module_lab.start_snmpsim(addresses, interfaces=8)
    try:
        targets = [Target(key=f"device:{n}", address=a, params={"snmp": V2C, "interfaces": SIM_INTERFACES})
                   for n, a in enumerate(addresses)]
        # generous: the first sweep meets 100 freshly started Python agents sharing two cores
        cold, warm = sweep("snmp", targets, SnmpSettings(timeout_s=3.0, snmp_retries=2, concurrency=16), rounds=2)
    finally:
        sim.stop()
    assert cold.up == 100, [r.error for r in cold.results if not r.success][:5]
    assert warm.up == 100
    for result in warm.results:
        assert [i.if_index for i in result.interfaces] == list(range(1, 9)), result.info
        assert result.info["sys_name"] == sim.sys_name(result.target.address)

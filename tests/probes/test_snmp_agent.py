"""SNMP prober against a real net-snmp snmpd on 127.0.0.1 (v1, v2c, v3 authPriv) and dead agents."""

from __future__ import annotations

import asyncio
import logging
import socket
import time

import pytest

from probes.base import IfIndexEntry, ProbeContext, SnmpCredentials, Target
from probes.snmp import SnmpSettings, probe
from probes.snmp_session import SnmpError, SnmpSession
from probes.sweep import run_sweep, target_budget_s
from tests.probes.conftest import V3_USERS, LocalSnmpd, probe_once

# A live agent answers in milliseconds; the generous timeout only keeps a loaded CI machine from turning a
# slow first answer into "deadline exceeded" (timing is bench/'s business). Dead agents use the short one.
SETTINGS = SnmpSettings(timeout_s=2.0, snmp_retries=1)
DEAD = SnmpSettings(timeout_s=0.5, snmp_retries=1)


def test_v2c_check_reads_uptime_identity_and_interface_counters(snmpd: LocalSnmpd) -> None:
    result = probe_once("snmp", snmpd.target(snmpd.v2c), SETTINGS)
    assert result.success, result.error
    assert result.error is None
    assert result.measurements["sys_uptime_s"] > 0
    assert result.info["sys_name"] == snmpd.sys_name
    assert result.info["sys_object_id"].startswith("1.3.6.1.4.1.8072.")  # net-snmp's enterprise
    (lo,) = result.interfaces
    assert lo.name == "lo" and lo.if_index == 1
    assert lo.oper_status == 1 and lo.admin_status == 1
    assert lo.counter_bits == 64
    assert isinstance(lo.hc_in_octets, int) and isinstance(lo.hc_out_octets, int)
    assert lo.in_errors is not None and lo.out_errors is not None


@pytest.mark.parametrize("user", sorted(V3_USERS))
def test_v3_auth_priv_reads_the_same_data(snmpd: LocalSnmpd, user: str) -> None:
    result = probe_once("snmp", snmpd.target(snmpd.v3[user]), SETTINGS)
    assert result.success, result.error
    assert result.info["sys_name"] == snmpd.sys_name
    assert [i.name for i in result.interfaces] == ["lo"]


def test_wrong_v3_key_fails_and_says_why(snmpd: LocalSnmpd) -> None:
    good = snmpd.v3["mon-sha-aes"]
    bad = SnmpCredentials(version="3", user=good.user, auth_protocol="sha", auth_key="not-the-key-1",
                          priv_protocol="aes", priv_key=good.priv_key, port=good.port)
    result = probe_once("snmp", snmpd.target(bad), SETTINGS)
    assert not result.success
    assert result.error is not None and "digest" in result.error.lower()


def test_same_v3_user_with_other_keys_does_not_break_the_right_ones(snmpd: LocalSnmpd) -> None:
    """pysnmp keys its USM table by user name: a second key set must not overwrite the first."""
    good = snmpd.v3["mon-sha-aes"]
    bad = SnmpCredentials(version="3", user=good.user, auth_protocol="sha", auth_key="not-the-key-1",
                          priv_protocol="aes", priv_key="not-the-key-2", port=good.port)
    targets = [snmpd.target(good if i % 2 == 0 else bad, key=f"device:{i}") for i in range(8)]

    async def main() -> list[bool]:
        async with ProbeContext() as ctx:
            report = await run_sweep("snmp", targets, SETTINGS, ctx)
            return [r.success for r in report.results]

    assert asyncio.run(main()) == [True, False] * 4


def test_v1_agent_gives_32_bit_octet_counters(snmpd: LocalSnmpd) -> None:
    result = probe_once("snmp", snmpd.target(snmpd.v1), SETTINGS)
    assert result.success, result.error
    (lo,) = result.interfaces
    assert lo.counter_bits == 32
    assert isinstance(lo.hc_in_octets, int) and 0 <= lo.hc_in_octets < 2**32


def test_inventory_interface_unknown_to_the_agent_is_reported_missing(snmpd: LocalSnmpd) -> None:
    result = probe_once("snmp", snmpd.target(snmpd.v2c, interfaces=("lo", "Gi9/9")), SETTINGS)
    assert result.success
    assert [i.name for i in result.interfaces] == ["lo"]
    assert result.info["missing_interfaces"] == "Gi9/9"


def test_interface_name_matching_ignores_case(snmpd: LocalSnmpd) -> None:
    result = probe_once("snmp", snmpd.target(snmpd.v2c, interfaces=("LO",)), SETTINGS)
    assert [(i.name, i.if_index) for i in result.interfaces] == [("LO", 1)]


class _SilentAgent:
    """A UDP socket on 127.0.0.1 that receives SNMP requests and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]

    def received(self) -> int:
        count = 0
        while True:
            try:
                self.sock.recv(65535)
            except BlockingIOError:
                return count
            count += 1


def test_dead_agent_costs_one_request_and_its_retries_then_fails() -> None:
    agent = _SilentAgent()
    creds = SnmpCredentials(version="2c", community="public", port=agent.port)
    target = Target(key="dead", address="127.0.0.1", params={"snmp": creds, "interfaces": ("lo",)})
    result = probe_once("snmp", target, DEAD)
    assert not result.success
    assert result.error is not None and "no snmp response" in result.error.lower()
    assert agent.received() == DEAD.snmp_retries + 1  # one GET, retried; no walk, no second round


def test_dead_agent_does_not_block_live_agents_in_a_sweep(snmpd: LocalSnmpd) -> None:
    dead = SnmpCredentials(version="2c", community="public", port=_SilentAgent().port)
    targets = [Target(key=f"t{i}", address="127.0.0.1",
                      params={"snmp": dead if i % 3 == 0 else snmpd.v2c, "interfaces": ("lo",)}) for i in range(12)]
    settings = SnmpSettings(timeout_s=0.5, snmp_retries=0, concurrency=6)  # 4 dead ones never hold every worker

    async def main() -> list[str]:
        order: list[str] = []
        async with ProbeContext() as ctx:
            await run_sweep("snmp", targets, settings, ctx, on_result=lambda r: order.append(r.target.key))
        return order

    order = asyncio.run(main())
    live = [k for k in order if int(k[1:]) % 3]
    dead = [k for k in order if not int(k[1:]) % 3]
    assert len(live) == 8 and len(dead) == 4
    assert order[:8] == live  # every live agent finished before the first dead one timed out


def test_walk_of_a_dead_agent_ends_with_an_error_instead_of_looping() -> None:
    agent = _SilentAgent()
    creds = SnmpCredentials(version="2c", community="public", port=agent.port)

    async def main() -> None:
        async with ProbeContext() as ctx:
            session = await SnmpSession.open(ctx, "dead", "127.0.0.1", creds, 0.3, 0, 50)
            await session.walk("1.3.6.1.2.1.31.1.1.1.1", max_rows=100, max_repetitions=10)

    with pytest.raises(SnmpError, match="walk"):
        asyncio.run(main())
    assert agent.received() == 1


def _probe_with_cache(snmpd: LocalSnmpd, entry: IfIndexEntry) -> tuple[list[tuple[str, int]], IfIndexEntry]:
    target = snmpd.target(snmpd.v2c, key="cached")

    async def main() -> tuple[list[tuple[str, int]], IfIndexEntry]:
        async with ProbeContext() as ctx:
            ctx.if_index_cache[target.key] = entry
            ctx.snmp_info_cache[target.key] = {"sys_name": snmpd.sys_name, "sys_object_id": "1.3.6.1.4.1.8072"}
            result = await probe(target, SETTINGS, time.monotonic() + target_budget_s("snmp", SETTINGS, 1), ctx)
            return [(i.name, i.if_index) for i in result.interfaces], ctx.if_index_cache[target.key]

    return asyncio.run(main())


def test_cached_ifindex_that_no_longer_exists_is_rediscovered(snmpd: LocalSnmpd) -> None:
    stale = IfIndexEntry(by_name={"lo": 9999}, missing=frozenset(), discovered_at=time.monotonic() - 3600)
    interfaces, entry = _probe_with_cache(snmpd, stale)
    assert interfaces == [("lo", 1)]
    assert entry.by_name == {"lo": 1}


def test_agent_reboot_invalidates_the_ifindex_cache(snmpd: LocalSnmpd) -> None:
    # the cache was filled when sysUpTime was far higher than now: the agent restarted since
    before_reboot = IfIndexEntry(by_name={"lo": 4242}, missing=frozenset(), discovered_at=time.monotonic(),
                                 sys_uptime_s=10**8)
    interfaces, entry = _probe_with_cache(snmpd, before_reboot)
    assert interfaces == [("lo", 1)]
    assert entry.sys_uptime_s is not None and entry.sys_uptime_s < 10**8


def test_warm_cache_is_used_without_walking(snmpd: LocalSnmpd) -> None:
    # a deliberately wrong but existing mapping (lo -> ifIndex 2) proves no walk happened
    fresh = IfIndexEntry(by_name={"lo": 2}, missing=frozenset(), discovered_at=time.monotonic())
    interfaces, _entry = _probe_with_cache(snmpd, fresh)
    assert interfaces == [("lo", 2)]


def test_target_without_credentials_fails_cleanly() -> None:
    result = probe_once("snmp", Target(key="x", address="127.0.0.1"), SETTINGS)
    assert not result.success and result.error == "target has no SNMP credentials"


def test_secrets_never_reach_the_logs(snmpd: LocalSnmpd, caplog: pytest.LogCaptureFixture) -> None:
    creds = snmpd.v3["mon-sha-aes"]
    with caplog.at_level(logging.DEBUG):
        probe_once("snmp", snmpd.target(snmpd.v2c, key="a"), SETTINGS)
        probe_once("snmp", snmpd.target(creds, key="b"), SETTINGS)
    text = caplog.text + repr(creds) + repr(snmpd.v2c)
    for secret in (snmpd.v2c.community, creds.auth_key, creds.priv_key):
        assert secret not in text


@pytest.mark.parametrize("version", ["1", "2c"])
def test_missing_object_reads_as_none_and_the_rest_is_kept(snmpd: LocalSnmpd, version: str) -> None:
    """v2c answers noSuchObject in place; a v1 agent fails the PDU with noSuchName and we retry without it."""
    creds = snmpd.v1 if version == "1" else snmpd.v2c
    absent = "1.3.6.1.2.1.1.99.0"

    async def main() -> dict[str, object]:
        async with ProbeContext() as ctx:
            session = await SnmpSession.open(ctx, "k", "127.0.0.1", creds, 0.5, 1, 50)
            return await session.get(["1.3.6.1.2.1.1.5.0", absent, "1.3.6.1.2.1.1.3.0"])

    values = asyncio.run(main())
    assert values["1.3.6.1.2.1.1.5.0"] == snmpd.sys_name
    assert values[absent] is None
    assert isinstance(values["1.3.6.1.2.1.1.3.0"], int)

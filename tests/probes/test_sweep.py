"""Sweeps: order, callbacks, contract guards, budgets; plus the registry and the shared vocabulary."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from dataclasses import replace

import pytest

from probes.base import ProbeContext, ProbeResult, SnmpCredentials, Target
from probes.icmp import IcmpSettings
from probes.registry import KINDS, get_kind
from probes.snmp import SnmpSettings
from probes.sweep import run_sweep, sweep_once, target_budget_s
from probes.tcp import TcpSettings
from tests.probes.conftest import free_port


@pytest.fixture(scope="module")
def listening_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(512)
        yield server.getsockname()[1]


def test_results_come_back_in_target_order_and_through_the_callback(listening_port: int) -> None:
    closed = free_port(socket.SOCK_STREAM)
    targets = [Target(key=f"t{i}", address="127.0.0.1", params={"port": listening_port if i % 2 else closed})
               for i in range(20)]
    seen: list[str] = []

    async def main() -> list[ProbeResult]:
        async def record(result: ProbeResult) -> None:
            seen.append(result.target.key)

        async with ProbeContext() as ctx:
            return (await run_sweep("tcp", targets, TcpSettings(timeout_s=1, concurrency=5), ctx,
                                    on_result=record)).results

    results = asyncio.run(main())
    assert [r.target.key for r in results] == [t.key for t in targets]
    assert [r.success for r in results] == [bool(i % 2) for i in range(20)]
    assert sorted(seen) == sorted(t.key for t in targets)


def test_sweep_once_runs_its_own_loop_and_reports_counts(listening_port: int) -> None:
    report = sweep_once("tcp", [Target(key="a", address="127.0.0.1", params={"port": listening_port})], TcpSettings())
    assert (report.up, report.down, report.overran) == (1, 0, False)
    assert report.started_at <= report.finished_at and report.duration_s >= 0


def test_sweep_longer_than_its_interval_is_flagged_as_overrun() -> None:
    tiny = TcpSettings.model_construct(timeout_s=0.2, interval_s=1e-9)
    report = sweep_once("tcp", [Target(key="x", address="127.0.0.1")], tiny)
    assert report.overran


def test_duplicate_target_keys_are_refused() -> None:
    targets = [Target(key="device:1", address="127.0.0.1"), Target(key="device:1", address="127.0.0.2")]
    with pytest.raises(ValueError, match="device:1"):
        sweep_once("tcp", targets, TcpSettings())


def test_unknown_kind_lists_the_known_ones() -> None:
    with pytest.raises(KeyError, match="known kinds: icmp, snmp, tcp, http, dns"):
        get_kind("gopher")


def test_a_prober_that_breaks_its_contract_fails_only_its_own_target(monkeypatch: pytest.MonkeyPatch,
                                                                      listening_port: int) -> None:
    async def misbehaving(target: Target, settings: TcpSettings, deadline: float, ctx: ProbeContext) -> ProbeResult:
        if target.key == "raises":
            raise RuntimeError("boom")
        if target.key == "hangs":
            await asyncio.sleep(3600)
        return await KINDS["tcp"].probe(target, settings, deadline, ctx)

    monkeypatch.setitem(KINDS, "flaky", replace(KINDS["tcp"], name="flaky", probe=misbehaving))
    targets = [Target(key=k, address="127.0.0.1", params={"port": listening_port}) for k in ("raises", "hangs", "fine")]
    report = sweep_once("flaky", targets, TcpSettings(timeout_s=0.2))
    by_key = {r.target.key: r for r in report.results}
    assert by_key["raises"].error == "prober raised: RuntimeError('boom')"
    assert by_key["hangs"].error == "prober overran its deadline"
    assert by_key["fine"].success


def test_budgets_cover_a_dead_snmp_agent_and_icmp_pacing() -> None:
    snmp = SnmpSettings(timeout_s=2, snmp_retries=1)
    icmp = IcmpSettings(timeout_s=2, packets=3, packet_interval_s=0.5, send_interval_s=0.001, concurrency=1000)
    assert target_budget_s("snmp", snmp, 10) == 2 * (1 + 1) + 2  # dead agent's retries, then one more timeout
    margin = 0.05  # lets the last packet's own timeout decide before the deadline does
    assert target_budget_s("icmp", icmp, 10) == pytest.approx(2 + 3 * 0.5 + 3 * 10 * 0.001 + margin)
    assert target_budget_s("icmp", icmp, 100_000) == pytest.approx(2 + 3 * 0.5 + 3 * 1000 * 0.001 + margin)
    assert target_budget_s("tcp", TcpSettings(timeout_s=2), 10) == 2


def test_credentials_never_show_secrets_in_repr() -> None:
    v2 = SnmpCredentials(version="2c", community="s3cret-community")
    v3 = SnmpCredentials(version="3", user="mon", auth_protocol="sha", auth_key="auth-s3cret",
                         priv_protocol="aes", priv_key="priv-s3cret")
    text = repr(v2) + str(v3) + repr(Target(key="k", address="127.0.0.1", params={"snmp": v3}))
    for secret in ("s3cret-community", "auth-s3cret", "priv-s3cret"):
        assert secret not in text
    assert "user='mon'" in text


@pytest.mark.parametrize("kwargs, message", [
    ({"version": "2"}, "SNMP version"),
    ({"version": "3"}, "needs a user"),
    ({"version": "3", "user": "u", "auth_protocol": "sha1"}, "auth_protocol"),
    ({"version": "3", "user": "u", "priv_protocol": "aes", "priv_key": "k" * 8}, "privacy needs authentication"),
    ({"port": 0}, "port"),
])
def test_invalid_credentials_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SnmpCredentials(**kwargs)  # type: ignore[arg-type]

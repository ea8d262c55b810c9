"""The discovery prober against a real snmpsim agent on 127.0.0.1: targets only for devices with usable SNMP
credentials, never availability checks; walks bounded by ``max_rows`` (what was cut is named); a silent agent
and the deadline end the observation with an error, never an exception."""

from __future__ import annotations

import asyncio
import json
import socket
import time

from probes import discovery
from probes.base import ProbeContext, ProbeResult, SnmpCredentials, Target
from probes.plugin import DeviceRecord, InventoryRecords
from tests.web.test_reconcile_pages import agent

__all__ = ["agent"]


def _run(port: int, **settings: float) -> ProbeResult:
    cfg = discovery.DiscoverySettings(**settings)
    target = Target(key="discovery:1", check="discovery", address="127.0.0.1", device_id=1, availability=False,
                    params={"snmp": SnmpCredentials(version="2c", community="public", port=port)})

    async def go() -> ProbeResult:
        async with ProbeContext() as ctx:
            discovery.prepare(ctx, [target], cfg)
            return await discovery.probe(target, cfg, time.monotonic() + discovery.budget_s(cfg, 1), ctx)

    return asyncio.run(go())


def test_targets_are_the_devices_with_usable_snmp_credentials_and_never_decide_availability() -> None:
    creds = SnmpCredentials(community="public")
    built = discovery.build_targets(InventoryRecords(devices=[
        DeviceRecord(1, "a", "s", "10.0.0.1", creds), DeviceRecord(2, "b", "s", "10.0.0.2", None),
        DeviceRecord(3, "c", "s", "10.0.0.3", "snmp profile 'x': v3 needs a user"),
    ]), discovery.DiscoverySettings())
    assert [(t.key, t.check, t.availability) for t in built.targets] == [("discovery:1", "discovery", False)]
    assert [(p.device_id, p.check, p.reason) for p in built.problems] == [
        (3, "discovery", "snmp profile 'x': v3 needs a user")]
    assert discovery.KIND.availability is False and discovery.DiscoverySettings().interval_s == 3600


def test_walks_are_bounded_by_max_rows_and_say_what_was_cut(agent: int) -> None:
    full = _run(agent)
    assert full.success and json.loads(full.info["observation"])["truncated"] == []
    cut = _run(agent, max_rows=1, max_repetitions=1)
    assert cut.success, cut.error
    obs = json.loads(cut.info["observation"])
    assert len(obs["interfaces"]) == 1 and discovery.O.IF_NAME in obs["truncated"]


def test_a_silent_agent_and_the_deadline_end_the_observation_with_an_error() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:  # bound, never answering
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        silent = _run(port, timeout_s=0.3, snmp_retries=0)
        assert not silent.success and silent.error and silent.info == {}
        late = _run(port, timeout_s=2, deadline_s=0.3, snmp_retries=0)
        assert not late.success and late.error == "deadline exceeded"

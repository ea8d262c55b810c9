"""The H.323 kind: a completed TCP handshake on the call-signalling port is an endpoint that can be called
(``connect_ms``); a refused port is down with the TCP kind's sentence."""

from __future__ import annotations

import asyncio
import socket

from probes.base import ProbeContext, ProbeResult, Target
from probes.h323 import H323Settings
from probes.sweep import run_sweep


def _probe(port: int) -> ProbeResult:
    async def main() -> ProbeResult:
        target = Target(key="vc:7:h323", check="vc:7:h323", address="127.0.0.1", availability=False,
                        params={"port": port})
        async with ProbeContext() as ctx:
            return (await run_sweep("h323", [target], H323Settings(timeout_s=1.0), ctx)).results[0]

    return asyncio.run(main())


def test_a_listening_gatekeeper_port_is_up_and_a_closed_one_refused() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        up = _probe(listener.getsockname()[1])
    assert up.success and up.error is None and up.measurements["connect_ms"] > 0
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))  # bound but not listening: the kernel refuses
        down = _probe(bound.getsockname()[1])
    assert not down.success and down.error == f"connect to port {down.target.param('port')} failed: Connection refused"

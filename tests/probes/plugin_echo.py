"""A probe kind that lives entirely in the test suite: UDP echo (RFC 862) to a port of each device's address.

It proves the plugin contract: this file plus one ``registry.register(KIND)`` line make a kind that is
configured (``[probes.echo]``), scheduled, stored and shown, with nothing else changed.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from pydantic import Field

from probes.base import ProbeContext, ProbeResult, Target
from probes.plugin import InventoryRecords, KindSettings, MeasurementSpec, ProbeKind, TargetBuild


class EchoSettings(KindSettings):
    port: int = Field(7, ge=1, le=65535)
    payload: str = Field("infra-monitor", min_length=1, max_length=512)
    timeout_s: float = Field(1.0, gt=0, le=60)


def build_targets(inv: InventoryRecords, settings: EchoSettings) -> TargetBuild:
    return TargetBuild(targets=[Target(key=f"echo:{d.id}", check="echo", address=d.address, device_id=d.id,
                                       device=d.name, site=d.site, params={"port": settings.port})
                                for d in inv.devices])


class _Reply(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.got: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    def datagram_received(self, data: bytes, addr: object) -> None:
        if not self.got.done():
            self.got.set_result(data)


async def probe(target: Target, settings: EchoSettings, deadline: float, ctx: ProbeContext) -> ProbeResult:
    started, t0 = datetime.now(UTC), time.monotonic()
    error = None
    measurements: dict[str, float] = {}
    loop = asyncio.get_running_loop()
    transport, proto = await loop.create_datagram_endpoint(_Reply, remote_addr=(target.address,
                                                                                target.param("port")))
    try:
        async with asyncio.timeout_at(min(deadline, t0 + settings.timeout_s)):
            transport.sendto(settings.payload.encode())
            data = await proto.got
        measurements["echo_ms"] = round((time.monotonic() - t0) * 1000, 3)
        measurements["echo_bytes"] = float(len(data))
        if data != settings.payload.encode():
            error = "echo answered something else"
    except TimeoutError:
        error = "no echo"
    finally:
        transport.close()
    return ProbeResult(kind="echo", target=target, success=error is None, started_at=started,
                       duration_s=time.monotonic() - t0, measurements=measurements, error=error)


KIND = ProbeKind(
    name="echo", settings=EchoSettings, build_targets=build_targets, probe=probe,
    label_vi="Tiếng vọng UDP", label_en="UDP echo",
    measurements=(MeasurementSpec("echo_ms", "ms", "Thời gian vọng lại", "Echo time", rolled_up=True,
                                  role="latency"),
                  MeasurementSpec("echo_bytes", "B", "Số byte vọng lại", "Bytes echoed")),
)

"""H.323 prober for videoconference endpoints: a completed TCP handshake on the call-signalling port (1720).

H.225.0 call signalling listens on TCP 1720 (or ``[probes.h323] port``); an endpoint that accepts the
connection is there and can be called, one that refuses or stays silent is not. The connection is closed
at once, nothing is sent (a Q.931 SETUP would ring the room). Measurement: ``connect_ms``. Errors are the
TCP kind's sentences (``connect to port 1720 timed out``, ``connect to port 1720 failed: Connection
refused``), so the pages translate them alike.

Targets: each videoconference endpoint of protocol ``h323`` (:class:`probes.plugin.VcEndpointRecord`) is the
check ``vc:<endpoint id>:h323`` at its device's primary address. Like the SIP check it is not an
availability check: ICMP decides whether the codec's device is reachable.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from pydantic import Field

from probes.base import ProbeContext, ProbeResult, Target
from probes.plugin import InventoryRecords, KindSettings, MeasurementSpec, ProbeKind, TargetBuild
from probes.tcp import connect

log = logging.getLogger(__name__)


class H323Settings(KindSettings):
    """``[probes.h323]``: the call-signalling port."""

    timeout_s: float = Field(3.0, gt=0, le=600)
    concurrency: int = Field(128, ge=1, le=10_000)
    port: int = Field(1720, ge=1, le=65535)


def build_targets(inv: InventoryRecords, settings: H323Settings) -> TargetBuild:
    """``vc:<id>:h323`` per H.323 videoconference endpoint of a monitored device."""
    out = TargetBuild()
    for ep in inv.vc_endpoints:
        device = inv.device(ep.device_id)
        if ep.protocol != "h323" or device is None or not ep.address:
            continue
        check = f"vc:{ep.id}:h323"
        out.targets.append(Target(key=check, check=check, address=ep.address, device_id=ep.device_id,
                                  device=device.name, site=device.site, availability=False,
                                  params={"port": settings.port}))
    return out


async def probe(target: Target, settings: H323Settings, deadline: float, ctx: ProbeContext) -> ProbeResult:
    """Params: ``port``."""
    started_at = datetime.now(UTC)
    t0 = time.monotonic()
    measurements: dict[str, float] = {}
    port = int(target.param("port", settings.port))
    connect_ms, error = await connect(target, port, min(deadline, t0 + settings.timeout_s), "h323")
    if connect_ms is not None:
        measurements["connect_ms"] = connect_ms
    return ProbeResult(kind="h323", target=target, success=error is None, started_at=started_at,
                       duration_s=time.monotonic() - t0, measurements=measurements, error=error)


KIND = ProbeKind(
    name="h323", settings=H323Settings, build_targets=build_targets, probe=probe,
    label_vi="Điểm cầu H.323 (cổng 1720)", label_en="H.323 endpoint (port 1720)", availability=False,
    measurements=(MeasurementSpec("connect_ms", "ms", "Thời gian kết nối", "Connect time", rolled_up=True,
                                  role="latency"),),
)

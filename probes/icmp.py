"""ICMP echo prober: N paced packets per target, loss % and RTT min/avg/max (fping -C style).

All packets of a target are queued at once, ``packet_interval_s`` apart, with the context's
dispatcher, which sends them in its pacing slots; each packet is lost if no matching reply arrives
within ``timeout_s`` of its own send. The
context's dispatcher (``probes.icmp_socket``) does the socket work. success = at least one reply.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime

from probes.base import ProbeContext, ProbeResult, ProbeSettings, Target

log = logging.getLogger(__name__)


async def probe(target: Target, settings: ProbeSettings, deadline: float, ctx: ProbeContext) -> ProbeResult:
    started_at = datetime.now(UTC)
    t0 = time.monotonic()
    dispatcher = ctx.icmp
    rtts: list[float] = []
    errors: list[str] = []
    first = ctx.loop.time()
    handles = [
        dispatcher.submit(target.address, settings.timeout_s, settings.send_interval_s, settings.packet_size,
                          not_before=first + i * settings.packet_interval_s)
        for i in range(settings.packets)
    ]
    try:
        async with asyncio.timeout_at(deadline):
            for handle in handles:
                rtt, error = await handle.future
                if rtt is not None:
                    rtts.append(rtt)
                elif error:
                    errors.append(error)
    except TimeoutError:
        errors.append("deadline exceeded")
    except Exception as exc:  # a prober never raises
        log.exception("event=icmp_probe_failed target=%s", target.key)
        errors.append(f"internal error: {exc!r}")
    finally:
        for handle in handles:
            dispatcher.discard(handle)

    sent = settings.packets
    received = len(rtts)
    measurements: dict[str, float] = {
        "sent": float(sent),
        "received": float(received),
        "loss_pct": round(100.0 * (sent - received) / sent, 3),
    }
    if rtts:
        measurements["rtt_min_ms"] = round(min(rtts) * 1000, 3)
        measurements["rtt_avg_ms"] = round(sum(rtts) / received * 1000, 3)
        measurements["rtt_max_ms"] = round(max(rtts) * 1000, 3)
    error = None
    if not rtts:
        error = errors[0] if errors else f"no reply to {sent} echo request(s) within {settings.timeout_s:g}s"
    return ProbeResult(
        kind="icmp",
        target=target,
        success=bool(rtts),
        started_at=started_at,
        duration_s=time.monotonic() - t0,
        measurements=measurements,
        error=error,
    )

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
from collections.abc import Sequence
from datetime import UTC, datetime

from pydantic import Field

from probes.base import ProbeContext, ProbeResult, Target
from probes.plugin import InventoryRecords, KindSettings, MeasurementSpec, ProbeKind, TargetBuild

log = logging.getLogger(__name__)

MARGIN_S = 0.05


class IcmpSettings(KindSettings):
    """``[probes.icmp]``: ``send_interval_s`` paces every packet the context sends (like ``fping -i``)."""

    timeout_s: float = Field(2.0, gt=0, le=600)
    concurrency: int = Field(1000, ge=1, le=10_000)
    packets: int = Field(3, ge=1, le=100)
    packet_interval_s: float = Field(0.2, ge=0, le=10)
    packet_size: int = Field(56, ge=0, le=65_000)
    send_interval_s: float = Field(0.001, ge=0, le=1)


def build_targets(inv: InventoryRecords, settings: IcmpSettings) -> TargetBuild:
    """One availability check ``icmp`` per device with an address."""
    return TargetBuild(targets=[Target(key=f"icmp:{d.id}", check="icmp", address=d.address, device_id=d.id,
                                       device=d.name, site=d.site) for d in inv.devices if d.address])


def budget_s(settings: IcmpSettings, n_targets: int) -> float:
    """The packets' intervals and the last one's timeout, plus the wait for pacing slots shared with the other
    probes in flight and a small margin so that the last packet's own timeout, not the deadline, decides it."""
    in_flight = min(settings.concurrency, max(n_targets, 1))
    pacing = settings.packets * in_flight * settings.send_interval_s
    return settings.timeout_s + settings.packets * settings.packet_interval_s + pacing + MARGIN_S


def prepare(ctx: ProbeContext, targets: Sequence[Target], settings: IcmpSettings) -> None:
    if targets:
        ctx.icmp.mode()


async def probe(target: Target, settings: IcmpSettings, deadline: float, ctx: ProbeContext) -> ProbeResult:
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


KIND = ProbeKind(
    name="icmp", settings=IcmpSettings, build_targets=build_targets, probe=probe, budget_s=budget_s,
    prepare=prepare, label_vi="Ping (ICMP)", label_en="Ping (ICMP)",
    measurements=(
        MeasurementSpec("rtt_avg_ms", "ms", "Trễ trung bình", "Average RTT", rolled_up=True, role="latency"),
        MeasurementSpec("rtt_min_ms", "ms", "Trễ nhỏ nhất", "Minimum RTT"),
        MeasurementSpec("rtt_max_ms", "ms", "Trễ lớn nhất", "Maximum RTT"),
        MeasurementSpec("loss_pct", "%", "Mất gói", "Packet loss", rolled_up=True, role="loss"),
        MeasurementSpec("sent", "", "Gói đã gửi", "Packets sent"),
        MeasurementSpec("received", "", "Gói nhận được", "Packets received"),
    ),
)

"""TCP connect prober: time to a completed three-way handshake on ``port`` (connect_ms)."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from datetime import UTC, datetime
from typing import Any

from pydantic import Field

from probes.base import ProbeContext, ProbeResult, Target
from probes.plugin import InventoryRecords, KindSettings, MeasurementSpec, ProbeKind, Problem, TargetBuild

log = logging.getLogger(__name__)


class TcpSettings(KindSettings):
    """``[probes.tcp]``."""

    timeout_s: float = Field(3.0, gt=0, le=600)
    concurrency: int = Field(128, ge=1, le=10_000)


def port_of(value: Any) -> int | None:
    """A port 1..65535 from an int or a string of digits, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    return value if isinstance(value, int) and 1 <= value <= 65535 else None


def build_targets(inv: InventoryRecords, settings: TcpSettings) -> TargetBuild:
    """``tcp:<port>`` per port of a device's ``tcp_ports`` custom field (availability checks, as before services)
    and ``service:<id>:tcp:<port>`` per port of a tcp service (service checks)."""
    out = TargetBuild()
    for d in inv.devices:
        if not d.address:
            continue
        ports, why = list_field(d.custom_fields, "tcp_ports", port_of, "ports (1..65535)")
        for port in ports:
            out.targets.append(Target(key=f"tcp:{d.id}:{port}", check=f"tcp:{port}", address=d.address,
                                      device_id=d.id, device=d.name, site=d.site, params={"port": port}))
        if why:
            out.problems.append(Problem(d.id, "tcp", why))
    for svc in inv.services:
        device = inv.device(svc.device_id)
        if svc.kind != "tcp" or device is None:
            continue
        if not svc.ports:
            out.problems.append(Problem(svc.device_id, f"service:{svc.id}:tcp", f"service {svc.name!r} has no port"))
        for port in svc.ports:
            check = f"service:{svc.id}:tcp:{port}"
            out.targets.append(Target(key=check, check=check, address=svc.address, device_id=svc.device_id,
                                      device=device.name, site=device.site, availability=False, service_id=svc.id,
                                      params={"port": port}))
    return out


def list_field(cf: Any, name: str, parse: Any, what: str, shown: int = 60) -> tuple[list[Any], str | None]:
    """The valid entries of list custom field ``name`` (duplicates dropped) and why the others were left out."""
    def show(value: Any) -> str:
        text = repr(value)
        return text if len(text) <= shown else text[: shown - 3] + "..."

    if not isinstance(cf, dict):
        return [], f"custom_fields must be a mapping, not {type(cf).__name__}"
    value = cf.get(name)
    if value is None:
        return [], None
    if not isinstance(value, list):
        return [], f"{name} must be a list of {what}, not {type(value).__name__} {show(value)}"
    good: list[Any] = []
    bad: list[str] = []
    for item in value:
        parsed = parse(item)
        if parsed is None:
            bad.append(show(item))
        elif parsed not in good:
            good.append(parsed)
    return good, (f"{name}: not {what}: {', '.join(bad)}" if bad else None)


async def connect(target: Target, port: int, until: float, kind: str) -> tuple[float | None, str | None]:
    """A completed three-way handshake with ``target.address:port`` before monotonic time ``until``: its
    time in ms, or the error sentence (the same for every kind that connects: tcp, h323). Never raises."""
    t0 = time.monotonic()
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout_at(until):
            _reader, writer = await asyncio.open_connection(target.address, port)
        return round((time.monotonic() - t0) * 1000, 3), None
    except TimeoutError:
        return None, f"connect to port {port} timed out"
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)  # asyncio rewrites strerror
        return None, f"connect to port {port} failed: {reason}"
    except Exception as exc:  # a prober never raises
        log.exception("event=%s_probe_failed target=%s", kind, target.key)
        return None, f"internal error: {exc!r}"
    finally:
        if writer is not None:
            writer.close()


async def probe(target: Target, settings: TcpSettings, deadline: float, ctx: ProbeContext) -> ProbeResult:
    """Params: ``port``."""
    started_at = datetime.now(UTC)
    t0 = time.monotonic()
    measurements: dict[str, float] = {}
    error: str | None = None
    port = target.param("port")
    if port is None:
        error = "target has no TCP port"
    else:
        connect_ms, error = await connect(target, int(port), min(deadline, t0 + settings.timeout_s), "tcp")
        if connect_ms is not None:
            measurements["connect_ms"] = connect_ms
    return ProbeResult(
        kind="tcp",
        target=target,
        success=error is None,
        started_at=started_at,
        duration_s=time.monotonic() - t0,
        measurements=measurements,
        error=error,
    )


KIND = ProbeKind(
    name="tcp", settings=TcpSettings, build_targets=build_targets, probe=probe, label_vi="Cổng TCP",
    label_en="TCP port",
    measurements=(MeasurementSpec("connect_ms", "ms", "Thời gian kết nối", "Connect time", rolled_up=True,
                                  role="latency"),),
)

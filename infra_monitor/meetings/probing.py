"""The probes of a readiness check, run through the registry like a sweep (``probes.sweep.run_sweep``: the
kind's budget as deadline, bounded concurrency): ICMP to each codec and to the MCU, and the call protocol of
each endpoint (``vc:<endpoint id>:sip`` / ``vc:<endpoint id>:h323``). Targets are built by the kinds
themselves from the inventory records (``infra_monitor.targets.load_targets``); the probing is pure.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from infra_monitor.config import Settings
from infra_monitor.meetings.participants import Room
from infra_monitor.targets import load_targets
from probes.base import ProbeContext, ProbeResult, Target
from probes.plugin import KindSettings
from probes.registry import KINDS
from probes.sweep import run_sweep

ICMP = "icmp"
CALL_KINDS = ("sip", "h323")


@dataclass
class ProbePlan:
    targets: dict[str, list[Target]] = field(default_factory=dict)
    settings: dict[str, KindSettings] = field(default_factory=dict)


def _capped(cfg: KindSettings, timeout_s: float) -> KindSettings:
    """The kind's settings with its timeout no longer than ``[meetings] check_timeout_s``."""
    return cfg if cfg.timeout_s <= timeout_s else cfg.model_copy(update={"timeout_s": timeout_s})


def plan(session: Session, settings: Settings, rooms: Iterable[Room], mcu_device_id: int) -> ProbePlan:
    """Targets for the rooms' codecs, their call checks and the MCU (every poller group: a meeting is one)."""
    rooms = list(rooms)
    kinds = tuple(k for k in (ICMP, *CALL_KINDS) if k in KINDS)
    cap = settings.meetings.check_timeout_s
    cfgs = {k: _capped(settings.probes.kind(k), cap) for k in kinds}
    idx = load_targets(session, poller_group=None, kinds=kinds, settings=cfgs, log_skipped=False)
    devices = {r.device_id for r in rooms} | {mcu_device_id}
    checks = {f"vc:{r.endpoint_id}:{r.protocol}" for r in rooms}
    out = ProbePlan(settings=cfgs)
    out.targets[ICMP] = [t for t in idx.targets.get(ICMP, []) if t.device_id in devices]
    for k in kinds:
        if k != ICMP:
            out.targets[k] = [t for t in idx.targets.get(k, []) if t.check in checks]
    return out


async def probe(p: ProbePlan, ctx: ProbeContext) -> dict[str, ProbeResult]:
    """Every planned probe at once (each kind a bounded sweep); results by target key."""
    kinds = [k for k, ts in p.targets.items() if ts]
    reports = await asyncio.gather(*(run_sweep(k, p.targets[k], p.settings[k], ctx) for k in kinds))
    return {r.target.key: r for report in reports for r in report.results}


def icmp_answered(results: Mapping[str, ProbeResult], device_id: int) -> bool | None:
    """Whether the device answered ICMP in this check (None: it was not probed: no address, not monitored)."""
    found = results.get(f"icmp:{device_id}")
    return None if found is None else found.success


def call_result(results: Mapping[str, ProbeResult], room: Room) -> tuple[int | None, bool | None, str]:
    """(SIP status code, answered at all, error) of the room's call check; (None, None, "") when not probed."""
    found = results.get(f"vc:{room.endpoint_id}:{room.protocol}")
    if found is None:
        return None, None, ""
    code = found.measurements.get("code")
    answered = code is not None if room.protocol == "sip" else found.success
    return (int(code) if code is not None else None), answered, found.error or ""

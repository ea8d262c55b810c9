"""SNMP prober: sysUpTime/sysName/sysObjectID plus status, octet and error counters of inventory interfaces.

Per check, with a warm ifIndex cache, one round of GETs (PDUs of ``snmp_max_varbinds``, sent
together) carries sysUpTime and every counter. Cold, or when the cache is stale (agent rebooted:
sysUpTime went backwards; a cached ifIndex answers noSuchInstance; an inventory name never seen),
inventory interface names are mapped to ifIndex by ifName (IF-MIB ifXTable) and then ifDescr with
bounded walks, and the counters are read again. Counters are 64-bit (ifHCIn/OutOctets); SNMPv1
agents, and interfaces without HC counters, fall back to 32-bit ifIn/OutOctets (``counter_bits``).
IF-MIB is not bundled with pysnmp: everything is numeric OIDs, no MIB lookups.

A dead agent costs one request timeout (``timeout_s * (retries + 1)``) and blocks nothing else:
the engine is shared, each probe is one coroutine, and the whole check runs under the deadline.
success = the agent answered sysUpTime; interface problems after that are reported in
``info["warning"]`` (and ``info["missing_interfaces"]``), not as a failed check.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pydantic import Field

from probes.base import IfIndexEntry, InterfaceSample, ProbeContext, ProbeResult, SnmpCredentials, Target
from probes.plugin import InfoSpec, InventoryRecords, KindSettings, MeasurementSpec, ProbeKind, Problem, TargetBuild
from probes.snmp_session import SnmpError, SnmpSession

log = logging.getLogger(__name__)


class SnmpSettings(KindSettings):
    """``[probes.snmp]``: ``snmp_retries`` are request retransmissions (0 = one request only); a dead agent costs
    ``timeout_s * (snmp_retries + 1)``. ``max_varbinds`` per GET PDU (tooBig halves it), ``max_repetitions`` per
    GETBULK, ``max_walk_rows`` bounds a walk."""

    timeout_s: float = Field(3.0, gt=0, le=600)
    concurrency: int = Field(128, ge=1, le=10_000)
    snmp_retries: int = Field(1, ge=0, le=5, description="SNMP request retransmissions")
    max_varbinds: int = Field(50, ge=1, le=1000)
    max_repetitions: int = Field(25, ge=1, le=1000)
    max_walk_rows: int = Field(10_000, ge=1, le=1_000_000)


def build_targets(inv: InventoryRecords, settings: SnmpSettings) -> TargetBuild:
    """One availability check ``snmp`` per device with an SNMP profile whose credentials are usable."""
    out = TargetBuild()
    for d in inv.devices:
        if not d.address or d.snmp is None:
            continue
        if isinstance(d.snmp, str):
            out.problems.append(Problem(d.id, "snmp", d.snmp))
            continue
        out.targets.append(Target(key=f"snmp:{d.id}", check="snmp", address=d.address, device_id=d.id,
                                  device=d.name, site=d.site, params={"snmp": d.snmp, "interfaces": d.interfaces}))
    return out


def budget_s(settings: SnmpSettings, n_targets: int) -> float:
    """One full timeout with retransmissions (a dead agent) plus one more for the walks and counter GETs."""
    return settings.timeout_s * (settings.snmp_retries + 2)


def prepare(ctx: ProbeContext, targets: Sequence[Target], settings: SnmpSettings) -> None:
    if targets:
        ctx.snmp_engine(SnmpCredentials())

SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
SYS_NAME = "1.3.6.1.2.1.1.5.0"
SYS_OBJECT_ID = "1.3.6.1.2.1.1.2.0"
IF_NUMBER = "1.3.6.1.2.1.2.1.0"
IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"
IF_DESCR = "1.3.6.1.2.1.2.2.1.2"
IF_OPER_STATUS = "1.3.6.1.2.1.2.2.1.8"
IF_ADMIN_STATUS = "1.3.6.1.2.1.2.2.1.7"
IF_IN_ERRORS = "1.3.6.1.2.1.2.2.1.14"
IF_OUT_ERRORS = "1.3.6.1.2.1.2.2.1.20"
IF_HC_IN_OCTETS = "1.3.6.1.2.1.31.1.1.1.6"
IF_HC_OUT_OCTETS = "1.3.6.1.2.1.31.1.1.1.10"
IF_IN_OCTETS = "1.3.6.1.2.1.2.2.1.10"
IF_OUT_OCTETS = "1.3.6.1.2.1.2.2.1.16"

OCTETS = {64: (IF_HC_IN_OCTETS, IF_HC_OUT_OCTETS), 32: (IF_IN_OCTETS, IF_OUT_OCTETS)}
REDISCOVER_MISSING_S = 600.0  # look again for inventory names the agent did not have
REDISCOVER_MIN_S = 300.0  # a noSuchInstance on a fresh mapping is the agent's, not a stale cache


@dataclass
class _Outcome:
    answered: bool = False
    uptime_s: float | None = None
    info: dict[str, str] = field(default_factory=dict)
    samples: list[InterfaceSample] = field(default_factory=list)
    warning: str | None = None
    error: str | None = None


async def probe(target: Target, settings: SnmpSettings, deadline: float, ctx: ProbeContext) -> ProbeResult:
    """Params: ``snmp`` (:class:`SnmpCredentials`), ``interfaces`` (inventory interface names)."""
    started_at = datetime.now(UTC)
    t0 = time.monotonic()
    out = _Outcome()
    if target.param("snmp") is None:
        out.error = "target has no SNMP credentials"
    else:
        try:
            async with asyncio.timeout_at(deadline):
                await _poll(target, settings, ctx, out)
        except TimeoutError:
            _fail(out, "deadline exceeded" + (" while polling interfaces" if out.answered else ""))
        except SnmpError as exc:
            _fail(out, str(exc))
        except Exception as exc:  # a prober never raises
            log.exception("event=snmp_probe_failed target=%s", target.key)
            _fail(out, f"internal error: {exc!r}")
    measurements: dict[str, float] = {}
    if out.uptime_s is not None:
        measurements["sys_uptime_s"] = out.uptime_s
    info = dict(out.info)
    if out.warning:
        info["warning"] = out.warning
    return ProbeResult(
        kind="snmp",
        target=target,
        success=out.answered,
        started_at=started_at,
        duration_s=time.monotonic() - t0,
        measurements=measurements,
        info=info,
        interfaces=out.samples,
        error=None if out.answered else (out.error or "no answer"),
    )


def _fail(out: _Outcome, message: str) -> None:
    if out.answered:
        out.warning = message
    else:
        out.error = message


async def _poll(target: Target, settings: SnmpSettings, ctx: ProbeContext, out: _Outcome) -> None:
    creds: SnmpCredentials = target.param("snmp")
    session = await SnmpSession.open(ctx, target.key, target.address, creds, settings.timeout_s,
                                     settings.snmp_retries, settings.max_varbinds)
    wanted = tuple(dict.fromkeys(target.param("interfaces", ())))
    default_bits = 32 if creds.version == "1" else 64
    entry = ctx.if_index_cache.get(target.key)
    info = ctx.snmp_info_cache.get(target.key)
    now = time.monotonic()
    warm = entry is not None and bool(wanted) and _covers(entry, wanted, now)
    pairs = _pairs(entry, wanted) if warm and entry is not None else []

    first = [SYS_UPTIME] + ([] if info else [SYS_NAME, SYS_OBJECT_ID]) + ([IF_NUMBER] if wanted and not warm else [])
    bits = entry.counter_bits if entry is not None else {}
    values = await session.get(first + _counter_oids(pairs, bits, default_bits))
    ticks = values.get(SYS_UPTIME)
    out.answered = True
    if not isinstance(ticks, int):
        raise SnmpError("agent answered without sysUpTime")
    uptime_s = out.uptime_s = ticks / 100.0
    rebooted = entry is not None and entry.sys_uptime_s is not None and uptime_s < entry.sys_uptime_s
    if rebooted:
        log.info("event=snmp_agent_rebooted target=%s uptime_s=%.0f", target.key, uptime_s)
    if info is None or rebooted:
        if SYS_NAME not in values:
            values.update(await session.get([SYS_NAME, SYS_OBJECT_ID]))
        info = {"sys_name": str(values.get(SYS_NAME) or ""), "sys_object_id": str(values.get(SYS_OBJECT_ID) or "")}
        ctx.snmp_info_cache[target.key] = info
    out.info.update(info)
    if not wanted:
        return

    samples = _samples(pairs, values, bits, default_bits) if warm and not rebooted else None
    if samples is None or (entry is not None and _stale(samples, entry, now)):
        if_number = values.get(IF_NUMBER)
        if not isinstance(if_number, int):
            if_number = (await session.get([IF_NUMBER])).get(IF_NUMBER)
        entry = await _discover(session, wanted, settings, if_number if isinstance(if_number, int) else None)
        ctx.if_index_cache[target.key] = entry
        pairs = _pairs(entry, wanted)
        bits = entry.counter_bits
        # sysUpTime again, in the same PDU as the counters: it is their time base for rates
        values = await session.get([SYS_UPTIME, *_counter_oids(pairs, bits, default_bits)])
        if isinstance(values.get(SYS_UPTIME), int):
            uptime_s = out.uptime_s = values[SYS_UPTIME] / 100.0
        samples = _samples(pairs, values, bits, default_bits)
    assert entry is not None and samples is not None
    lacking = [s.if_index for s in samples if s.counter_bits == 64 and s.hc_in_octets is None]
    if lacking:  # no ifXTable counters for these: use the 32-bit ones from now on
        for if_index in lacking:
            entry.counter_bits[if_index] = 32
        low = await session.get([f"{col}.{i}" for i in lacking for col in OCTETS[32]])
        samples = [_with_octets(s, low) if s.if_index in lacking else s for s in samples]
    entry.sys_uptime_s = uptime_s
    out.samples = samples
    missing = [name for name in wanted if name not in entry.by_name]
    if missing:
        out.info["missing_interfaces"] = ",".join(missing)


def _covers(entry: IfIndexEntry, wanted: tuple[str, ...], now: float) -> bool:
    unknown = [n for n in wanted if n not in entry.by_name and n not in entry.missing]
    if unknown:
        return False
    return not (entry.missing and now - entry.discovered_at > REDISCOVER_MISSING_S)


def _stale(samples: list[InterfaceSample], entry: IfIndexEntry, now: float) -> bool:
    """A cached ifIndex that answers noSuchInstance: the agent renumbered its interfaces."""
    gone = any(s.oper_status is None and s.hc_in_octets is None for s in samples)
    return gone and now - entry.discovered_at > REDISCOVER_MIN_S


def _pairs(entry: IfIndexEntry, wanted: tuple[str, ...]) -> list[tuple[str, int]]:
    return [(name, entry.by_name[name]) for name in wanted if name in entry.by_name]


def _counter_oids(pairs: list[tuple[str, int]], bits: dict[int, int], default_bits: int) -> list[str]:
    oids: list[str] = []
    for _name, i in pairs:
        hc_in, hc_out = OCTETS[bits.get(i, default_bits)]
        oids += [f"{IF_OPER_STATUS}.{i}", f"{IF_ADMIN_STATUS}.{i}", f"{hc_in}.{i}", f"{hc_out}.{i}",
                 f"{IF_IN_ERRORS}.{i}", f"{IF_OUT_ERRORS}.{i}"]
    return oids


def _samples(pairs: list[tuple[str, int]], values: dict[str, object], bits: dict[int, int],
             default_bits: int) -> list[InterfaceSample]:
    samples = []
    for name, i in pairs:
        width = bits.get(i, default_bits)
        in_col, out_col = OCTETS[width]
        sample = InterfaceSample(
            name=name,
            if_index=i,
            oper_status=_int(values.get(f"{IF_OPER_STATUS}.{i}")),
            admin_status=_int(values.get(f"{IF_ADMIN_STATUS}.{i}")),
            hc_in_octets=_int(values.get(f"{in_col}.{i}")),
            hc_out_octets=_int(values.get(f"{out_col}.{i}")),
            in_errors=_int(values.get(f"{IF_IN_ERRORS}.{i}")),
            out_errors=_int(values.get(f"{IF_OUT_ERRORS}.{i}")),
            counter_bits=width,
        )
        samples.append(sample)
    return samples


def _with_octets(sample: InterfaceSample, values: dict[str, object]) -> InterfaceSample:
    in_col, out_col = OCTETS[32]
    return InterfaceSample(
        name=sample.name, if_index=sample.if_index, oper_status=sample.oper_status,
        admin_status=sample.admin_status, in_errors=sample.in_errors, out_errors=sample.out_errors,
        hc_in_octets=_int(values.get(f"{in_col}.{sample.if_index}")),
        hc_out_octets=_int(values.get(f"{out_col}.{sample.if_index}")),
        counter_bits=32,
    )


def _int(value: object) -> int | None:
    return value if isinstance(value, int) else None


async def _discover(session: SnmpSession, wanted: tuple[str, ...], settings: SnmpSettings,
                    if_number: int | None) -> IfIndexEntry:
    """Map inventory names to ifIndex: ifName first, then ifDescr for what is still missing.

    ``if_number`` (IF-MIB ifNumber) sizes the GETBULK pages so a small table is read in one request
    without asking the agent for rows beyond it.
    """
    by_name: dict[str, int] = {}
    repetitions = settings.max_repetitions
    if if_number is not None and if_number >= 0:
        repetitions = max(1, min(repetitions, if_number + 1))
    for column in (IF_NAME, IF_DESCR):
        rows = await session.walk(column, max_rows=settings.max_walk_rows, max_repetitions=repetitions)
        _match(rows, wanted, by_name)
        if len(by_name) == len(wanted):
            break
    missing = frozenset(n for n in wanted if n not in by_name)
    log.info("event=snmp_ifindex_discovered target=%s found=%d missing=%d",
             session.key, len(by_name), len(missing))
    return IfIndexEntry(by_name=by_name, missing=missing, discovered_at=time.monotonic())


def _match(rows: dict[tuple[int, ...], object], wanted: tuple[str, ...], by_name: dict[str, int]) -> None:
    exact: dict[str, int] = {}
    folded: dict[str, int] = {}
    for suffix, value in rows.items():
        if len(suffix) != 1 or not isinstance(value, str):
            continue
        exact.setdefault(value, suffix[0])
        folded.setdefault(value.strip().casefold(), suffix[0])
    for name in wanted:
        if name in by_name:
            continue
        index = exact.get(name, folded.get(name.strip().casefold()))
        if index is not None:
            by_name[name] = index


KIND = ProbeKind(
    name="snmp", settings=SnmpSettings, build_targets=build_targets, probe=probe, budget_s=budget_s,
    prepare=prepare, label_vi="SNMP", label_en="SNMP",
    measurements=(MeasurementSpec("sys_uptime_s", "s", "Thời gian hoạt động", "Uptime"),),
    info=(InfoSpec("missing_interfaces", "Giao diện không thấy trên thiết bị", "Interfaces not on the device"),),
)

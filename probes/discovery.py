"""Discovery prober: what a device says it is over SNMP, for reconciliation with the inventory.

One check ``discovery`` per device with usable SNMP credentials (``availability=False``: it never decides a
device's state), on a long interval (``[probes.discovery] interval_s``, default one hour). It reads the system
group (sysName, sysObjectID, sysDescr) with one GET and walks with GETBULK (GETNEXT for SNMPv1), each walk
bounded by ``max_rows``:

- IF-MIB: ifName, ifDescr, ifType, ifAlias, ifHighSpeed (ifSpeed when the agent has no ifXTable), ifOperStatus,
  ifAdminStatus, ifPhysAddress;
- IP-MIB: ipAddrTable (ipAdEntIfIndex, ipAdEntNetMask) and ipAddressTable (ipAddressIfIndex, ipAddressPrefix);
- LLDP-MIB: lldpRemSysName, lldpRemPortId, lldpRemPortDesc with the local port (lldpLocPortId).

The result's ``info["observation"]`` is the observation as JSON text (``info`` values are text), schema 1::

    {"schema": 1, "observed_at": "2026-12-07T14:03:00Z", "sys_name": str, "sys_object_id": str,
     "sys_descr": str, "manufacturer": str | null,            # implied by sysObjectID (probes.discovery_oids)
     "interfaces": [{"index": int, "name": str, "descr": str, "alias": str, "type": int | null,
                     "speed_kbps": int | null, "oper": "up" | "down" | …, "admin": "up" | "down" | …,
                     "mac": "02:00:…" | ""}],
     "addresses": [{"address": "10.0.0.1/24", "if_index": int, "source": "ipAddrTable" | "ipAddressTable"}],
     "neighbours": [{"local_port_num": int, "local_port": str, "sys_name": str, "port_id": str,
                     "port_desc": str}],
     "notes": [str], "truncated": [str]}

A table the agent does not offer is not an error: its list is empty and ``notes`` says so ("no LLDP-MIB
lldpRemTable"). A walk that hits ``max_rows`` is listed in ``truncated``. success = the agent answered the
system group and every walk completed before the deadline; ``info`` also carries short facts for the device
page (``sys_name``, ``interfaces``, ``addresses``, ``neighbours``).
ifPhysAddress is kept only when the agent's bytes survive the session's text decoding (see
:func:`probes.snmp_session.to_python`); otherwise ``mac`` is empty.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import Field, model_validator

from probes import discovery_oids as O
from probes.base import ProbeContext, ProbeResult, SnmpCredentials, Target
from probes.plugin import InfoSpec, InventoryRecords, KindSettings, MeasurementSpec, ProbeKind, Problem, TargetBuild
from probes.snmp_session import SnmpError, SnmpSession

log = logging.getLogger(__name__)
SCHEMA = 1
CHECK = "discovery"


class DiscoverySettings(KindSettings):
    """``[probes.discovery]``: ``timeout_s`` per SNMP request, ``deadline_s`` for the whole observation of one
    device, ``max_rows`` per walked column."""

    interval_s: float = Field(3600.0, gt=0, le=86400)
    timeout_s: float = Field(3.0, gt=0, le=600)
    deadline_s: float = Field(60.0, gt=0, le=3600, description="the whole observation of one device")
    concurrency: int = Field(16, ge=1, le=10_000)
    jitter_s: float = Field(60.0, ge=0, le=3600)
    snmp_retries: int = Field(1, ge=0, le=5, description="SNMP request retransmissions")
    max_varbinds: int = Field(50, ge=1, le=1000)
    max_repetitions: int = Field(25, ge=1, le=1000)
    max_rows: int = Field(2000, ge=1, le=100_000, description="rows per walked column")

    @model_validator(mode="after")
    def _deadline_fits(self) -> DiscoverySettings:
        if self.deadline_s > self.interval_s:
            raise ValueError(f"deadline_s ({self.deadline_s}) must not be longer than interval_s ({self.interval_s})")
        return self


def build_targets(inv: InventoryRecords, settings: DiscoverySettings) -> TargetBuild:
    """One ``discovery`` check per device with an SNMP profile whose credentials are usable."""
    out = TargetBuild()
    for d in inv.devices:
        if not d.address or d.snmp is None:
            continue
        if isinstance(d.snmp, str):
            out.problems.append(Problem(d.id, CHECK, d.snmp))
            continue
        out.targets.append(Target(key=f"discovery:{d.id}", check=CHECK, address=d.address, device_id=d.id,
                                  device=d.name, site=d.site, availability=False, params={"snmp": d.snmp}))
    return out


def budget_s(settings: DiscoverySettings, n_targets: int) -> float:
    return settings.deadline_s


def prepare(ctx: ProbeContext, targets: Sequence[Target], settings: DiscoverySettings) -> None:
    if targets:
        ctx.snmp_engine(SnmpCredentials())


async def probe(target: Target, settings: DiscoverySettings, deadline: float, ctx: ProbeContext) -> ProbeResult:
    """Params: ``snmp`` (:class:`SnmpCredentials`)."""
    started_at = datetime.now(UTC)
    t0 = time.monotonic()
    obs: dict[str, Any] = {"schema": SCHEMA, "observed_at": started_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                           "notes": [], "truncated": []}
    error: str | None = None
    if target.param("snmp") is None:
        error = "target has no SNMP credentials"
    else:
        try:
            async with asyncio.timeout_at(deadline):
                await _observe(target, settings, ctx, obs)
        except TimeoutError:
            error = "deadline exceeded" + (" while walking tables" if "sys_name" in obs else "")
        except SnmpError as exc:
            error = str(exc)
        except Exception as exc:  # a prober never raises
            log.exception("event=discovery_probe_failed target=%s", target.key)
            error = f"internal error: {exc!r}"
    info: dict[str, str] = {}
    measurements: dict[str, float] = {}
    if error is None:
        info = {"sys_name": obs["sys_name"], "sys_object_id": obs["sys_object_id"],
                "interfaces": str(len(obs["interfaces"])), "addresses": str(len(obs["addresses"])),
                "neighbours": str(len(obs["neighbours"])),
                "observation": json.dumps(obs, ensure_ascii=False, separators=(",", ":"))}
        measurements = {"interfaces": float(len(obs["interfaces"])), "neighbours": float(len(obs["neighbours"]))}
        if obs["notes"]:
            info["notes"] = "; ".join(obs["notes"])
    return ProbeResult(kind=CHECK, target=target, success=error is None, started_at=started_at,
                       duration_s=time.monotonic() - t0, measurements=measurements, info=info, error=error)


async def _observe(target: Target, settings: DiscoverySettings, ctx: ProbeContext, obs: dict[str, Any]) -> None:
    creds: SnmpCredentials = target.param("snmp")
    session = await SnmpSession.open(ctx, target.key, target.address, creds, settings.timeout_s,
                                     settings.snmp_retries, settings.max_varbinds)
    system = await session.get([O.SYS_NAME, O.SYS_OBJECT_ID, O.SYS_DESCR])
    if all(v is None for v in system.values()):
        raise SnmpError("agent has no system group (sysName, sysObjectID, sysDescr)")
    obs["sys_name"] = str(system.get(O.SYS_NAME) or "")
    obs["sys_object_id"] = str(system.get(O.SYS_OBJECT_ID) or "")
    obs["sys_descr"] = str(system.get(O.SYS_DESCR) or "")
    obs["manufacturer"] = O.manufacturer_of(obs["sys_object_id"])
    columns = (O.IF_NAME, O.IF_DESCR, O.IF_TYPE, O.IF_ALIAS, O.IF_HIGH_SPEED, O.IF_SPEED, O.IF_OPER_STATUS,
               O.IF_ADMIN_STATUS, O.IF_PHYS_ADDRESS, O.IP_AD_ENT_IF_INDEX, O.IP_AD_ENT_NET_MASK, O.IP_ADDRESS_IF_INDEX,
               O.IP_ADDRESS_PREFIX, O.LLDP_LOC_PORT_ID, O.LLDP_REM_SYS_NAME, O.LLDP_REM_PORT_ID, O.LLDP_REM_PORT_DESC)
    walked = await asyncio.gather(*(session.walk(c, max_rows=settings.max_rows,
                                                 max_repetitions=settings.max_repetitions) for c in columns))
    t = dict(zip(columns, walked, strict=True))
    obs["truncated"] = [c for c, rows in t.items() if len(rows) >= settings.max_rows]
    obs["interfaces"] = _interfaces(t, obs["notes"])
    obs["addresses"] = _addresses(t, obs["notes"])
    obs["neighbours"] = _neighbours(t, obs["notes"])


def _one(rows: dict[tuple[int, ...], Any]) -> dict[int, Any]:
    """Rows of a column indexed by one integer (ifIndex, lldpLocPortNum)."""
    return {k[0]: v for k, v in rows.items() if len(k) == 1}


def _interfaces(t: dict[str, dict[tuple[int, ...], Any]], notes: list[str]) -> list[dict[str, Any]]:
    names, descrs = _one(t[O.IF_NAME]), _one(t[O.IF_DESCR])
    high, low = _one(t[O.IF_HIGH_SPEED]), _one(t[O.IF_SPEED])
    oper, admin = _one(t[O.IF_OPER_STATUS]), _one(t[O.IF_ADMIN_STATUS])
    alias, macs, types = _one(t[O.IF_ALIAS]), _one(t[O.IF_PHYS_ADDRESS]), _one(t[O.IF_TYPE])
    if not descrs and not names:
        notes.append("no IF-MIB ifTable")
        return []
    if not names:
        notes.append("no IF-MIB ifXTable: interfaces named by ifDescr, speeds from ifSpeed")
    out = []
    for i in sorted(set(names) | set(descrs)):
        speed: int | None = None
        if isinstance(high.get(i), int) and high[i] > 0:
            speed = high[i] * 1000
        elif isinstance(low.get(i), int) and low[i] > 0:
            speed = low[i] // 1000
        out.append({"index": i, "name": str(names.get(i) or descrs.get(i) or ""), "descr": str(descrs.get(i) or ""),
                    "alias": str(alias.get(i) or ""),
                    "type": types.get(i) if isinstance(types.get(i), int) else None, "speed_kbps": speed,
                    "oper": O.IF_OPER.get(oper.get(i, 0), "") if isinstance(oper.get(i), int) else "",
                    "admin": O.IF_ADMIN.get(admin.get(i, 0), "") if isinstance(admin.get(i), int) else "",
                    "mac": _mac(macs.get(i))})
    return out


def _mac(value: Any) -> str:
    if not isinstance(value, str) or len(value) != 6 or "\ufffd" in value or any(ord(c) > 0x7F for c in value):
        return ""
    return ":".join(f"{ord(c):02x}" for c in value)


def _addresses(t: dict[str, dict[tuple[int, ...], Any]], notes: list[str]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    masks = t[O.IP_AD_ENT_NET_MASK]
    for idx, if_index in t[O.IP_AD_ENT_IF_INDEX].items():
        if len(idx) != 4 or not isinstance(if_index, int):
            continue
        host = ".".join(str(b) for b in idx)
        mask = masks.get(idx)
        try:
            iface = ipaddress.ip_interface(f"{host}/{mask}" if isinstance(mask, str) and mask else f"{host}/32")
        except ValueError:
            continue
        seen[str(iface.ip)] = {"address": iface.with_prefixlen, "if_index": if_index, "source": "ipAddrTable"}
    prefixes = t[O.IP_ADDRESS_PREFIX]
    for idx, if_index in t[O.IP_ADDRESS_IF_INDEX].items():
        ip = _ip_of_index(idx)
        if ip is None or not isinstance(if_index, int) or str(ip) in seen or ip.is_link_local:
            continue
        pointer = prefixes.get(idx)
        length: int = ip.max_prefixlen
        if isinstance(pointer, str) and pointer[-1:].isdigit():
            length = int(pointer.rsplit(".", 1)[-1])
        try:
            iface = ipaddress.ip_interface(f"{ip}/{length}")
        except ValueError:
            iface = ipaddress.ip_interface(str(ip))
        seen[str(ip)] = {"address": iface.with_prefixlen, "if_index": if_index, "source": "ipAddressTable"}
    if not t[O.IP_AD_ENT_IF_INDEX] and not t[O.IP_ADDRESS_IF_INDEX]:
        notes.append("no IP-MIB ipAddrTable nor ipAddressTable")
    return sorted(seen.values(), key=lambda a: (a["if_index"], a["address"]))


def _ip_of_index(idx: tuple[int, ...]) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """ipAddressTable index ``type.length.bytes`` (type 1 ipv4, 2 ipv6; zoned types are skipped)."""
    if len(idx) < 2 or idx[0] not in (1, 2) or idx[1] != len(idx) - 2 or idx[1] not in (4, 16):
        return None
    try:
        return ipaddress.ip_address(bytes(idx[2:]))
    except ValueError:
        return None


def _neighbours(t: dict[str, dict[tuple[int, ...], Any]], notes: list[str]) -> list[dict[str, Any]]:
    names = t[O.LLDP_REM_SYS_NAME]
    if not names:
        notes.append("no LLDP-MIB lldpRemTable")
        return []
    local = _one(t[O.LLDP_LOC_PORT_ID])
    port_ids, port_descs = t[O.LLDP_REM_PORT_ID], t[O.LLDP_REM_PORT_DESC]
    out = []
    for idx, sys_name in sorted(names.items()):
        if len(idx) != 3:
            continue
        out.append({"local_port_num": idx[1], "local_port": str(local.get(idx[1]) or ""),
                    "sys_name": str(sys_name or ""), "port_id": str(port_ids.get(idx) or ""),
                    "port_desc": str(port_descs.get(idx) or "")})
    return out


KIND = ProbeKind(
    name=CHECK, settings=DiscoverySettings, build_targets=build_targets, probe=probe, budget_s=budget_s,
    prepare=prepare, label_vi="Khám phá SNMP", label_en="SNMP discovery", availability=False,
    measurements=(MeasurementSpec("interfaces", "", "Số giao diện", "Interfaces"),
                  MeasurementSpec("neighbours", "", "Số láng giềng LLDP", "LLDP neighbours")),
    info=(InfoSpec("notes", "Ghi chú", "Notes"),),  # the observation itself is read by /reconcile, not shown here
)

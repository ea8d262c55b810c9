"""The differences between what a device reports over SNMP (its ``discovery`` observation) and the inventory.

Pure: plain dataclasses in (:class:`DeviceSnapshot`, the observation dict of :mod:`probes.discovery`, who owns
each address), a list of :class:`Difference` out. Rules, one ``kind`` each:

- ``name``: sysName differs from the device's name. Names compare case-insensitively and without a domain
  suffix: ``CORE-01.bacgiang.gov.vn`` matches ``core-01`` (the first DNS label of either side is compared when
  the full names differ). Acceptable: the device is renamed to the sysName's first label.
- ``manufacturer``: sysObjectID implies a manufacturer (:data:`probes.discovery_oids.MANUFACTURERS`) that is
  neither the device type's manufacturer nor the platform (case-insensitive, either containing the other);
  said only when the inventory names one. Not acceptable (changing a device type is a person's decision).
- ``interface_missing_in_inventory``: an interface of the agent (by ifName, else ifDescr; software loopbacks
  left out) that matches no inventory interface. Acceptable: the interface is created with its speed.
- ``interface_missing_on_device``: an inventory interface that matches no ifName nor ifDescr. Not acceptable.
  Interfaces match by exact name first, then case-insensitively.
- ``speed``: a matched interface whose inventory speed (kbps) is set and differs from ifHighSpeed/ifSpeed.
  Acceptable: the inventory takes the observed speed.
- ``commit_rate``: a matched interface terminating an active circuit whose committed rate is above the
  interface's observed speed (the port cannot carry what the circuit commits). Not acceptable.
- ``oper_down``: a matched interface enabled in the inventory that the agent reports down. Not acceptable.
- ``address_other_device``: an address the agent has that the inventory assigns to another device.
  Acceptable: the address is assigned to this device's interface carrying it.
- ``address_missing_in_inventory``: an address the agent has that the inventory does not know (loopback and
  link-local left out). Acceptable: the address is created on this device's interface carrying it.
- ``address_missing_on_device``: an inventory address of this device the agent does not have (said only when
  the agent offers an IP-MIB address table). Not acceptable.
- ``lldp_neighbour``: an LLDP neighbour on an interface that terminates a circuit whose far end is another
  device than the neighbour (same name rule as ``name``). Not acceptable.
- ``lldp_no_circuit``: an LLDP neighbour on an interface without a circuit. Not acceptable.

Each difference names its ``obj`` (``device``, ``interface:Gi0/3``, ``address:10.0.0.5``,
``neighbour:Gi0/1``): (device, kind, obj) identifies it for :mod:`infra_monitor.reconcile.accept`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from probes.discovery_oids import manufacturer_of

KINDS = ("name", "manufacturer", "interface_missing_in_inventory", "interface_missing_on_device", "speed",
         "commit_rate", "oper_down", "address_other_device", "address_missing_in_inventory",
         "address_missing_on_device", "lldp_neighbour", "lldp_no_circuit")
ACCEPTABLE = frozenset({"name", "interface_missing_in_inventory", "speed", "address_other_device",
                        "address_missing_in_inventory"})
SOFTWARE_LOOPBACK = 24
DOWN = frozenset({"down", "lowerLayerDown", "notPresent"})


@dataclass(frozen=True)
class InterfaceSnapshot:
    id: int
    name: str
    speed_kbps: int | None
    enabled: bool
    commit_rate_kbps: int | None = None  # of the active circuit it terminates
    circuit: str | None = None  # that circuit's cid
    far_device: str | None = None  # the device at the circuit's other end


@dataclass(frozen=True)
class AddressSnapshot:
    id: int
    address: str  # with prefix length
    host: str
    device_id: int | None
    device: str
    interface: str


@dataclass(frozen=True)
class DeviceSnapshot:
    id: int
    name: str
    site: str
    manufacturer: str | None = None
    platform: str | None = None
    interfaces: tuple[InterfaceSnapshot, ...] = ()
    addresses: tuple[AddressSnapshot, ...] = ()


@dataclass(frozen=True)
class Difference:
    """One difference: ``inventory`` and ``observed`` are the two values as text (None: absent on that side)."""

    device_id: int
    device: str
    site: str
    kind: str
    field: str
    obj: str
    inventory: str | None
    observed: str | None
    acceptable: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def same_name(a: str, b: str) -> bool:
    """The name rule: equal ignoring case, or equal first DNS labels (``core-01.example.vn`` = ``CORE-01``)."""
    x, y = a.strip().casefold(), b.strip().casefold()
    if not x or not y:
        return False
    return x == y or _label(x) == _label(y)


def short_name(name: str) -> str:
    """The first DNS label of a sysName (``core-01.bacgiang.gov.vn`` → ``core-01``); an IP address stays whole."""
    text = name.strip()
    try:
        ipaddress.ip_address(text)
        return text
    except ValueError:
        return text.split(".", 1)[0] if "." in text else text


def _label(name: str) -> str:
    return short_name(name).casefold()


def _kbps(value: int | None) -> str | None:
    return None if value is None else str(value)


def _matcher(names: Sequence[str]) -> Mapping[str, str]:
    """name and casefolded name → the inventory name (exact names win over folded ones)."""
    out: dict[str, str] = {}
    for n in names:
        out.setdefault(n.strip().casefold(), n)
    for n in names:
        out[n] = n
    return out


def _match(observed: Mapping[str, Any], by_name: Mapping[str, str]) -> str | None:
    for key in ("name", "descr"):
        value = str(observed.get(key) or "")
        if value and (value in by_name or value.strip().casefold() in by_name):
            return by_name.get(value) or by_name[value.strip().casefold()]
    return None


def diff_device(dev: DeviceSnapshot, obs: Mapping[str, Any],
                owners: Mapping[str, AddressSnapshot]) -> list[Difference]:
    """Every difference of one device; ``owners`` maps every inventory address host to its assignment."""
    out: list[Difference] = []

    def add(kind: str, fld: str, obj: str, inv: str | None, seen: str | None) -> None:
        out.append(Difference(dev.id, dev.name, dev.site, kind, fld, obj, inv, seen, kind in ACCEPTABLE))

    sys_name = str(obs.get("sys_name") or "")
    if sys_name and not same_name(sys_name, dev.name):
        add("name", "name", "device", dev.name, sys_name)
    implied = manufacturer_of(str(obs.get("sys_object_id") or ""))
    known = [v for v in (dev.manufacturer, dev.platform) if v]
    if implied and known and not any(_related(implied, v) for v in known):
        add("manufacturer", "manufacturer", "device", " / ".join(known), implied)

    inv_ifaces = {i.name: i for i in dev.interfaces}
    by_name = _matcher(list(inv_ifaces))
    observed_ifaces: list[Mapping[str, Any]] = list(obs.get("interfaces") or [])
    matched: dict[int, InterfaceSnapshot] = {}  # ifIndex → inventory interface
    for oi in observed_ifaces:
        name = _match(oi, by_name)
        if name is not None:
            matched[int(oi["index"])] = inv_ifaces[name]
    seen_names = {i.name for i in matched.values()}
    for oi in observed_ifaces:
        idx = int(oi["index"])
        label = str(oi.get("name") or oi.get("descr") or idx)
        iface = matched.get(idx)
        if iface is None:
            if oi.get("type") != SOFTWARE_LOOPBACK:
                add("interface_missing_in_inventory", "interface", f"interface:{label}", None,
                    _iface_text(oi))
            continue
        speed = oi.get("speed_kbps")
        if iface.speed_kbps is not None and isinstance(speed, int) and speed != iface.speed_kbps:
            add("speed", "speed_kbps", f"interface:{iface.name}", _kbps(iface.speed_kbps), _kbps(speed))
        if iface.commit_rate_kbps and isinstance(speed, int) and speed < iface.commit_rate_kbps:
            add("commit_rate", "commit_rate_kbps", f"interface:{iface.name}",
                f"{iface.commit_rate_kbps} ({iface.circuit})", _kbps(speed))
        if iface.enabled and oi.get("oper") in DOWN:
            add("oper_down", "oper_status", f"interface:{iface.name}", "enabled", str(oi["oper"]))
    for name in sorted(inv_ifaces):
        if name not in seen_names and observed_ifaces:
            add("interface_missing_on_device", "interface", f"interface:{name}", name, None)

    if_names = {int(oi["index"]): str(oi.get("name") or oi.get("descr") or "") for oi in observed_ifaces}
    addresses: list[Mapping[str, Any]] = list(obs.get("addresses") or [])
    observed_hosts = set()
    for oa in addresses:
        try:
            parsed = ipaddress.ip_interface(str(oa["address"]))
        except ValueError:
            continue
        host = str(parsed.ip)
        observed_hosts.add(host)
        if parsed.ip.is_loopback or parsed.ip.is_link_local:
            continue
        where = if_names.get(int(oa.get("if_index") or 0), "")
        seen = f"{parsed.with_prefixlen} ({where})" if where else parsed.with_prefixlen
        owner = owners.get(host)
        if owner is None:
            add("address_missing_in_inventory", "address", f"address:{host}", None, seen)
        elif owner.device_id != dev.id:
            add("address_other_device", "address", f"address:{host}",
                f"{owner.address} ({owner.device} {owner.interface})", seen)
    if addresses or "no IP-MIB ipAddrTable nor ipAddressTable" not in (obs.get("notes") or []):
        for a in sorted(dev.addresses, key=lambda a: a.host):
            if a.host not in observed_hosts and observed_ifaces:
                add("address_missing_on_device", "address", f"address:{a.host}", f"{a.address} ({a.interface})",
                    None)

    by_index = {int(oi["index"]): oi for oi in observed_ifaces}
    for n in obs.get("neighbours") or []:
        local = str(n.get("local_port") or "")
        iface_name = by_name.get(local) or by_name.get(local.strip().casefold()) if local else None
        if iface_name is None and int(n.get("local_port_num") or 0) in by_index:
            iface = matched.get(int(n["local_port_num"]))
            iface_name = iface.name if iface else None
        neighbour = str(n.get("sys_name") or "")
        port = str(n.get("port_desc") or n.get("port_id") or "")
        seen = f"{neighbour} ({port})" if port else neighbour
        where = iface_name or local or str(n.get("local_port_num"))
        iface = inv_ifaces.get(iface_name) if iface_name else None
        if iface is None or iface.circuit is None:
            add("lldp_no_circuit", "neighbour", f"neighbour:{where}", None, seen)
        elif iface.far_device and not same_name(neighbour, iface.far_device):
            add("lldp_neighbour", "neighbour", f"neighbour:{where}", f"{iface.far_device} ({iface.circuit})", seen)
    return out


def _related(implied: str, inventory: str) -> bool:
    a, b = implied.casefold(), inventory.casefold()
    return a in b or b in a


def _iface_text(oi: Mapping[str, Any]) -> str:
    speed = oi.get("speed_kbps")
    return str(oi.get("name") or oi.get("descr")) + (f" ({speed} kbps)" if isinstance(speed, int) else "")

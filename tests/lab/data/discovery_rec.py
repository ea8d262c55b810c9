"""snmpsim ``.snmprec`` data for one device as the ``discovery`` kind reads it: system group, IF-MIB (ifTable
and ifXTable), IP-MIB ipAddrTable and LLDP-MIB (lldpLocPortTable, lldpRemTable).

Lines are ``OID|TAG|VALUE`` sorted by OID (tags as in :mod:`tests.lab.snmprec`; ``64`` is an IpAddress).
sysUpTime grows at 100 ticks per second so the lab's readiness check (a GET of sysUpTime) answers.
"""

from __future__ import annotations

from dataclasses import dataclass

INTEGER, OCTETS, OID, IPADDRESS, GAUGE32, TIMETICKS = "2", "4", "6", "64", "66", "67"


@dataclass(frozen=True)
class RecInterface:
    """One interface: ifIndex, ifName, ifDescr, speed in Mbit/s (ifHighSpeed), ifType, ifAlias, oper state."""

    index: int
    name: str
    descr: str
    speed_mbps: int
    if_type: int = 6
    alias: str = ""
    oper_up: bool = True


@dataclass(frozen=True)
class LldpRow:
    """One LLDP neighbour seen on local port ``port_num`` (lldpLocPortId ``local_port``)."""

    port_num: int
    local_port: str
    sys_name: str
    port_id: str


def _mask(length: int) -> str:
    bits = (0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF
    return ".".join(str((bits >> s) & 0xFF) for s in (24, 16, 8, 0))


def discovery_snmprec(sys_name: str, sys_object_id: str, interfaces: list[RecInterface],
                      addresses: list[tuple[str, int, int]], lldp: list[LldpRow]) -> str:
    """Text of a ``.snmprec`` file; ``addresses`` are (IPv4 address, ifIndex, prefix length)."""
    rows: list[tuple[str, str, str]] = [
        ("1.3.6.1.2.1.1.1.0", OCTETS, f"imlab discovery agent {sys_name}"),
        ("1.3.6.1.2.1.1.2.0", OID, sys_object_id),
        ("1.3.6.1.2.1.1.3.0", f"{TIMETICKS}:numeric", "rate=100"),
        ("1.3.6.1.2.1.1.5.0", OCTETS, sys_name),
        ("1.3.6.1.2.1.2.1.0", INTEGER, str(len(interfaces))),
    ]
    entry, xentry = "1.3.6.1.2.1.2.2.1", "1.3.6.1.2.1.31.1.1.1"
    for spec in interfaces:
        i = spec.index
        rows += [
            (f"{entry}.1.{i}", INTEGER, str(i)),
            (f"{entry}.2.{i}", OCTETS, spec.descr),
            (f"{entry}.3.{i}", INTEGER, str(spec.if_type)),
            (f"{entry}.5.{i}", GAUGE32, str(min(spec.speed_mbps * 1_000_000, 2**32 - 1))),
            (f"{entry}.6.{i}", "4x", f"02000000{i:04x}"),
            (f"{entry}.7.{i}", INTEGER, "1"),
            (f"{entry}.8.{i}", INTEGER, "1" if spec.oper_up else "2"),
            (f"{xentry}.1.{i}", OCTETS, spec.name),
            (f"{xentry}.15.{i}", GAUGE32, str(spec.speed_mbps)),
            (f"{xentry}.18.{i}", OCTETS, spec.alias),
        ]
    for address, if_index, length in addresses:
        rows += [
            (f"1.3.6.1.2.1.4.20.1.1.{address}", IPADDRESS, address),
            (f"1.3.6.1.2.1.4.20.1.2.{address}", INTEGER, str(if_index)),
            (f"1.3.6.1.2.1.4.20.1.3.{address}", IPADDRESS, _mask(length)),
        ]
    for n in lldp:
        rows += [
            (f"1.0.8802.1.1.2.1.3.7.1.3.{n.port_num}", OCTETS, n.local_port),
            (f"1.0.8802.1.1.2.1.4.1.1.7.0.{n.port_num}.1", OCTETS, n.port_id),
            (f"1.0.8802.1.1.2.1.4.1.1.8.0.{n.port_num}.1", OCTETS, n.port_id),
            (f"1.0.8802.1.1.2.1.4.1.1.9.0.{n.port_num}.1", OCTETS, n.sys_name),
        ]
    rows.sort(key=lambda row: tuple(int(part) for part in row[0].split(".")))
    return "".join(f"{oid}|{tag}|{value}\n" for oid, tag, value in rows)

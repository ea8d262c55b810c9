"""Numeric OIDs the ``discovery`` kind walks, and sysObjectID enterprise prefixes → manufacturer.

Everything is numeric (no MIB files are loaded, as in :mod:`probes.snmp`). The manufacturer table is the
IANA private enterprise number under ``1.3.6.1.4.1`` of well-known vendors of this network's equipment; a
sysObjectID under none of them implies no manufacturer (and reconciliation says nothing about it).
"""

from __future__ import annotations

SYS_DESCR = "1.3.6.1.2.1.1.1.0"
SYS_OBJECT_ID = "1.3.6.1.2.1.1.2.0"
SYS_NAME = "1.3.6.1.2.1.1.5.0"

# IF-MIB ifTable / ifXTable columns (index: ifIndex)
IF_DESCR = "1.3.6.1.2.1.2.2.1.2"
IF_TYPE = "1.3.6.1.2.1.2.2.1.3"  # IANAifType: 6 ethernetCsmacd, 24 softwareLoopback
IF_SPEED = "1.3.6.1.2.1.2.2.1.5"  # bit/s, saturates at 4294967295
IF_PHYS_ADDRESS = "1.3.6.1.2.1.2.2.1.6"
IF_ADMIN_STATUS = "1.3.6.1.2.1.2.2.1.7"
IF_OPER_STATUS = "1.3.6.1.2.1.2.2.1.8"
IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"
IF_HIGH_SPEED = "1.3.6.1.2.1.31.1.1.1.15"  # Mbit/s
IF_ALIAS = "1.3.6.1.2.1.31.1.1.1.18"

# IP-MIB ipAddrTable (index: the IPv4 address) and ipAddressTable (index: type.length.address bytes)
IP_AD_ENT_IF_INDEX = "1.3.6.1.2.1.4.20.1.2"
IP_AD_ENT_NET_MASK = "1.3.6.1.2.1.4.20.1.3"
IP_ADDRESS_IF_INDEX = "1.3.6.1.2.1.4.34.1.3"
IP_ADDRESS_PREFIX = "1.3.6.1.2.1.4.34.1.5"  # a pointer into ipAddressPrefixTable, its last arc the length

# LLDP-MIB: lldpLocPortTable (index: lldpLocPortNum), lldpRemTable (index: timeMark.localPortNum.remIndex)
LLDP_LOC_PORT_ID = "1.0.8802.1.1.2.1.3.7.1.3"
LLDP_LOC_PORT_DESC = "1.0.8802.1.1.2.1.3.7.1.4"
LLDP_REM_PORT_ID = "1.0.8802.1.1.2.1.4.1.1.7"
LLDP_REM_PORT_DESC = "1.0.8802.1.1.2.1.4.1.1.8"
LLDP_REM_SYS_NAME = "1.0.8802.1.1.2.1.4.1.1.9"

IF_OPER = {1: "up", 2: "down", 3: "testing", 4: "unknown", 5: "dormant", 6: "notPresent", 7: "lowerLayerDown"}
IF_ADMIN = {1: "up", 2: "down", 3: "testing"}

ENTERPRISES = "1.3.6.1.4.1."
# IANA private enterprise number → manufacturer name as the inventory writes it (compared case-insensitively)
MANUFACTURERS: dict[int, str] = {
    9: "Cisco",
    11: "HPE",
    14823: "Aruba",
    47196: "Aruba",
    2011: "Huawei",
    2636: "Juniper",
    5596: "Cisco TelePresence",
    8072: "net-snmp",
    12356: "Fortinet",
    13885: "Polycom",
    14988: "MikroTik",
    25506: "H3C",
    6486: "Alcatel-Lucent",
    1916: "Extreme",
    3902: "ZTE",
}


def enterprise_of(sys_object_id: str) -> int | None:
    """The private enterprise number of a sysObjectID (``1.3.6.1.4.1.9.1.1208`` → 9), or None."""
    oid = sys_object_id.strip().lstrip(".")
    if not oid.startswith(ENTERPRISES):
        return None
    head = oid[len(ENTERPRISES):].split(".", 1)[0]
    return int(head) if head.isdigit() else None


def manufacturer_of(sys_object_id: str) -> str | None:
    """The manufacturer a sysObjectID implies, from :data:`MANUFACTURERS`; None when it is not a known one."""
    number = enterprise_of(sys_object_id)
    return MANUFACTURERS.get(number) if number is not None else None

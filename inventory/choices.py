"""Choice sets for the inventory, in one place (NetBox style): each entry is (value, label, colour).

Code compares against the class attributes (``SiteStatusChoices.ACTIVE``), never against magic strings.
Labels are English; the web layer translates them.
"""

from __future__ import annotations

from typing import ClassVar


class ChoiceSet:
    CHOICES: ClassVar[list[tuple[str, str, str]]] = []

    @classmethod
    def values(cls) -> list[str]:
        return [c[0] for c in cls.CHOICES]

    @classmethod
    def label(cls, value: str) -> str:
        return next((c[1] for c in cls.CHOICES if c[0] == value), value)

    @classmethod
    def colour(cls, value: str) -> str:
        return next((c[2] for c in cls.CHOICES if c[0] == value), "gray")

    @classmethod
    def allowed(cls) -> str:
        return ", ".join(cls.values())


class RegionLevelChoices(ChoiceSet):
    PROVINCE = "province"
    DISTRICT = "district"
    COMMUNE = "commune"
    CHOICES = [(PROVINCE, "Province", "blue"), (DISTRICT, "District", "indigo"), (COMMUNE, "Commune", "teal")]
    DEPTH = {PROVINCE: 0, DISTRICT: 1, COMMUNE: 2}


class RegionChangeKindChoices(ChoiceSet):
    MERGE = "merge"
    REPARENT = "reparent"
    RENAME = "rename"
    CHOICES = [(MERGE, "Merged into successor", "orange"), (REPARENT, "Parent changed", "blue"),
               (RENAME, "Renamed", "teal")]


class SiteCategoryChoices(ChoiceSet):
    DATACENTER = "datacenter"
    DEPARTMENT = "department"
    DISTRICT = "district"
    COMMUNE = "commune"
    UNIT = "unit"
    CHOICES = [
        (DATACENTER, "Data center", "purple"),
        (DEPARTMENT, "Department", "blue"),
        (DISTRICT, "District", "indigo"),
        (COMMUNE, "Commune", "teal"),
        (UNIT, "Unit", "gray"),
    ]


class CoverageCategoryChoices(ChoiceSet):
    """What a coverage target counts: sites of a category, videoconference endpoints ("vc"), or the services
    that count toward the plan's systems hosted in the data center ("hosted_systems")."""

    VC = "vc"
    HOSTED_SYSTEMS = "hosted_systems"
    CHOICES = [*SiteCategoryChoices.CHOICES, (VC, "Videoconference endpoints", "orange"),
               (HOSTED_SYSTEMS, "Systems hosted in the data center", "purple")]


class SiteStatusChoices(ChoiceSet):
    PLANNED = "planned"
    STAGING = "staging"
    ACTIVE = "active"
    DECOMMISSIONING = "decommissioning"
    RETIRED = "retired"
    CHOICES = [
        (PLANNED, "Planned", "cyan"),
        (STAGING, "Staging", "blue"),
        (ACTIVE, "Active", "green"),
        (DECOMMISSIONING, "Decommissioning", "yellow"),
        (RETIRED, "Retired", "red"),
    ]


class DeviceStatusChoices(ChoiceSet):
    OFFLINE = "offline"
    ACTIVE = "active"
    PLANNED = "planned"
    STAGED = "staged"
    FAILED = "failed"
    INVENTORY = "inventory"
    DECOMMISSIONING = "decommissioning"
    CHOICES = [
        (OFFLINE, "Offline", "gray"),
        (ACTIVE, "Active", "green"),
        (PLANNED, "Planned", "cyan"),
        (STAGED, "Staged", "blue"),
        (FAILED, "Failed", "red"),
        (INVENTORY, "Inventory", "purple"),
        (DECOMMISSIONING, "Decommissioning", "yellow"),
    ]
    MONITORED = (ACTIVE, STAGED, FAILED)


class InterfaceTypeChoices(ChoiceSet):
    CHOICES = [
        ("virtual", "Virtual", "gray"),
        ("lag", "Link aggregation", "gray"),
        ("100base-tx", "100BASE-TX", "gray"),
        ("1000base-t", "1000BASE-T", "gray"),
        ("1000base-x-sfp", "SFP (1GE)", "gray"),
        ("10gbase-x-sfpp", "SFP+ (10GE)", "gray"),
        ("25gbase-x-sfp28", "SFP28 (25GE)", "gray"),
        ("40gbase-x-qsfpp", "QSFP+ (40GE)", "gray"),
        ("100gbase-x-qsfp28", "QSFP28 (100GE)", "gray"),
        ("gpon", "GPON", "gray"),
        ("other", "Other", "gray"),
    ]


class IPAddressStatusChoices(ChoiceSet):
    ACTIVE = "active"
    RESERVED = "reserved"
    DEPRECATED = "deprecated"
    DHCP = "dhcp"
    CHOICES = [
        (ACTIVE, "Active", "blue"),
        (RESERVED, "Reserved", "cyan"),
        (DEPRECATED, "Deprecated", "red"),
        (DHCP, "DHCP", "green"),
    ]


class CircuitStatusChoices(ChoiceSet):
    PLANNED = "planned"
    PROVISIONING = "provisioning"
    ACTIVE = "active"
    OFFLINE = "offline"
    DEPROVISIONING = "deprovisioning"
    DECOMMISSIONED = "decommissioned"
    CHOICES = [
        (PLANNED, "Planned", "cyan"),
        (PROVISIONING, "Provisioning", "blue"),
        (ACTIVE, "Active", "green"),
        (OFFLINE, "Offline", "red"),
        (DEPROVISIONING, "Deprovisioning", "yellow"),
        (DECOMMISSIONED, "Decommissioned", "gray"),
    ]


class TermSideChoices(ChoiceSet):
    A = "A"
    Z = "Z"
    CHOICES = [(A, "A (upstream)", "gray"), (Z, "Z (served site)", "gray")]


class VCProtocolChoices(ChoiceSet):
    SIP = "sip"
    H323 = "h323"
    CHOICES = [(SIP, "SIP", "blue"), (H323, "H.323", "indigo")]


class SnmpVersionChoices(ChoiceSet):
    V1 = "1"
    V2C = "2c"
    V3 = "3"
    CHOICES = [(V1, "SNMPv1", "gray"), (V2C, "SNMPv2c", "blue"), (V3, "SNMPv3", "green")]


class SnmpAuthChoices(ChoiceSet):
    CHOICES = [(p, p.upper(), "gray") for p in ("md5", "sha", "sha224", "sha256", "sha384", "sha512")]


class SnmpPrivChoices(ChoiceSet):
    CHOICES = [(p, p.upper(), "gray") for p in ("des", "3des", "aes", "aes192", "aes256")]


class JournalKindChoices(ChoiceSet):
    CHOICES = [("info", "Info", "cyan"), ("success", "Success", "green"),
               ("warning", "Warning", "yellow"), ("danger", "Danger", "red")]


class ServiceKindChoices(ChoiceSet):
    """The probe kind that checks a service."""

    TCP = "tcp"
    HTTP = "http"
    DNS = "dns"
    CHOICES = [(TCP, "TCP port", "blue"), (HTTP, "HTTP(S)", "indigo"), (DNS, "DNS", "teal")]


class ServiceProtocolChoices(ChoiceSet):
    TCP = "tcp"
    UDP = "udp"
    CHOICES = [(TCP, "TCP", "blue"), (UDP, "UDP", "teal")]


class ServiceStatusChoices(ChoiceSet):
    ACTIVE = "active"
    PLANNED = "planned"
    OFFLINE = "offline"
    DECOMMISSIONING = "decommissioning"
    CHOICES = [
        (ACTIVE, "Active", "green"),
        (PLANNED, "Planned", "cyan"),
        (OFFLINE, "Offline", "gray"),
        (DECOMMISSIONING, "Decommissioning", "yellow"),
    ]
    MONITORED = (ACTIVE,)


class ServiceCriticalityChoices(ChoiceSet):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"
    CHOICES = [(LOW, "Low", "gray"), (MEDIUM, "Medium", "blue"), (HIGH, "High", "orange"),
               (CRITICAL, "Critical", "red")]


class DNSRecordTypeChoices(ChoiceSet):
    A = "A"
    AAAA = "AAAA"
    CNAME = "CNAME"
    MX = "MX"
    TXT = "TXT"
    NS = "NS"
    CHOICES = [(t, t, "gray") for t in (A, AAAA, CNAME, MX, TXT, NS)]


class ServiceCountsTowardChoices(ChoiceSet):
    """Plan categories a service may count toward (the plan's "shared and specialised systems")."""

    HOSTED_SYSTEMS = "hosted_systems"
    CHOICES = [(HOSTED_SYSTEMS, "Systems hosted in the data center", "purple")]


class ObjectChangeActionChoices(ChoiceSet):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    CHOICES = [(CREATE, "Created", "green"), (UPDATE, "Updated", "blue"), (DELETE, "Deleted", "red")]

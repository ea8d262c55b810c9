"""Per-model validation rules (cross-field and cross-object), called by :func:`inventory.validation.clean`.

Each rule is ``rule(obj, lookup, errors)``: it reads other objects only through ``lookup`` and reports with
``errors.add(field, message)``. Generic checks (required, lengths, bounds, choices, references, uniqueness)
are in :mod:`inventory.validation`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, cast
from urllib.parse import urlsplit

from inventory import choices as ch
from inventory.models import (
    Circuit,
    CircuitTermination,
    CoverageTarget,
    Device,
    DeviceRole,
    InventoryModel,
    IPAddress,
    Rack,
    Region,
    RegionChange,
    RegionParentLink,
    Service,
    Site,
    SnmpProfile,
    Tag,
    Tenant,
    VideoconferenceEndpoint,
)
from inventory.models.dcim import Interface, Location
from inventory.monitoring import ALSO_POLLED_BY, also_polled_by_errors
from inventory.validation import Errors, Lookup, describe

CODE_RE = re.compile(r"^[0-9]+$")
CODE_LENGTH = {ch.RegionLevelChoices.PROVINCE: 2, ch.RegionLevelChoices.DISTRICT: 3, ch.RegionLevelChoices.COMMUNE: 5}
CUSTOM_FIELD_RE = re.compile(r"^[a-z][a-z0-9_]*$")
SITE_REGION_LEVEL = {ch.SiteCategoryChoices.DISTRICT: ch.RegionLevelChoices.DISTRICT,
                     ch.SiteCategoryChoices.COMMUNE: ch.RegionLevelChoices.COMMUNE}
VC_ROLE, MCU_ROLE = "vc-endpoint", "mcu"
E164_RE = re.compile(r"^[0-9]{1,15}$")
MIN_SNMP_KEY = 8


def _coordinates(obj: Any, _lookup: Lookup, errors: Errors) -> None:
    if obj.latitude is not None and not -90 <= obj.latitude <= 90:
        errors.add("latitude", f"is {obj.latitude}; it must be between -90 and 90")
    if obj.longitude is not None and not -180 <= obj.longitude <= 180:
        errors.add("longitude", f"is {obj.longitude}; it must be between -180 and 180")
    if (obj.latitude is None) != (obj.longitude is None):
        missing = "latitude" if obj.latitude is None else "longitude"
        errors.add(missing, "give both latitude and longitude or neither")


def _validity(obj: Any, _lookup: Lookup, errors: Errors) -> None:
    if obj.valid_from is not None and obj.valid_to is not None and not obj.valid_from < obj.valid_to:
        errors.add("valid_to", f"{obj.valid_to} must be after valid_from {obj.valid_from}")


def _extras(obj: Any, lookup: Lookup, errors: Errors) -> None:
    """Tags of primary objects are declared slugs; custom field names are identifiers, values simple."""
    for slug in obj.tags or []:
        if not isinstance(slug, str) or lookup.find(Tag, {"slug": slug}) is None:
            errors.add("tags", f"tag {slug!r} does not exist; declare it in tags first")
    if not isinstance(obj.custom_fields, dict):
        errors.add("custom_fields", "must be a mapping of field name to value")
        return
    for key, value in obj.custom_fields.items():
        if not isinstance(key, str) or not CUSTOM_FIELD_RE.match(key):
            errors.add("custom_fields", f"{key!r} is not a valid custom field name (lowercase letters, digits "
                                        "and '_', starting with a letter)")
        items = value if isinstance(value, list) else [value]
        if not all(v is None or isinstance(v, str | int | float | bool) for v in items):
            errors.add("custom_fields", f"{key!r}: values are strings, numbers, booleans, null or lists "
                                        "of those")


def _region(obj: Region, _lookup: Lookup, errors: Errors) -> None:
    expected = CODE_LENGTH.get(obj.level)
    if obj.code and not CODE_RE.match(obj.code):
        errors.add("code", f"{obj.code!r} is not an official code; codes are digits only")
    elif obj.code and expected is not None and len(obj.code) != expected:
        errors.add("code", f"{obj.code!r} has {len(obj.code)} digits; a {obj.level} code has {expected}")
    if obj.successor_id is not None and obj.successor_id == obj.id:
        errors.add("successor_id", "a region cannot be its own successor")


def _parent_link(obj: RegionParentLink, lookup: Lookup, errors: Errors) -> None:
    if obj.parent_id == obj.region_id:
        errors.add("parent_id", "a region cannot be its own parent")
        return
    region, parent = lookup.get(Region, obj.region_id), lookup.get(Region, obj.parent_id)
    depth = ch.RegionLevelChoices.DEPTH
    if region and parent and depth.get(parent.level, -1) >= depth.get(region.level, 99):
        errors.add("parent_id", f"{describe(parent)} is a {parent.level}; the parent of a {region.level} "
                                "must be a higher level")


def _region_change(obj: RegionChange, _lookup: Lookup, errors: Errors) -> None:
    if obj.kind == ch.RegionChangeKindChoices.MERGE:
        if obj.successor_id is None:
            errors.add("successor_id", "a merge needs the successor region")
        elif obj.successor_id == obj.region_id:
            errors.add("successor_id", "a region cannot be merged into itself")
    if obj.kind == ch.RegionChangeKindChoices.REPARENT and obj.parent_id is None:
        errors.add("parent_id", "a reparent needs the new parent region")
    _rename(obj, errors)


def _rename(obj: RegionChange, errors: Errors) -> None:
    """A rename carries the new name (and maybe type) and nothing else; other kinds carry neither."""
    if obj.kind != ch.RegionChangeKindChoices.RENAME:
        for field in ("new_name", "new_unit_type"):
            if getattr(obj, field) is not None:
                errors.add(field, f"only a rename carries {field}; this change is a {obj.kind}")
        return
    if obj.new_name is None or not obj.new_name.strip():
        errors.add("new_name", "a rename needs the new name")
    for field in ("successor_id", "parent_id"):
        if getattr(obj, field) is not None:
            errors.add(field, "not allowed for a rename; record a merge or a reparent separately")


def _site(obj: Site, lookup: Lookup, errors: Errors) -> None:
    level = SITE_REGION_LEVEL.get(obj.category)
    if level is None:
        return
    region = lookup.get(Region, obj.region_id)
    if obj.region_id is None:
        errors.add("region_id", f"a {obj.category} site needs its {level} region")
    elif region is not None and region.level != level:
        errors.add("region_id", f"{describe(region)} is a {region.level}; a {obj.category} site must be in "
                                f"a {level} region")


def _device(obj: Device, lookup: Lookup, errors: Errors) -> None:
    rack = lookup.get(Rack, obj.rack_id)
    if rack is not None and rack.site_id != obj.site_id:
        errors.add("rack_id", f"rack {rack.name!r} is at another site; a device's rack must be at its site")
    if obj.primary_ip_id is not None:
        _primary_ip(obj, lookup, errors)
    if obj.parent_id is not None:
        _parent_chain(obj, lookup, errors)
    for message in also_polled_by_errors((obj.custom_fields or {}).get(ALSO_POLLED_BY)
                                         if isinstance(obj.custom_fields, dict) else None):
        errors.add("custom_fields", message)


def _primary_ip(obj: Device, lookup: Lookup, errors: Errors) -> None:
    ip = lookup.get(IPAddress, obj.primary_ip_id)
    if ip is None:
        errors.add("primary_ip_id", f"IP address #{obj.primary_ip_id} does not exist")
        return
    iface = lookup.get(Interface, ip.interface_id)
    if iface is None or obj.id is None or iface.device_id != obj.id:
        where = "is not assigned to any interface"
        if iface is not None:
            owner = lookup.get(Device, iface.device_id)
            where = f"is on interface {iface.name!r} of device {owner.name if owner else iface.device_id!r}"
        errors.add("primary_ip_id", f"{ip.address} {where}; the primary IP must be on one of this device's "
                                    "interfaces")


def _parent_chain(obj: Device, lookup: Lookup, errors: Errors) -> None:
    chain: list[Device] = [obj]
    seen: set[int] = {id(obj)}
    parent = lookup.get(Device, obj.parent_id)
    while parent is not None:
        if parent is obj or (obj.id is not None and parent.id == obj.id):
            names = " → ".join(d.name for d in chain) + f" → {obj.name}"
            errors.add("parent_id", f"the parent chain is a cycle: {names}; "
                                    "a device cannot be its own ancestor")
            return
        if id(parent) in seen:  # a cycle above this device, reported on its own members
            return
        seen.add(id(parent))
        chain.append(parent)
        parent = lookup.get(Device, parent.parent_id)


def _rack(obj: Rack, lookup: Lookup, errors: Errors) -> None:
    loc = lookup.get(Location, obj.location_id)
    if loc is not None and loc.site_id != obj.site_id:
        errors.add("location_id", f"location {loc.name!r} is at another site; it must be at the rack's site")


def _termination(obj: CircuitTermination, lookup: Lookup, errors: Errors) -> None:
    site = lookup.get(Site, obj.site_id)
    device = lookup.get(Device, obj.device_id)
    iface = lookup.get(Interface, obj.interface_id)
    if device is not None and site is not None and device.site_id != obj.site_id:
        errors.add("device_id", f"device {device.name!r} is not at site {site.slug!r}; "
                                "a termination's device must be at the termination's site")
    if iface is not None:
        if obj.device_id is None:
            errors.add("device_id", "give the device of the interface")
        elif iface.device_id != obj.device_id:
            errors.add("interface_id", f"interface {iface.name!r} is not on device "
                                       f"{device.name if device else obj.device_id!r}")


def _vc_endpoint(obj: VideoconferenceEndpoint, lookup: Lookup, errors: Errors) -> None:
    for field, pk, role_slug in (("device_id", obj.device_id, VC_ROLE), ("mcu_id", obj.mcu_id, MCU_ROLE)):
        device = lookup.get(Device, pk)
        if device is None:
            continue
        role = lookup.get(DeviceRole, device.role_id)
        if role is not None and role.slug != role_slug:
            errors.add(field, f"device {device.name!r} has role {role.slug!r}; it must have role {role_slug!r}")
    if obj.mcu_id is not None and obj.mcu_id == obj.device_id:
        errors.add("mcu_id", "an endpoint cannot be its own MCU")
    if obj.e164 and not E164_RE.match(obj.e164):
        errors.add("e164", f"{obj.e164!r} is not an E.164 number (digits only, at most 15)")
    if obj.protocol == ch.VCProtocolChoices.SIP and not obj.uri:
        errors.add("uri", "a SIP endpoint needs its SIP URI (sip:user@host)")
    if obj.protocol == ch.VCProtocolChoices.H323 and not (obj.e164 or obj.uri):
        errors.add("e164", "an H.323 endpoint needs an E.164 number or an alias in uri")


MAX_PORTS, MAX_DNS_EXPECTED = 64, 32
HOSTNAME_RE = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)"
                         r"(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)*\.?$")


def _int_list(obj: Any, field: str, low: int, high: int, what: str, errors: Errors) -> None:
    values = getattr(obj, field)
    if not isinstance(values, list):
        errors.add(field, f"must be a list of {what}s, e.g. [{low}]")
        return
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int):
            errors.add(field, f"{value!r} is not a {what}; give whole numbers {low}..{high}")
        elif not low <= value <= high:
            errors.add(field, f"{what} {value} is out of range; it must be {low}..{high}")
    if len(set(v for v in values if isinstance(v, int))) != len(values) and all(
            isinstance(v, int) for v in values):
        errors.add(field, f"lists a {what} twice; give each once")


def _service(obj: Service, lookup: Lookup, errors: Errors) -> None:
    """What each kind needs: tcp its ports, http an http(s) URL, dns a name; lists of sane values."""
    _int_list(obj, "ports", 1, 65535, "port", errors)
    _int_list(obj, "expected_status", 100, 599, "HTTP status code", errors)
    if isinstance(obj.ports, list) and len(obj.ports) > MAX_PORTS:
        errors.add("ports", f"lists {len(obj.ports)} ports; at most {MAX_PORTS} per service")
    if not isinstance(obj.dns_expected, list) or not all(isinstance(v, str) and v.strip()
                                                         for v in obj.dns_expected):
        errors.add("dns_expected", "must be a list of non-empty answers, e.g. [\"127.0.0.1\"]")
    elif len(obj.dns_expected) > MAX_DNS_EXPECTED:
        errors.add("dns_expected", f"lists {len(obj.dns_expected)} answers; at most {MAX_DNS_EXPECTED}")
    kind = obj.kind
    if kind == ch.ServiceKindChoices.TCP:
        if not obj.ports:
            errors.add("ports", "a tcp service needs at least one port, e.g. [443]")
        if obj.protocol != ch.ServiceProtocolChoices.TCP:
            errors.add("protocol", f"a tcp service is checked over TCP; protocol is {obj.protocol!r}")
    elif kind == ch.ServiceKindChoices.HTTP:
        _http_url(obj, errors)
        if obj.protocol != ch.ServiceProtocolChoices.TCP:
            errors.add("protocol", f"HTTP runs over TCP; protocol is {obj.protocol!r}")
    elif kind == ch.ServiceKindChoices.DNS:
        if not obj.ports:
            errors.add("ports", "a dns service needs the server's port, e.g. [53]")
        if not (obj.dns_name or "").strip():
            errors.add("dns_name", "a dns service needs the name to resolve, e.g. portal.bacgiang.gov.vn")
        elif not HOSTNAME_RE.match(obj.dns_name.strip()):
            errors.add("dns_name", f"{obj.dns_name!r} is not a domain name")
    if kind != ch.ServiceKindChoices.HTTP and (obj.http_url or obj.expected_content or obj.expected_status):
        field = "http_url" if obj.http_url else "expected_content" if obj.expected_content else "expected_status"
        errors.add(field, f"only an http service uses {field}; this service is checked by {kind!r}")
    if kind != ch.ServiceKindChoices.DNS and (obj.dns_name or obj.dns_expected):
        field = "dns_name" if obj.dns_name else "dns_expected"
        errors.add(field, f"only a dns service uses {field}; this service is checked by {kind!r}")


def _http_url(obj: Service, errors: Errors) -> None:
    url = (obj.http_url or "").strip()
    if not url:
        errors.add("http_url", "an http service needs its URL, e.g. https://portal.bacgiang.gov.vn/")
        return
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        errors.add("http_url", f"{url!r} is not a valid URL ({exc})")
        return
    if parts.scheme not in ("http", "https") or not parts.hostname:
        errors.add("http_url", f"{url!r} is not an http:// or https:// URL with a host")
    elif url != obj.http_url or any(c.isspace() for c in url):
        errors.add("http_url", f"{obj.http_url!r} contains spaces; encode them as %20")


SNMP_V3_FIELDS = ("user", "auth_protocol", "auth_key", "priv_protocol", "priv_key")


def _snmp_profile(obj: SnmpProfile, _lookup: Lookup, errors: Errors) -> None:
    """The fields must fit the version: v1/v2c a community and nothing of v3; v3 a user and consistent keys.

    An inconsistent profile would make every SNMP sweep fail when its targets are built, so no writer may
    store one. Messages name the field, never its value (keys are secrets).
    """
    if obj.version in (ch.SnmpVersionChoices.V1, ch.SnmpVersionChoices.V2C):
        if not obj.community:
            errors.add("community", f"SNMPv{obj.version} needs a community")
        for name in SNMP_V3_FIELDS:
            if getattr(obj, name):
                errors.add(name, f"SNMPv{obj.version} does not use {name} (SNMPv3 only); clear it or set version 3")
        return
    if obj.version != ch.SnmpVersionChoices.V3:
        return
    if not obj.user:
        errors.add("user", "SNMPv3 needs a user name")
    pairs = (("auth_protocol", "auth_key", "authentication", ch.SnmpAuthChoices),
             ("priv_protocol", "priv_key", "privacy", ch.SnmpPrivChoices))
    for proto, key, kind, allowed in pairs:
        if getattr(obj, proto) and len(getattr(obj, key) or "") < MIN_SNMP_KEY:
            errors.add(key, f"the {kind} key must be at least {MIN_SNMP_KEY} characters")
        if getattr(obj, key) and not getattr(obj, proto):
            errors.add(proto, f"a {kind} key is set but no protocol; allowed: {allowed.allowed()}")
    if obj.priv_protocol and not obj.auth_protocol:
        errors.add("auth_protocol", "privacy (authPriv) needs an authentication protocol too")


def snmp_profile_errors(obj: SnmpProfile) -> dict[str, list[str]]:
    """The consistency errors of one SNMP profile (the rule above, without the generic checks or a session).

    Target loading uses it to recognise a profile written before the rule refused it.
    """
    errors = Errors(obj)
    _snmp_profile(obj, cast(Lookup, None), errors)  # the rule reads no other object
    return errors.data


RULES: dict[type[InventoryModel], tuple[Callable[[Any, Lookup, Errors], None], ...]] = {
    Region: (_coordinates, _validity, _region),
    RegionParentLink: (_validity, _parent_link),
    RegionChange: (_region_change,),
    Site: (_coordinates, _extras, _site),
    Device: (_device, _extras),
    Tenant: (_extras,),
    Circuit: (_extras,),
    Rack: (_rack,),
    CircuitTermination: (_termination,),
    VideoconferenceEndpoint: (_vc_endpoint, _extras),
    SnmpProfile: (_snmp_profile,),
    CoverageTarget: (_validity,),
    Service: (_service, _extras),
}

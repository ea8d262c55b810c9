"""Validation of inventory objects, in one place (NetBox's ``Model.clean()``).

:func:`clean` returns ``{field: [message, ...]}`` for one object and is called by every writer: the REST API
before commit, the bulk importer for each row, the CLI. Models expose it as ``obj.clean(session)``.
Messages name the object, the field and what is allowed. Checks:

* generic, from the table definition: required columns, string lengths, numeric bounds (``ge``/``le``),
  choice values, slugs, referenced rows exist, unique columns and unique constraints;
* per model: IP syntax (normalised ``address`` with prefix, ``host`` without), a device's primary IP on one of
  its interfaces, no cycle in device parents, rack/location in the device's site, circuit terminations on
  interfaces of devices at the termination's site, SNMP credentials, coordinates, validity dates.

Lookups of other objects go through a :class:`Lookup`: :class:`SessionLookup` queries the database (API, CLI);
the importer passes its preloaded in-memory index so that validating a row never costs a query.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from annotated_types import Ge, Le
from sqlalchemy import Column, UniqueConstraint, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.schema import Table

from inventory import choices as ch
from inventory.models import (
    Circuit,
    CircuitTermination,
    CoverageTarget,
    Device,
    DeviceRole,
    InventoryModel,
    IPAddress,
    JournalEntry,
    Rack,
    Region,
    RegionChange,
    RegionParentLink,
    Site,
    SnmpProfile,
    Tag,
    Tenant,
    VideoconferenceEndpoint,
)
from inventory.models.dcim import Interface, Location

FieldErrors = dict[str, list[str]]
M = TypeVar("M", bound=InventoryModel)

SKIPPED_COLUMNS = frozenset({"id", "created", "last_updated", "search_text"})
SLUG_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
CODE_RE = re.compile(r"^[0-9]+$")
CODE_LENGTH = {ch.RegionLevelChoices.PROVINCE: 2, ch.RegionLevelChoices.DISTRICT: 3, ch.RegionLevelChoices.COMMUNE: 5}
CUSTOM_FIELD_RE = re.compile(r"^[a-z][a-z0-9_]*$")
SITE_REGION_LEVEL = {ch.SiteCategoryChoices.DISTRICT: ch.RegionLevelChoices.DISTRICT,
                     ch.SiteCategoryChoices.COMMUNE: ch.RegionLevelChoices.COMMUNE}
VC_ROLE, MCU_ROLE = "vc-endpoint", "mcu"
COLOR_RE = re.compile(r"^[0-9a-fA-F]{6}$")
E164_RE = re.compile(r"^[0-9]{1,15}$")
MIN_SNMP_KEY = 8

CHOICE_FIELDS: dict[type[InventoryModel], dict[str, type[ch.ChoiceSet]]] = {
    Region: {"level": ch.RegionLevelChoices},
    RegionChange: {"kind": ch.RegionChangeKindChoices},
    Site: {"category": ch.SiteCategoryChoices, "status": ch.SiteStatusChoices},
    Device: {"status": ch.DeviceStatusChoices},
    Interface: {"type": ch.InterfaceTypeChoices},
    IPAddress: {"status": ch.IPAddressStatusChoices},
    Circuit: {"status": ch.CircuitStatusChoices},
    CircuitTermination: {"term_side": ch.TermSideChoices},
    VideoconferenceEndpoint: {"protocol": ch.VCProtocolChoices},
    SnmpProfile: {"version": ch.SnmpVersionChoices, "auth_protocol": ch.SnmpAuthChoices,
                  "priv_protocol": ch.SnmpPrivChoices},
    CoverageTarget: {"category": ch.SiteCategoryChoices},
    JournalEntry: {"kind": ch.JournalKindChoices},
}


class InventoryValidationError(ValueError):
    """Raised by :func:`full_clean`; ``errors`` is ``{field: [message, ...]}`` (HTTP 400 body of the API)."""

    def __init__(self, errors: FieldErrors) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{f}: {m}" for f, msgs in errors.items() for m in msgs))


class Lookup(Protocol):
    """How :func:`clean` sees other objects."""

    def get(self, model: type[M], pk: int | None) -> M | None: ...

    def find(self, model: type[M], values: dict[str, Any]) -> M | None: ...

    def exists_other(self, obj: InventoryModel, values: dict[str, Any]) -> bool: ...


class SessionLookup:
    """Lookups against the database through ``session`` (never flushing the object being validated)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, model: type[M], pk: int | None) -> M | None:
        if pk is None:
            return None
        with self.session.no_autoflush:
            return self.session.get(model, pk)

    def find(self, model: type[M], values: dict[str, Any]) -> M | None:
        stmt = select(model).where(*[getattr(model, k) == v for k, v in values.items()])
        with self.session.no_autoflush:
            return self.session.scalars(stmt.limit(1)).first()

    def exists_other(self, obj: InventoryModel, values: dict[str, Any]) -> bool:
        model = type(obj)
        stmt = select(model.id).where(*[getattr(model, k) == v for k, v in values.items()])  # type: ignore[attr-defined]
        if obj.id is not None:
            stmt = stmt.where(model.id != obj.id)  # type: ignore[attr-defined]
        with self.session.no_autoflush:
            return self.session.execute(stmt.limit(1)).first() is not None


def label(model: type[InventoryModel]) -> str:
    """Human name of a model: ``circuit termination``."""
    return str(model.__tablename__).replace("_", " ").replace("vc ", "videoconference ")


def describe(obj: InventoryModel) -> str:
    """``device 'core-sw'``: the object as named in messages."""
    return f"{label(type(obj))} {obj.display()!r}"


class _Errors:
    def __init__(self, obj: InventoryModel) -> None:
        self.prefix = f"{describe(obj)}: "
        self.data: FieldErrors = {}

    def add(self, field: str, message: str) -> None:
        self.data.setdefault(field, []).append(self.prefix + message)


def clean(session: Session | None, obj: InventoryModel, lookup: Lookup | None = None) -> FieldErrors:
    """Every problem with ``obj`` as ``{field: [message]}`` (empty when valid); normalises IPs in place."""
    if lookup is None:
        if session is None:
            raise ValueError("clean() needs a session or a lookup")
        lookup = SessionLookup(session)
    errors = _Errors(obj)
    for normalise in _NORMALISERS.get(type(obj), ()):
        normalise(obj, errors)
    table: Table = obj.__table__  # type: ignore[attr-defined]
    _check_columns(obj, table, errors)
    _check_references(obj, table, lookup, errors)
    _check_unique(obj, table, lookup, errors)
    for rule in _RULES.get(type(obj), ()):
        rule(obj, lookup, errors)
    return errors.data


def full_clean(session: Session | None, obj: InventoryModel, lookup: Lookup | None = None) -> None:
    """:func:`clean`, raising :class:`InventoryValidationError` when anything is wrong."""
    errors = clean(session, obj, lookup)
    if errors:
        raise InventoryValidationError(errors)


# --- generic checks from the table definition ---------------------------------------------------------

def _check_columns(obj: InventoryModel, table: Table, errors: _Errors) -> None:
    model = type(obj)
    choice_fields = CHOICE_FIELDS.get(model, {})
    for col in table.columns:
        name = col.name
        if name in SKIPPED_COLUMNS:
            continue
        value = getattr(obj, name, None)
        if value is None:
            if not col.nullable and col.default is None:
                errors.add(name, "this field is required")
            continue
        if isinstance(value, str):
            if name in model.natural_key and not value.strip():
                errors.add(name, "must not be empty")
                continue
            length = getattr(col.type, "length", None)
            if length is not None and len(value) > length:
                errors.add(name, f"is {len(value)} characters long; at most {length} are allowed")
            if name == "slug" and not SLUG_RE.match(value):
                errors.add(name, f"{value!r} is not a valid slug; use lowercase letters and digits in words "
                                 "joined by single hyphens, e.g. h-lang-giang")
            if name == "color" and not COLOR_RE.match(value):
                errors.add(name, f"{value!r} is not a colour; use six hex digits such as 9e9e9e")
        if name in choice_fields and value not in choice_fields[name].values():
            errors.add(name, f"{value!r} is not a valid choice; allowed: {choice_fields[name].allowed()}")
        _check_bounds(obj, col, value, errors)


def _check_bounds(obj: InventoryModel, col: Column[Any], value: Any, errors: _Errors) -> None:
    info = type(obj).model_fields.get(col.name)
    if info is None or isinstance(value, bool) or not isinstance(value, int | float):
        return
    for meta in info.metadata:
        if isinstance(meta, Ge) and value < meta.ge:  # type: ignore[operator]
            errors.add(col.name, f"is {value}; it must be at least {meta.ge}")
        elif isinstance(meta, Le) and value > meta.le:  # type: ignore[operator]
            errors.add(col.name, f"is {value}; it must be at most {meta.le}")


def _model_of_table(table_name: str) -> type[InventoryModel] | None:
    for mapper in InventoryModel._sa_registry.mappers:  # type: ignore[attr-defined]
        cls = mapper.class_
        if getattr(cls, "__tablename__", None) == table_name and issubclass(cls, InventoryModel):
            return cls  # type: ignore[no-any-return]
    return None


def _check_references(obj: InventoryModel, table: Table, lookup: Lookup, errors: _Errors) -> None:
    for fk in table.foreign_keys:
        value = getattr(obj, fk.parent.name, None)
        if value is None:
            continue
        target = _model_of_table(fk.column.table.name)
        if target is not None and lookup.get(target, value) is None:
            errors.add(fk.parent.name, f"{label(target)} #{value} does not exist")


def _unique_sets(table: Table) -> list[tuple[str, ...]]:
    sets = [(c.name,) for c in table.columns if c.unique]
    sets += [tuple(c.name for c in con.columns)
             for con in table.constraints if isinstance(con, UniqueConstraint)]
    return list(dict.fromkeys(sets))


def _check_unique(obj: InventoryModel, table: Table, lookup: Lookup, errors: _Errors) -> None:
    for names in _unique_sets(table):
        values = {n: getattr(obj, n, None) for n in names}
        if any(v is None or v == "" for v in values.values()):
            continue
        if lookup.exists_other(obj, values):
            field = names[-1]
            scope = [n.removesuffix("_id") for n in names[:-1]]
            within = f" with the same {' and '.join(scope)}" if scope else ""
            errors.add(field, f"another {label(type(obj))}{within} already has {field} {values[field]!r}; "
                              "it must be unique")


# --- normalisers ---------------------------------------------------------------------------------------

def _normalise_ip(obj: Any, errors: _Errors) -> None:
    raw = (obj.address or "").strip()
    if not raw:  # reported as an empty natural key
        obj.host = obj.host or ""
        return
    try:
        iface = ipaddress.ip_interface(raw)
    except ValueError:
        errors.add("address", f"{raw!r} is not an IP address; expected e.g. 10.1.2.3/24 or 2001:db8::1/64")
        obj.host = obj.host or ""
        return
    obj.address = iface.with_prefixlen
    obj.host = str(iface.ip)


def _normalise_asset_tag(obj: Any, errors: _Errors) -> None:
    if isinstance(obj.asset_tag, str) and not obj.asset_tag.strip():
        obj.asset_tag = None


_NORMALISERS: dict[type[InventoryModel], tuple[Callable[[Any, _Errors], None], ...]] = {
    IPAddress: (_normalise_ip,),
    Device: (_normalise_asset_tag,),
}


# --- per-model rules -----------------------------------------------------------------------------------

def _coordinates(obj: Any, _lookup: Lookup, errors: _Errors) -> None:
    if obj.latitude is not None and not -90 <= obj.latitude <= 90:
        errors.add("latitude", f"is {obj.latitude}; it must be between -90 and 90")
    if obj.longitude is not None and not -180 <= obj.longitude <= 180:
        errors.add("longitude", f"is {obj.longitude}; it must be between -180 and 180")
    if (obj.latitude is None) != (obj.longitude is None):
        missing = "latitude" if obj.latitude is None else "longitude"
        errors.add(missing, "give both latitude and longitude or neither")


def _validity(obj: Any, _lookup: Lookup, errors: _Errors) -> None:
    if obj.valid_from is not None and obj.valid_to is not None and not obj.valid_from < obj.valid_to:
        errors.add("valid_to", f"{obj.valid_to} must be after valid_from {obj.valid_from}")


def _extras(obj: Any, lookup: Lookup, errors: _Errors) -> None:
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


def _region(obj: Region, _lookup: Lookup, errors: _Errors) -> None:
    expected = CODE_LENGTH.get(obj.level)
    if obj.code and not CODE_RE.match(obj.code):
        errors.add("code", f"{obj.code!r} is not an official code; codes are digits only")
    elif obj.code and expected is not None and len(obj.code) != expected:
        errors.add("code", f"{obj.code!r} has {len(obj.code)} digits; a {obj.level} code has {expected}")
    if obj.successor_id is not None and obj.successor_id == obj.id:
        errors.add("successor_id", "a region cannot be its own successor")


def _parent_link(obj: RegionParentLink, lookup: Lookup, errors: _Errors) -> None:
    if obj.parent_id == obj.region_id:
        errors.add("parent_id", "a region cannot be its own parent")
        return
    region, parent = lookup.get(Region, obj.region_id), lookup.get(Region, obj.parent_id)
    depth = ch.RegionLevelChoices.DEPTH
    if region and parent and depth.get(parent.level, -1) >= depth.get(region.level, 99):
        errors.add("parent_id", f"{describe(parent)} is a {parent.level}; the parent of a {region.level} "
                                "must be a higher level")


def _region_change(obj: RegionChange, _lookup: Lookup, errors: _Errors) -> None:
    if obj.kind == ch.RegionChangeKindChoices.MERGE:
        if obj.successor_id is None:
            errors.add("successor_id", "a merge needs the successor region")
        elif obj.successor_id == obj.region_id:
            errors.add("successor_id", "a region cannot be merged into itself")
    if obj.kind == ch.RegionChangeKindChoices.REPARENT and obj.parent_id is None:
        errors.add("parent_id", "a reparent needs the new parent region")


def _site(obj: Site, lookup: Lookup, errors: _Errors) -> None:
    level = SITE_REGION_LEVEL.get(obj.category)
    if level is None:
        return
    region = lookup.get(Region, obj.region_id)
    if obj.region_id is None:
        errors.add("region_id", f"a {obj.category} site needs its {level} region")
    elif region is not None and region.level != level:
        errors.add("region_id", f"{describe(region)} is a {region.level}; a {obj.category} site must be in "
                                f"a {level} region")


def _device(obj: Device, lookup: Lookup, errors: _Errors) -> None:
    rack = lookup.get(Rack, obj.rack_id)
    if rack is not None and rack.site_id != obj.site_id:
        errors.add("rack_id", f"rack {rack.name!r} is at another site; a device's rack must be at its site")
    if obj.primary_ip_id is not None:
        _primary_ip(obj, lookup, errors)
    if obj.parent_id is not None:
        _parent_chain(obj, lookup, errors)


def _primary_ip(obj: Device, lookup: Lookup, errors: _Errors) -> None:
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


def _parent_chain(obj: Device, lookup: Lookup, errors: _Errors) -> None:
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


def _rack(obj: Rack, lookup: Lookup, errors: _Errors) -> None:
    loc = lookup.get(Location, obj.location_id)
    if loc is not None and loc.site_id != obj.site_id:
        errors.add("location_id", f"location {loc.name!r} is at another site; it must be at the rack's site")


def _termination(obj: CircuitTermination, lookup: Lookup, errors: _Errors) -> None:
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


def _vc_endpoint(obj: VideoconferenceEndpoint, lookup: Lookup, errors: _Errors) -> None:
    for field, pk, role_slug in (("device_id", obj.device_id, VC_ROLE), ("mcu_id", obj.mcu_id, MCU_ROLE)):
        device = lookup.get(Device, pk)
        role = lookup.get(DeviceRole, device.role_id) if device is not None else None
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


def _snmp_profile(obj: SnmpProfile, _lookup: Lookup, errors: _Errors) -> None:
    if obj.version in (ch.SnmpVersionChoices.V1, ch.SnmpVersionChoices.V2C):
        if not obj.community:
            errors.add("community", f"SNMPv{obj.version} needs a community")
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


_RULES: dict[type[InventoryModel], tuple[Callable[[Any, Lookup, _Errors], None], ...]] = {
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
}

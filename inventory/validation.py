"""Validation of inventory objects, in one place (NetBox's ``Model.clean()``).

:func:`clean` returns ``{field: [message, ...]}`` for one object and is called by every writer: the REST API
before commit, the bulk importer for each row, the CLI. Models expose it as ``obj.clean(session)``.
Messages name the object, the field and what is allowed. Checks:

* generic, from the table definition: required columns, string lengths, numeric bounds (``ge``/``le``),
  choice values, slugs, referenced rows exist, unique columns and unique constraints;
* per model: IP syntax (normalised ``address`` with prefix, ``host`` without), a device's primary IP on one of
  its interfaces, no cycle in device parents, rack/location in the device's site, circuit terminations on
  interfaces of devices at the termination's site, SNMP credentials, coordinates, validity dates, region
  renames (new name and type stripped and NFC-normalised; only a rename carries them).

Lookups of other objects go through a :class:`Lookup`: :class:`SessionLookup` queries the database (API, CLI);
the importer passes its preloaded in-memory index so that validating a row never costs a query.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol, TypeVar

from annotated_types import Ge, Le
from sqlalchemy import UniqueConstraint, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.schema import Table
from sqlmodel import col

from inventory import choices as ch
from inventory.models import (
    Circuit,
    CircuitTermination,
    CoverageTarget,
    Device,
    InventoryModel,
    IPAddress,
    JournalEntry,
    Region,
    RegionChange,
    Service,
    Site,
    SnmpProfile,
    VideoconferenceEndpoint,
)
from inventory.models.dcim import Interface
from inventory.secretbox import Undecryptable

FieldErrors = dict[str, list[str]]
M = TypeVar("M", bound=InventoryModel)

SKIPPED_COLUMNS = frozenset({"id", "created", "last_updated", "search_text"})
SLUG_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
COLOR_RE = re.compile(r"^[0-9a-fA-F]{6}$")

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
    CoverageTarget: {"category": ch.CoverageCategoryChoices},
    JournalEntry: {"kind": ch.JournalKindChoices},
    Service: {"kind": ch.ServiceKindChoices, "protocol": ch.ServiceProtocolChoices,
              "status": ch.ServiceStatusChoices, "criticality": ch.ServiceCriticalityChoices,
              "dns_record_type": ch.DNSRecordTypeChoices, "counts_toward": ch.ServiceCountsTowardChoices},
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
        id_col = col(model.id)
        stmt = select(id_col).where(*[getattr(model, k) == v for k, v in values.items()])
        if obj.id is not None:
            stmt = stmt.where(id_col != obj.id)
        with self.session.no_autoflush:
            return self.session.execute(stmt.limit(1)).first() is not None


def label(model: type[InventoryModel]) -> str:
    """Human name of a model: ``circuit termination``."""
    return str(model.__tablename__).replace("_", " ").replace("vc ", "videoconference ")


def describe(obj: InventoryModel) -> str:
    """``device 'core-sw'``: the object as named in messages."""
    return f"{label(type(obj))} {obj.display()!r}"


class Errors:
    """Messages per field, each prefixed with the object they concern."""

    def __init__(self, obj: InventoryModel) -> None:
        self.obj = obj
        self.data: FieldErrors = {}

    def add(self, field: str, message: str) -> None:
        self.data.setdefault(field, []).append(f"{describe(self.obj)}: {message}")


def clean(session: Session | None, obj: InventoryModel, lookup: Lookup | None = None) -> FieldErrors:
    """Every problem with ``obj`` as ``{field: [message]}`` (empty when valid); normalises IPs in place."""
    if lookup is None:
        if session is None:
            raise ValueError("clean() needs a session or a lookup")
        lookup = SessionLookup(session)
    errors = Errors(obj)
    for normalise in _NORMALISERS.get(type(obj), ()):
        normalise(obj, errors)
    schema = _schema(type(obj))
    _check_columns(obj, schema, errors)
    _check_references(obj, schema, lookup, errors)
    _check_unique(obj, schema, lookup, errors)
    for rule in rules.RULES.get(type(obj), ()):
        rule(obj, lookup, errors)
    return errors.data


def full_clean(session: Session | None, obj: InventoryModel, lookup: Lookup | None = None) -> None:
    """:func:`clean`, raising :class:`InventoryValidationError` when anything is wrong."""
    errors = clean(session, obj, lookup)
    if errors:
        raise InventoryValidationError(errors)


# --- generic checks from the table definition ---------------------------------------------------------

@dataclass(frozen=True)
class _ColumnRule:
    name: str
    required: bool              # NOT NULL without a default
    non_blank: bool             # a text part of the natural key
    max_length: int | None
    choices: type[ch.ChoiceSet] | None
    ge: Any
    le: Any


@dataclass(frozen=True)
class _Schema:
    columns: tuple[_ColumnRule, ...]
    references: tuple[tuple[str, type[InventoryModel]], ...]
    unique: tuple[tuple[str, ...], ...]


@cache
def _schema(model: type[InventoryModel]) -> _Schema:
    """What the table definition says about valid values, computed once per model."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    tables = {getattr(mp.class_, "__tablename__", None): mp.class_
              for mp in InventoryModel._sa_registry.mappers}  # type: ignore[attr-defined]
    rules_: list[_ColumnRule] = []
    for column in table.columns:
        if column.name in SKIPPED_COLUMNS:
            continue
        info = model.model_fields.get(column.name)
        meta = info.metadata if info is not None else []
        rules_.append(_ColumnRule(
            name=column.name, required=not column.nullable and column.default is None,
            non_blank=column.name in model.natural_key, max_length=getattr(column.type, "length", None),
            choices=CHOICE_FIELDS.get(model, {}).get(column.name),
            ge=next((x.ge for x in meta if isinstance(x, Ge)), None),
            le=next((x.le for x in meta if isinstance(x, Le)), None)))
    refs = tuple((fk.parent.name, tables[fk.column.table.name]) for fk in table.foreign_keys
                 if fk.column.table.name in tables)
    unique: list[tuple[str, ...]] = [(c.name,) for c in table.columns if c.unique]
    unique += [tuple(c.name for c in con.columns)
               for con in table.constraints if isinstance(con, UniqueConstraint)]
    return _Schema(tuple(rules_), refs, tuple(dict.fromkeys(unique)))


def _check_columns(obj: InventoryModel, schema: _Schema, errors: Errors) -> None:
    for rule in schema.columns:
        name = rule.name
        value = getattr(obj, name, None)
        if value is None:
            if rule.required:
                errors.add(name, "this field is required")
            continue
        if isinstance(value, Undecryptable):
            continue  # a stored secret no configured key opens: written back unchanged, reported by its readers
        if isinstance(value, str):
            if rule.non_blank and not value.strip():
                errors.add(name, "must not be empty")
                continue
            if rule.max_length is not None and len(value) > rule.max_length:
                errors.add(name, f"is {len(value)} characters long; at most {rule.max_length} are allowed")
            if name == "slug" and not SLUG_RE.match(value):
                errors.add(name, f"{value!r} is not a valid slug; use lowercase letters and digits in words "
                                 "joined by single hyphens, e.g. h-lang-giang")
            if name == "color" and not COLOR_RE.match(value):
                errors.add(name, f"{value!r} is not a colour; use six hex digits such as 9e9e9e")
        if rule.choices is not None and value not in rule.choices.values():
            errors.add(name, f"{value!r} is not a valid choice; allowed: {rule.choices.allowed()}")
        if isinstance(value, int | float) and not isinstance(value, bool):
            if rule.ge is not None and value < rule.ge:
                errors.add(name, f"is {value}; it must be at least {rule.ge}")
            if rule.le is not None and value > rule.le:
                errors.add(name, f"is {value}; it must be at most {rule.le}")


def _check_references(obj: InventoryModel, schema: _Schema, lookup: Lookup, errors: Errors) -> None:
    for column, target in schema.references:
        value = getattr(obj, column, None)
        if value is not None and lookup.get(target, value) is None:
            errors.add(column, f"{label(target)} #{value} does not exist")


def _check_unique(obj: InventoryModel, schema: _Schema, lookup: Lookup, errors: Errors) -> None:
    for names in schema.unique:
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

def _normalise_ip(obj: Any, errors: Errors) -> None:
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


def _normalise_asset_tag(obj: Any, errors: Errors) -> None:
    if isinstance(obj.asset_tag, str) and not obj.asset_tag.strip():
        obj.asset_tag = None


def _normalise_rename(obj: Any, errors: Errors) -> None:
    """A rename's new name and type as stored: stripped, Unicode NFC (blank type = unchanged)."""
    for field in ("new_name", "new_unit_type"):
        value = getattr(obj, field)
        if isinstance(value, str):
            value = unicodedata.normalize("NFC", value.strip())
            setattr(obj, field, None if field == "new_unit_type" and not value else value)


_NORMALISERS: dict[type[InventoryModel], tuple[Callable[[Any, Errors], None], ...]] = {
    IPAddress: (_normalise_ip,),
    Device: (_normalise_asset_tag,),
    RegionChange: (_normalise_rename,),
}


import inventory.rules as rules  # noqa: E402 - the rules use the names above

"""The import/export document format (docs/inventory-format.md) as data: keys, fields, CSV flattening, values.

Shared by :mod:`inventory.importer`, :mod:`inventory.exporter` and :mod:`inventory.docfiles`, so the three
agree on field names. A document is ``{key: [row, ...]}``; rows use natural keys for references.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, Integer
from sqlalchemy.sql.schema import Column

from inventory import models as m

# Processing order; "interfaces" and "ip_addresses" are top-level only in CSV (nested under devices in YAML).
KEYS: tuple[str, ...] = (
    "tags", "regions", "region_changes", "tenants", "sites", "locations", "racks", "manufacturers",
    "device_types", "device_roles", "platforms", "snmp_profiles", "devices", "interfaces", "ip_addresses",
    "providers", "circuit_types", "circuits", "vc_endpoints", "services", "coverage_targets",
)
MODELS: dict[str, type[m.InventoryModel]] = {
    "tags": m.Tag, "regions": m.Region, "region_changes": m.RegionChange, "tenants": m.Tenant,
    "sites": m.Site, "locations": m.Location, "racks": m.Rack, "manufacturers": m.Manufacturer,
    "device_types": m.DeviceType, "device_roles": m.DeviceRole, "platforms": m.Platform,
    "snmp_profiles": m.SnmpProfile, "devices": m.Device, "interfaces": m.Interface,
    "ip_addresses": m.IPAddress, "providers": m.Provider, "circuit_types": m.CircuitType,
    "circuits": m.Circuit, "vc_endpoints": m.VideoconferenceEndpoint, "services": m.Service,
    "coverage_targets": m.CoverageTarget,
}

# Columns copied as they are, per key (references, nested lists and special fields are handled apart).
PLAIN: dict[str, tuple[str, ...]] = {
    "tags": ("slug", "name", "color"),
    "regions": ("code", "name", "slug", "level", "unit_type", "valid_from", "latitude", "longitude",
                "description"),
    "region_changes": ("kind", "date", "new_name", "new_unit_type", "note"),
    "tenants": ("slug", "name", "description", "tags", "custom_fields"),
    "sites": ("slug", "name", "category", "status", "latitude", "longitude", "address", "description", "tags",
              "custom_fields"),
    "locations": ("slug", "name", "description"),
    "racks": ("name", "u_height", "description"),
    "manufacturers": ("slug", "name"),
    "device_types": ("model", "slug"),
    "device_roles": ("slug", "name", "color"),
    "platforms": ("slug", "name"),
    "snmp_profiles": ("name", "version", "community", "user", "auth_protocol", "auth_key", "priv_protocol",
                      "priv_key", "port", "description"),
    "devices": ("name", "status", "serial", "asset_tag", "description", "tags", "custom_fields"),
    "interfaces": ("name", "type", "speed_kbps", "enabled", "mgmt_only", "description"),
    "ip_addresses": ("address", "status", "dns_name", "description"),
    "providers": ("slug", "name"),
    "circuit_types": ("slug", "name"),
    "circuits": ("cid", "status", "commit_rate_kbps", "install_date", "description", "tags", "custom_fields"),
    "vc_endpoints": ("protocol", "uri", "e164", "room", "description", "tags", "custom_fields"),
    "services": ("name", "kind", "protocol", "ports", "http_url", "expected_status", "expected_content", "dns_name",
                 "dns_record_type", "dns_expected", "tls_expiry_warning_days", "criticality", "counts_toward",
                 "status", "monitoring_enabled", "description", "tags", "custom_fields"),
    "coverage_targets": ("plan", "category", "target", "valid_from", "valid_to", "description"),
}
# Reference and structured fields a row may carry besides PLAIN.
EXTRA: dict[str, tuple[str, ...]] = {
    "regions": ("parent", "valid_to"),
    "region_changes": ("region", "successor", "parent"),
    "sites": ("region", "tenant"),
    "locations": ("site",),
    "racks": ("site", "location"),
    "device_types": ("manufacturer",),
    "devices": ("site", "role", "device_type", "platform", "rack", "parent", "primary_ip", "monitoring",
                "interfaces"),
    "interfaces": ("device", "ip_addresses"),
    "ip_addresses": ("device", "interface"),
    "circuits": ("provider", "type", "a", "z"),
    "vc_endpoints": ("device", "mcu"),
    "services": ("device", "tenant"),
}
MONITORING_FIELDS = ("enabled", "snmp_profile", "poller_group")
TERMINATION_FIELDS = ("site", "device", "interface")


def allowed_fields(key: str) -> tuple[str, ...]:
    return PLAIN.get(key, ()) + EXTRA.get(key, ())


# CSV: flattened column → (nested field, sub-field); the first spelling is the one the exporter writes.
CSV_FLAT: dict[str, dict[str, tuple[str, str]]] = {
    "devices": {"parent_site": ("parent", "site"), "parent_name": ("parent", "name"),
                "monitoring_enabled": ("monitoring", "enabled"),
                "monitoring_snmp_profile": ("monitoring", "snmp_profile"),
                "monitoring_poller_group": ("monitoring", "poller_group"),
                "snmp_profile": ("monitoring", "snmp_profile"), "poller_group": ("monitoring", "poller_group")},
    "interfaces": {"device_site": ("device", "site"), "device_name": ("device", "name")},
    "ip_addresses": {"device_site": ("device", "site"), "device_name": ("device", "name")},
    "circuits": {f"{side}_{f}": (side, f) for side in ("a", "z") for f in TERMINATION_FIELDS},
    "vc_endpoints": {"device_site": ("device", "site"), "device_name": ("device", "name"),
                     "mcu_site": ("mcu", "site"), "mcu_name": ("mcu", "name")},
    "services": {"device_site": ("device", "site"), "device_name": ("device", "name")},
}
CSV_NESTED_LISTS = {"devices": "interfaces", "interfaces": "ip_addresses"}
CF_PREFIX = "cf_"


def csv_column(key: str, path: str) -> str:
    """The CSV column an error at ``path`` (``parent.name``, ``monitoring.enabled``) is reported under."""
    if "." not in path:
        return path
    head, _, tail = path.partition(".")
    for column, (nested, sub) in CSV_FLAT.get(key, {}).items():
        if (nested, sub) == (head, tail):
            return column
    if head == "custom_fields":
        return CF_PREFIX + tail
    return path.replace(".", "_")


QUOTE_LIMIT = 80        # characters of a value quoted in an error message
MESSAGE_LIMIT = 1000    # characters of an error message at most, whatever it quotes
_QUOTE_RUN = rf"(?:[^QQ\\\n]|\\.){{{QUOTE_LIMIT + 1},}}"  # more than QUOTE_LIMIT characters between quotes QQ
_LONG_QUOTED = re.compile("'" + _QUOTE_RUN.replace("QQ", "'") + "'|\"" + _QUOTE_RUN.replace("QQ", '"') + '"')


def shorten(text_: str, limit: int = QUOTE_LIMIT) -> str:
    """``text_`` cut to ``limit`` characters plus ``… (N characters)`` when longer."""
    return text_ if len(text_) <= limit else f"{text_[:limit]}… ({len(text_)} characters)"


def quoted(value: Any) -> str:
    """``repr(value)`` for an error message, at most :data:`QUOTE_LIMIT` characters of it (a 50 MB value
    is not echoed whole, a huge list not walked)."""
    if isinstance(value, str | bytes) and len(value) > QUOTE_LIMIT:
        return f"{value[:QUOTE_LIMIT]!r}… ({len(value)} characters)"
    if isinstance(value, dict | list | tuple | set) and not _small(value):
        return f"<{type(value).__name__} of {len(value)} items>"
    return shorten(repr(value))


def _small(value: Any) -> bool:
    """Whether a container is small enough to ``repr`` cheaply (at most 200 items and short texts in all)."""
    stack, budget = [value], 200
    while stack:
        v = stack.pop()
        if isinstance(v, str | bytes) and len(v) > 10 * QUOTE_LIMIT:
            return False
        if isinstance(v, dict | list | tuple | set):
            budget -= len(v)
            if budget < 0:
                return False
            stack += [*v.keys(), *v.values()] if isinstance(v, dict) else list(v)
    return True


def shorten_quotes(message: str) -> str:
    """``message`` with every quoted run longer than :data:`QUOTE_LIMIT` shortened, and at most
    :data:`MESSAGE_LIMIT` characters in all: the safety net for messages that quote values with ``!r``."""
    if len(message) <= QUOTE_LIMIT:
        return message
    # cut first (quoted runs past the cut end unterminated and are cut below), so the scan stays cheap
    out = _LONG_QUOTED.sub(lambda m: f"{m.group(0)[:QUOTE_LIMIT + 1]}{m.group(0)[0]}… "
                                     f"({len(m.group(0)) - 2} characters)", message[:20 * MESSAGE_LIMIT])
    if len(message) > 20 * MESSAGE_LIMIT:
        out += f"… ({len(message)} characters)"
    return shorten(out, MESSAGE_LIMIT)


@dataclass(frozen=True)
class ImportIssue:
    """One problem in a document: ``FILE:ROW:FIELD: message`` (ROW ``devices#3`` or a CSV record number).

    Long values in FIELD and MESSAGE are shortened here (see :func:`shorten_quotes`), so an error never
    echoes a huge value from the document, whichever check reported it."""

    file: str
    row: str
    field: str
    message: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "row", shorten(self.row))
        object.__setattr__(self, "field", shorten(self.field))
        object.__setattr__(self, "message", shorten_quotes(self.message))

    def __str__(self) -> str:
        return f"{self.file}:{self.row}:{self.field}: {self.message}"

    def sort_key(self) -> tuple[str, int, int, str]:
        """File, then the key's processing order, then the row number."""
        key, _, n = self.row.partition("#")
        order = KEYS.index(key) if key in KEYS else -1
        number = int(n) if n.isdigit() else int(key) if key.isdigit() else 0
        return (self.file, order, number, self.field)


class DocumentError(Exception):
    """The document cannot be read at all (missing file, YAML syntax, unknown CSV file…)."""

    def __init__(self, issues: list[ImportIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


class ValueProblem(ValueError):
    """A cell or value that cannot be turned into the column's type; the message says what is expected."""


@dataclass(frozen=True)
class ColumnInfo:
    kind: str  # "int" | "float" | "bool" | "date" | "json" | "str"
    nullable: bool
    has_default: bool


@cache
def column_info(model: type[m.InventoryModel], name: str) -> ColumnInfo:
    col: Column[Any] = model.__table__.c[name]  # type: ignore[attr-defined]
    t = col.type
    kind = ("bool" if isinstance(t, Boolean) else "int" if isinstance(t, Integer) else
            "float" if isinstance(t, Float) else "date" if isinstance(t, Date) else
            "json" if isinstance(t, JSON) else "str")
    return ColumnInfo(kind, bool(col.nullable), col.default is not None)


def text(value: Any) -> str:
    """Text as stored: stripped, Unicode NFC."""
    return unicodedata.normalize("NFC", str(value).strip())


_TRUE, _FALSE = {"true", "1", "yes"}, {"false", "0", "no"}


def coerce(info: ColumnInfo, value: Any, *, from_csv: bool) -> Any:
    """``value`` from a document as the column's Python value; raise :class:`ValueProblem` if impossible."""
    if value is None:
        return None
    if from_csv and value == "" and info.kind != "str":
        return None
    if info.kind == "str":
        if isinstance(value, bool | dict | list):
            raise ValueProblem(f"expected text, got {quoted(value)}")
        out = text(value)
        return None if out == "" and info.nullable else out
    if info.kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise ValueProblem(f"expected true or false, got {quoted(value)}")
    if info.kind == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
        raise ValueProblem(f"expected a whole number, got {quoted(value)}")
    if info.kind == "float":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        try:
            return float(str(value).strip().replace(",", "."))
        except ValueError:
            raise ValueProblem(f"expected a number, got {quoted(value)}") from None
    if info.kind == "date":
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value).strip())
        except ValueError:
            raise ValueProblem(f"expected a date YYYY-MM-DD, got {quoted(value)}") from None
    if from_csv and isinstance(value, str):  # a list column (ports, expected_status…) written as JSON
        try:
            return json.loads(value)
        except ValueError:
            raise ValueProblem(f"expected a JSON list such as [22, 443], got {quoted(value)}") from None
    return value  # json: lists and custom field mappings are checked by validation


def csv_tags(cell: str) -> list[str]:
    return [text(t) for t in cell.split(",") if t.strip()]


def csv_custom_value(cell: str) -> Any:
    """A ``cf_`` cell: a number, boolean or list when the cell is such JSON, else the text."""
    try:
        value = json.loads(cell)
    except ValueError:
        return text(cell)
    return value if isinstance(value, int | float | bool | list) else text(cell)


def csv_cell(value: Any) -> str:
    """A value as the exporter writes it into a CSV cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)

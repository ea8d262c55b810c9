"""NetBox 4.x objects → rows of an inventory document (docs/inventory-format.md), for :mod:`inventory.netbox_import`.

:class:`Mapper` checks the shape of what it reads (nested objects, ``{value, label}`` choices, types) and
reports each problem naming file, object and field; what has no place in our model is skipped with a reason
(:class:`Skipped`), never guessed. Every document row remembers the NetBox object it came from, so the
importer's ``FILE:ROW:FIELD`` errors are told in NetBox's terms (:meth:`Mapper.origin_of`).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from inventory.choices import InterfaceTypeChoices, RegionLevelChoices, SiteCategoryChoices
from inventory.docformat import ImportIssue, quoted

ENDPOINTS: tuple[str, ...] = (
    "dcim/regions", "tenancy/tenants", "dcim/sites", "dcim/manufacturers", "dcim/device-types",
    "dcim/device-roles", "dcim/platforms", "dcim/devices", "dcim/interfaces", "ipam/ip-addresses",
    "circuits/providers", "circuits/circuit-types", "circuits/circuits", "circuits/circuit-terminations",
    "dcim/cables",
)
CONTENT_TYPES = {e: f"{e.split('/')[0]}.{e.split('/')[1].replace('-', '')[:-1]}" for e in ENDPOINTS}
CONTENT_TYPES["ipam/ip-addresses"] = "ipam.ipaddress"
LEVELS = ("province", "district", "commune")               # region depth 0, 1, 2
_CF_KEY = re.compile(r"^[a-z][a-z0-9_]*$")
_SCALARS = (str, int, float, bool, type(None))
# document field → NetBox field, where they differ (for errors told in NetBox's terms)
NETBOX_FIELD = {"sites": {"address": "physical_address"}, "circuits": {"commit_rate_kbps": "commit_rate"},
                "interfaces": {"speed_kbps": "speed"}, "devices": {"primary_ip": "primary_ip4"},
                "ip_addresses": {"interface": "assigned_object", "device": "assigned_object.device"}}


@dataclass(frozen=True)
class NetBoxIssue:
    """``FILE: OBJECT: FIELD: message``; the whole import is refused."""

    file: str
    obj: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.obj}: {self.field}: {self.message}"


@dataclass(frozen=True)
class Skipped:
    """A NetBox object left out (or a note on one that was imported), with the reason."""

    file: str
    obj: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.obj}: {self.reason}"


class Obj:
    """One NetBox object being read: typed accessors that report bad shapes against it."""

    def __init__(self, m: Mapper, endpoint: str, where: str, raw: Any) -> None:
        self.m, self.where, self.raw = m, where, raw if isinstance(raw, dict) else {}
        raw_id = self.raw.get("id")
        shown = self.raw.get("display") or self.raw.get("name") or self.raw.get("slug") or self.raw.get("cid")
        self.label = f"{CONTENT_TYPES[endpoint]} #{raw_id}" + (f" {str(shown)[:60]!r}" if shown else "")
        self.ok = True
        self.id: int = raw_id if isinstance(raw_id, int) and not isinstance(raw_id, bool) else 0
        if not isinstance(raw, dict) or not self.id:
            self.bad("id", "expected an object with an integer id")

    def bad(self, name: str, message: str) -> None:
        self.m.issues.append(NetBoxIssue(self.where, self.label, name, message))
        self.ok = False

    def skip(self, reason: str) -> None:
        self.m.skipped.append(Skipped(self.where, self.label, reason))

    def note(self, reason: str) -> None:
        self.m.notes.append(Skipped(self.where, self.label, reason))

    def value(self, name: str, types: tuple[type, ...], what: str, required: bool = False) -> Any:
        v = self.raw.get(name)
        if v is None:
            if required:
                self.bad(name, "this field is required")
            return None
        if not isinstance(v, types) or (isinstance(v, bool) and bool not in types):
            self.bad(name, f"expected {what}, got {quoted(v)}")
            return None
        return v

    def text(self, name: str, required: bool = False) -> str | None:
        return self.value(name, (str,), "a string", required)  # type: ignore[no-any-return]

    def number(self, name: str) -> Any:
        return self.value(name, (int, float), "a number")

    def flag(self, name: str) -> bool | None:
        return self.value(name, (bool,), "true or false")  # type: ignore[no-any-return]

    def nested(self, name: str, required: bool = False) -> dict[str, Any] | None:
        v = self.value(name, (dict,), "a nested object {id, url, display, …}", required)
        if v is not None and not isinstance(v.get("id"), int):
            self.bad(name, "a nested object needs its integer id")
            return None
        return v  # type: ignore[no-any-return]

    def choice(self, name: str) -> str | None:
        v = self.raw.get(name)
        if v is None:
            return None
        if not isinstance(v, dict) or not isinstance(v.get("value"), str):
            self.bad(name, f"expected {{value, label}}, got {quoted(v)}")
            return None
        return str(v["value"])

    def ref_id(self, name: str, required: bool = False) -> int | None:
        n = self.nested(name, required)
        return int(n["id"]) if n is not None else None

    def tags(self) -> list[str]:
        out: list[str] = []
        for t in self.value("tags", (list,), "a list of tags") or []:
            if not isinstance(t, dict) or not isinstance(t.get("slug"), str):
                self.bad("tags", "each tag must be a nested tag {id, name, slug, color}")
                continue
            self.m.tags.setdefault(t["slug"], {"slug": t["slug"], "name": str(t.get("name") or t["slug"]),
                                                **({"color": t["color"]} if t.get("color") else {})})
            out.append(t["slug"])
        return out

    def custom_fields(self, drop: tuple[str, ...] = ()) -> dict[str, Any]:
        cf = self.value("custom_fields", (dict,), "a mapping of custom fields") or {}
        out: dict[str, Any] = {}
        for k, v in cf.items():
            if k in drop:
                continue
            flat = isinstance(v, _SCALARS) or (isinstance(v, list) and all(isinstance(x, _SCALARS) for x in v))
            if not _CF_KEY.match(str(k)) or not flat:
                self.note(f"custom field {k!r} not imported (an object value or a name we cannot store)")
                continue
            out[k] = v
        return out


class Mapper:
    """NetBox answers by endpoint → an inventory document, with skips, notes, issues and row origins."""

    def __init__(self, data: dict[str, tuple[str, list[Any]]]) -> None:
        self.data = data
        self.issues: list[NetBoxIssue] = []
        self.skipped: list[Skipped] = []
        self.notes: list[Skipped] = []
        self.tags: dict[str, dict[str, Any]] = {}
        self.doc: dict[str, list[dict[str, Any]]] = {}
        self.origins: dict[tuple[str, int], tuple[str, str, dict[str, tuple[str, str]]]] = {}
        self.region_code: dict[int, str] = {}
        self.region_level: dict[int, str] = {}
        self.slug: dict[str, dict[int, str]] = {}           # endpoint -> netbox id -> our slug
        self.device: dict[int, dict[str, str]] = {}          # netbox id -> {site, name}
        self.interface: dict[int, tuple[dict[str, str], str]] = {}
        self.hosts: dict[str, int] = {}                      # address without prefix -> netbox ip id
        self._primary: list[tuple[Obj, dict[str, Any], str | None]] = []  # device rows awaiting their addresses

    def objects(self, endpoint: str) -> list[Obj]:
        where, raws = self.data.get(endpoint, ("", []))
        return [Obj(self, endpoint, where, raw) for raw in raws]

    def slug_of(self, endpoint: str, netbox_id: int | None) -> str | None:
        """Our slug of a NetBox object imported from ``endpoint`` (None: absent or skipped)."""
        return self.slug.get(endpoint, {}).get(netbox_id) if netbox_id is not None else None

    def add(self, key: str, obj: Obj, row: dict[str, Any], parts: dict[str, tuple[str, str]] | None = None) -> None:
        rows = self.doc.setdefault(key, [])
        rows.append(row)
        self.origins[(key, len(rows))] = (obj.where, obj.label, parts or {})

    def origin_of(self, issue: ImportIssue) -> NetBoxIssue:
        """An importer error (``netbox:sites#3:region``) as ``dcim_sites.json: dcim.site #7 'x': region``."""
        key, _, n = issue.row.partition("#")
        origin = self.origins.get((key, int(n))) if n.isdigit() else None
        if origin is None:
            return NetBoxIssue(issue.file, issue.row, issue.field, issue.message)
        where, label, parts = origin
        head, dot, rest = issue.field.partition(".")
        if dot and head in parts:            # a circuit's a./z. termination
            where, label = parts[head]
            return NetBoxIssue(where, label, rest, issue.message)
        return NetBoxIssue(where, label, NETBOX_FIELD.get(key, {}).get(issue.field, issue.field), issue.message)

    # --- the document ------------------------------------------------------------------------------------

    def document(self) -> dict[str, list[dict[str, Any]]]:
        from inventory.netbox_circuits import circuits, interfaces_and_addresses

        self.regions()
        self.simple("tenancy/tenants", "tenants", lambda o: {"description": o.text("description") or "",
                                                            "tags": o.tags(), "custom_fields": o.custom_fields()})
        self.sites()
        self.simple("dcim/manufacturers", "manufacturers")
        self.device_types()
        self.simple("dcim/device-roles", "device_roles",
                    lambda o: {"color": c} if (c := o.text("color")) else {})
        self.simple("dcim/platforms", "platforms")
        self.devices()
        interfaces_and_addresses(self)
        self.simple("circuits/providers", "providers")
        self.simple("circuits/circuit-types", "circuit_types")
        circuits(self)
        for o in self.objects("dcim/cables"):
            o.skip("cables are not modelled; a circuit termination takes its interface from its link peer")
        if self.tags:
            self.doc["tags"] = list(self.tags.values())
        return self.doc

    def simple(self, endpoint: str, key: str, extra: Any = None) -> None:
        """Objects identified by slug and named (tenants, manufacturers, roles, platforms, providers…)."""
        for o in self.objects(endpoint):
            slug, name = o.text("slug", required=True), o.text("name", required=True)
            more = extra(o) if extra is not None else {}
            if o.ok and slug is not None:
                self.slug.setdefault(endpoint, {})[o.id] = slug
                self.add(key, o, {"slug": slug, "name": name, **more})

    def regions(self) -> None:
        objs = {o.id: o for o in self.objects("dcim/regions")}
        parent_of: dict[int, int | None] = {i: o.ref_id("parent") for i, o in objs.items() if o.ok}

        def depth(i: int) -> int:
            seen, d, cur = set(), 0, parent_of.get(i)
            while cur is not None and cur not in seen:
                seen.add(cur)
                d, cur = d + 1, parent_of.get(cur)
            return d

        for i in sorted(objs, key=lambda i: depth(i) if i in parent_of else 0):
            o = objs[i]
            name, slug = o.text("name", required=True), o.text("slug", required=True)
            cf = o.custom_fields()
            code, level = cf.get("code"), cf.get("level")
            if not o.ok:
                continue
            level = level if level in RegionLevelChoices.values() else (LEVELS[d] if (d := depth(i)) < 3 else None)
            parent = parent_of.get(i)
            if code in (None, ""):
                o.skip("no official unit code (custom field 'code'): regions are identified by it")
            elif level is None:
                o.skip("deeper than commune level: no level to map it to (custom field 'level')")
            elif parent is not None and parent not in self.region_code:
                o.skip(f"its parent region #{parent} is not imported (skipped, or not in the answers)")
            else:
                self.region_code[i], self.region_level[i] = str(code), level
                self.add("regions", o, {"code": str(code), "name": name, "slug": slug, "level": level,
                                        "parent": self.region_code.get(parent) if parent is not None else None,
                                        "unit_type": str(cf.get("unit_type") or ""),
                                        "description": o.text("description") or ""})

    def sites(self) -> None:
        for o in self.objects("dcim/sites"):
            slug, name = o.text("slug", required=True), o.text("name", required=True)
            status, region = o.choice("status"), o.ref_id("region")
            group, tenant = o.nested("group"), o.ref_id("tenant")
            cf = o.custom_fields()
            row: dict[str, Any] = {"slug": slug, "name": name, "status": status or "active",
                                   "latitude": o.number("latitude"), "longitude": o.number("longitude"),
                                   "address": o.text("physical_address") or "",
                                   "description": o.text("description") or "", "tags": o.tags(), "custom_fields": cf}
            if not o.ok:
                continue
            if region is None or region not in self.region_code:
                o.skip("no region we can map (every site belongs to a province, district or commune)"
                       if region is None else f"its region #{region} is not imported (skipped, or not in the answers)")
                continue
            category = cf.get("category") or (group or {}).get("slug")
            if category not in SiteCategoryChoices.values():
                level = self.region_level[region]
                category = level if level in ("district", "commune") else None
            if category is None:
                o.skip("no category: set custom field 'category' (datacenter, department, district, commune, "
                       "unit) or a site group of that slug")
                continue
            row.update(category=category, region=self.region_code[region],
                       tenant=self.slug_of("tenancy/tenants", tenant))
            self.slug.setdefault("dcim/sites", {})[o.id] = str(slug)
            self.add("sites", o, row)

    def device_types(self) -> None:
        for o in self.objects("dcim/device-types"):
            slug, model, maker = o.text("slug", required=True), o.text("model", required=True), o.ref_id(
                "manufacturer", required=True)
            if o.ok and slug is not None:
                self.slug.setdefault("dcim/device-types", {})[o.id] = slug
                self.add("device_types", o, {"slug": slug, "model": model,
                                             "manufacturer": self.slug_of("dcim/manufacturers", maker)})

    def devices(self) -> None:
        for o in self.objects("dcim/devices"):
            name, site = o.text("name"), o.ref_id("site", required=True)
            role = o.ref_id("role") if "role" in o.raw else o.ref_id("device_role")  # NetBox 3.x: device_role
            dtype, platform = o.ref_id("device_type"), o.ref_id("platform")
            ip = o.nested("primary_ip4") or o.nested("primary_ip")
            address = ip.get("address") if ip is not None else None
            row = {"name": name, "status": o.choice("status") or "active", "serial": o.text("serial") or "",
                   "asset_tag": o.text("asset_tag"), "description": o.text("description") or "", "tags": o.tags(),
                   "custom_fields": o.custom_fields()}
            if not o.ok:
                continue
            if not name:
                o.skip("unnamed device: devices are identified by site and name")
                continue
            site_slug = self.slug_of("dcim/sites", site)
            if site_slug is None:
                o.skip(f"its site #{site} is not imported (skipped, or not in the answers)")
                continue
            row.update(site=site_slug, role=self.slug_of("dcim/device-roles", role),
                       device_type=self.slug_of("dcim/device-types", dtype),
                       platform=self.slug_of("dcim/platforms", platform))
            self.device[o.id] = {"site": site_slug, "name": name}
            self._primary.append((o, row, address if isinstance(address, str) else None))

    def finish_devices(self) -> None:
        """Add the device rows once the addresses are known (a primary IP must be one that is imported)."""
        for o, row, address in self._primary:
            host = _host(address)
            if host is not None and host in self.hosts:
                row["primary_ip"] = address
            else:
                if address is not None:
                    o.note(f"primary IP {address} is not imported on one of its interfaces: monitoring is off")
                else:
                    o.note("no primary IPv4 address: imported with monitoring off")
                row["monitoring"] = {"enabled": False}
            self.add("devices", o, row)

    @staticmethod
    def interface_type(value: str | None) -> str:
        return value if value in InterfaceTypeChoices.values() else "other"


def _host(address: str | None) -> str | None:
    try:
        return str(ipaddress.ip_interface(address).ip) if address else None
    except ValueError:
        return None

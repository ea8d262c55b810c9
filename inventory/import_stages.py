"""The importer's work per document key, in the format's processing order (see :data:`STAGES`).

Each stage reads its rows, resolves references from the in-memory index, upserts through
:meth:`inventory.importer._Importer.upsert` (which validates) and flushes once, so later keys can refer to the
objects by id. Devices take three steps: the devices, then their interfaces and addresses, then the fields
that point at those (``parent``, ``primary_ip``). Regions are in :mod:`inventory.import_regions`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from inventory import models as m
from inventory.docformat import MODELS, MONITORING_FIELDS, TERMINATION_FIELDS, ValueProblem, coerce, column_info
from inventory.import_regions import region_changes, regions
from inventory.importer import UPDATED, Row
from inventory.validation import clean

if TYPE_CHECKING:
    from inventory.importer import _Importer

Stage = Callable[["_Importer"], None]
# (document field, column, referenced model, natural field shown in messages)
Ref = tuple[str, str, type[m.InventoryModel], str]


def _refs(imp: _Importer, row: Row, values: dict[str, Any], refs: tuple[Ref, ...]) -> None:
    for field, column, target, shown in refs:
        if field not in row.data:
            continue
        value = imp.ref_text(row, field, row.data[field])
        values[column] = None if value is None else imp.ref(row, field, target, (value,), f'with {shown} "{value}"')


def simple(key: str, refs: tuple[Ref, ...] = ()) -> Stage:
    """A key whose rows are plain fields plus references by slug/code."""
    def stage(imp: _Importer) -> None:
        model = MODELS[key]
        for row in imp.rows(key):
            values = imp.plain_values(row, model)
            _refs(imp, row, values, refs)
            imp.upsert(row, model, values)
        imp.flush()

    return stage


def racks(imp: _Importer) -> None:
    for row in imp.rows("racks"):
        values = imp.plain_values(row, m.Rack)
        _refs(imp, row, values, (("site", "site_id", m.Site, "slug"),))
        location = imp.ref_text(row, "location", row.data.get("location"))
        if "location" in row.data:
            values["location_id"] = None
        if location is not None and values.get("site_id") is not None:
            values["location_id"] = imp.ref(row, "location", m.Location, (values["site_id"], location),
                                            f'"{location}" at site "{row.data.get("site")}"')
        imp.upsert(row, m.Rack, values)
    imp.flush()


# --- devices, interfaces, addresses ------------------------------------------------------------------

_DEVICE_PATHS = {"snmp_profile_id": "monitoring.snmp_profile", "monitoring_enabled": "monitoring.enabled",
                 "poller_group": "monitoring.poller_group", "host": "primary_ip"}


def _device_path(column: str) -> str:
    return _DEVICE_PATHS.get(column, column.removesuffix("_id"))


def _monitoring(imp: _Importer, row: Row, values: dict[str, Any]) -> None:
    mon = row.data.get("monitoring")
    if mon is None:
        return
    if not isinstance(mon, dict):
        row.issue("monitoring", f"expected a mapping {{enabled, snmp_profile, poller_group}}, got {mon!r}")
        return
    for name in mon:
        if name not in MONITORING_FIELDS:
            row.issue(f"monitoring.{name}", f"unknown field; allowed: {', '.join(MONITORING_FIELDS)}")
    for name, column in (("enabled", "monitoring_enabled"), ("poller_group", "poller_group")):
        if name in mon:
            try:
                value = coerce(column_info(m.Device, column), mon[name], from_csv=row.from_csv)
            except ValueProblem as exc:
                row.issue(f"monitoring.{name}", str(exc))
                continue
            if value is None:
                row.issue(f"monitoring.{name}", "must not be null")
            else:
                values[column] = value
    if "snmp_profile" in mon:
        name = imp.ref_text(row, "monitoring.snmp_profile", mon["snmp_profile"])
        values["snmp_profile_id"] = None if name is None else imp.ref(
            row, "monitoring.snmp_profile", m.SnmpProfile, (name,), f'named "{name}"')


_DEVICE_REFS: tuple[Ref, ...] = (
    ("site", "site_id", m.Site, "slug"), ("role", "role_id", m.DeviceRole, "slug"),
    ("device_type", "device_type_id", m.DeviceType, "slug"), ("platform", "platform_id", m.Platform, "slug"))


def devices(imp: _Importer) -> None:
    placed: list[tuple[Row, m.Device]] = []
    failed: list[Row] = []
    for row in imp.rows("devices"):
        values = imp.plain_values(row, m.Device)
        _refs(imp, row, values, _DEVICE_REFS)
        if "rack" in row.data:
            rack = imp.ref_text(row, "rack", row.data["rack"])
            values["rack_id"] = None
            if rack is not None and values.get("site_id") is not None:
                values["rack_id"] = imp.ref(row, "rack", m.Rack, (values["site_id"], rack),
                                            f'"{rack}" at site "{row.data.get("site")}"')
        _monitoring(imp, row, values)
        obj = imp.upsert(row, m.Device, values, _device_path)
        if isinstance(obj, m.Device):
            placed.append((row, obj))
        else:
            failed.append(row)
    imp.flush()
    addresses = _interfaces(imp, [*placed, *((row, None) for row in failed)])
    imp.flush()
    _addresses(imp, addresses)
    imp.flush()
    _links(imp, placed)
    imp.flush()


def _interfaces(imp: _Importer, devices: list[tuple[Row, m.Device | None]],
                ) -> list[tuple[Row, m.Interface | None]]:
    """Upsert the interfaces nested under devices and those of ``interfaces`` rows (CSV).

    Interfaces of a device that failed are still checked (and reported), never written. Returns each
    interface row with its interface (None when it failed) for the addresses.
    """
    rows: list[tuple[Row, int | None]] = []
    for row, device in devices:
        nested = row.data.get("interfaces")
        if nested is None:
            continue
        if not isinstance(nested, list):
            row.issue("interfaces", "must be a list of interfaces")
            continue
        for i, data in enumerate(nested, start=1):
            child = row.child("interfaces", data, f"interfaces#{i}")
            if child is not None:
                imp.check_fields(child)
                if device is None:
                    child.block("device")
                rows.append((child, device.id if device is not None else None))
    for row in imp.rows("interfaces"):
        rows.append((row, imp.device_ref(row, "device", row.data.get("device"))))
    out: list[tuple[Row, m.Interface | None]] = []
    for row, device_id in rows:
        values = imp.plain_values(row, m.Interface)
        values["device_id"] = device_id
        iface = imp.upsert(row, m.Interface, values)
        out.append((row, iface if isinstance(iface, m.Interface) else None))
    return out


def _addresses(imp: _Importer, interfaces: list[tuple[Row, m.Interface | None]]) -> None:
    """Upsert addresses nested under interfaces and those of ``ip_addresses`` rows (after the flush)."""
    rows: list[tuple[Row, int | None]] = []
    for row, iface in interfaces:
        iface_id = iface.id if iface is not None else None
        nested = row.data.get("ip_addresses")
        if nested is None:
            continue
        if not isinstance(nested, list):
            row.issue("ip_addresses", "must be a list of addresses")
            continue
        for i, data in enumerate(nested, start=1):
            child = row.child("ip_addresses", data, f"ip_addresses#{i}")
            if child is not None:
                imp.check_fields(child)
                if iface_id is None:
                    child.block("interface")
                rows.append((child, iface_id))
    for row in imp.rows("ip_addresses"):
        device_id = imp.device_ref(row, "device", row.data.get("device"))
        name = imp.ref_text(row, "interface", row.data.get("interface"))
        iface_id = None
        if device_id is not None and name is not None:
            dev = row.data["device"]
            iface_id = imp.ref(row, "interface", m.Interface, (device_id, name),
                               f'{name} on device {dev["site"]}/{dev["name"]}')
        elif device_id is not None:
            row.issue("interface", "this field is required")
        rows.append((row, iface_id))
    for row, iface_id in rows:
        values = imp.plain_values(row, m.IPAddress)
        if "address" in values and not _normalise(row, "address", values):
            continue
        values["interface_id"] = iface_id
        other = imp.index.key(m.IPAddress, (values.get("host"),))
        if other is not None and iface_id is not None and other.interface_id not in (None, iface_id):
            row.issue("address", f"{values['host']} is already assigned to {_where(imp, other.interface_id)}")
            continue
        imp.upsert(row, m.IPAddress, values)


def _normalise(row: Row, path: str, values: dict[str, Any]) -> bool:
    try:
        parsed = ipaddress.ip_interface(values["address"])
    except ValueError:
        row.issue(path, f"{values['address']!r} is not an IP address; expected e.g. 127.20.4.1/32 or "
                        "2001:db8::1/64")
        return False
    values["address"], values["host"] = parsed.with_prefixlen, str(parsed.ip)
    return True


def _where(imp: _Importer, interface_id: int | None) -> str:
    iface = imp.index.get(m.Interface, interface_id)
    device = imp.index.get(m.Device, iface.device_id) if iface else None
    site = imp.index.get(m.Site, device.site_id) if device else None
    if iface is None or device is None or site is None:
        return f"interface #{interface_id}"
    return f"{site.slug}/{device.name} {iface.name}"


def _links(imp: _Importer, placed: list[tuple[Row, m.Device]]) -> None:
    """Set ``parent`` and ``primary_ip`` once every device, interface and address exists; validate all."""
    changed: list[tuple[Row, m.Device, dict[str, Any]]] = []
    for row, device in placed:
        values: dict[str, Any] = {}
        if "parent" in row.data:
            values["parent_id"] = imp.device_ref(row, "parent", row.data["parent"])
        if "primary_ip" in row.data:
            values["primary_ip_id"] = _primary_ip(imp, row, device)
        if row.skip:
            continue
        old = {k: getattr(device, k) for k, v in values.items() if getattr(device, k) != v}
        for k in old:
            setattr(device, k, values[k])
        changed.append((row, device, old))
    checked = [(row, device, old, clean(None, device, imp.index)) for row, device, old in changed]
    for row, device, old, errors in checked:  # every device checked before any is undone: whole cycles show
        if device.monitoring_enabled and device.primary_ip_id is None:
            errors.setdefault("monitoring_enabled", []).append(
                f"device {device.name!r}: monitoring needs a primary_ip (or monitoring.enabled: false)")
        for column, messages in errors.items():
            for message in messages:
                row.issue(_device_path(column), message)
        if row.bad:
            for k, v in old.items():
                setattr(device, k, v)
        elif old:
            imp.index.reindex(device)
            imp.mark(device, UPDATED)


def _primary_ip(imp: _Importer, row: Row, device: m.Device) -> int | None:
    text = imp.ref_text(row, "primary_ip", row.data["primary_ip"])
    if text is None:
        return None
    values = {"address": text}
    if not _normalise(row, "primary_ip", values):
        return None
    ip = imp.index.key(m.IPAddress, (values["host"],))
    if ip is None or ip.id is None:
        if (m.IPAddress, (values["host"],)) in imp.failed:
            row.block("primary_ip")
        else:
            site = imp.index.get(m.Site, device.site_id)
            row.issue("primary_ip", f"{values['address']} is not an address of any interface of "
                                    f"{site.slug if site else device.site_id}/{device.name}")
        return None
    return ip.id


# --- circuits and videoconference --------------------------------------------------------------------

def circuits(imp: _Importer) -> None:
    placed: list[tuple[Row, m.Circuit]] = []
    refs: tuple[Ref, ...] = (("provider", "provider_id", m.Provider, "slug"),
                             ("type", "type_id", m.CircuitType, "slug"))
    for row in imp.rows("circuits"):
        values = imp.plain_values(row, m.Circuit)
        _refs(imp, row, values, refs)
        obj = imp.upsert(row, m.Circuit, values)
        if isinstance(obj, m.Circuit):
            placed.append((row, obj))
    imp.flush()
    for row, circuit in placed:
        for side in ("a", "z"):
            if row.data.get(side) is not None:
                _termination(imp, row, circuit, side)
    imp.flush()


def _termination(imp: _Importer, row: Row, circuit: m.Circuit, side: str) -> None:
    term = row.data[side]
    if not isinstance(term, dict):
        row.issue(side, f"expected a mapping {{site, device, interface}}, got {term!r}")
        return
    for name in term:
        if name not in TERMINATION_FIELDS:
            row.issue(f"{side}.{name}", f"unknown field; allowed: {', '.join(TERMINATION_FIELDS)}")
    site = imp.ref_text(row, f"{side}.site", term.get("site"))
    device = imp.ref_text(row, f"{side}.device", term.get("device"))
    iface = imp.ref_text(row, f"{side}.interface", term.get("interface"))
    values: dict[str, Any] = {"circuit_id": circuit.id, "term_side": side.upper(), "device_id": None,
                              "interface_id": None}
    if site is None:
        row.issue(f"{side}.site", "this field is required")
        return
    values["site_id"] = imp.ref(row, f"{side}.site", m.Site, (site,), f'with slug "{site}"')
    if device is not None and values["site_id"] is not None:
        values["device_id"] = imp.ref(row, f"{side}.device", m.Device, (values["site_id"], device),
                                      f"{device} at site {site}")
    if iface is not None:
        if device is None:
            row.issue(f"{side}.interface", "an interface needs its device")
        elif values["device_id"] is not None:
            values["interface_id"] = imp.ref(row, f"{side}.interface", m.Interface,
                                             (values["device_id"], iface), f"{iface} on device {site}/{device}")
    imp.upsert(row, m.CircuitTermination, values, lambda c: f"{side}.{c.removesuffix('_id')}")


def vc_endpoints(imp: _Importer) -> None:
    for row in imp.rows("vc_endpoints"):
        values = imp.plain_values(row, m.VideoconferenceEndpoint)
        values["device_id"] = imp.device_ref(row, "device", row.data.get("device"))
        if "mcu" in row.data:
            values["mcu_id"] = imp.device_ref(row, "mcu", row.data["mcu"])
        imp.upsert(row, m.VideoconferenceEndpoint, values)
    imp.flush()


def services(imp: _Importer) -> None:
    """Services by (device, name); the device as ``{site, name}``, the owning agency by tenant slug."""
    for row in imp.rows("services"):
        values = imp.plain_values(row, m.Service)
        values["device_id"] = imp.device_ref(row, "device", row.data.get("device"))
        if "device" not in row.data:
            row.issue("device", "this field is required: {site: <slug>, name: <device>}")
        _refs(imp, row, values, (("tenant", "tenant_id", m.Tenant, "slug"),))
        imp.upsert(row, m.Service, values)
    imp.flush()


STAGES: list[tuple[str, Stage]] = [
    ("tags", simple("tags")),
    ("regions", regions),
    ("region_changes", region_changes),
    ("tenants", simple("tenants")),
    ("sites", simple("sites", (("region", "region_id", m.Region, "code"), ("tenant", "tenant_id", m.Tenant, "slug")))),
    ("locations", simple("locations", (("site", "site_id", m.Site, "slug"),))),
    ("racks", racks),
    ("manufacturers", simple("manufacturers")),
    ("device_types", simple("device_types", (("manufacturer", "manufacturer_id", m.Manufacturer, "slug"),))),
    ("device_roles", simple("device_roles")),
    ("platforms", simple("platforms")),
    ("snmp_profiles", simple("snmp_profiles")),
    ("devices", devices),
    ("providers", simple("providers")),
    ("circuit_types", simple("circuit_types")),
    ("circuits", circuits),
    ("vc_endpoints", vc_endpoints),
    ("services", services),
    ("coverage_targets", simple("coverage_targets")),
]

"""NetBox interfaces, IP addresses, circuits and circuit terminations → document rows (see :mod:`inventory.netbox_map`).

Interfaces and addresses become the document's top-level ``interfaces`` / ``ip_addresses`` rows (device given
as ``{site, name}``); a circuit's terminations become its ``a`` / ``z`` sides, the site from the termination
(``termination_type: dcim.site``, or ``site`` before NetBox 4.2) and the interface from its cable's link peer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from inventory.choices import IPAddressStatusChoices

if TYPE_CHECKING:
    from inventory.netbox_map import Mapper, Obj


def interfaces_and_addresses(m: Mapper) -> None:
    from inventory.netbox_map import _host

    for o in m.objects("dcim/interfaces"):
        device, name = o.ref_id("device", required=True), o.text("name", required=True)
        kind, speed = o.choice("type"), o.value("speed", (int,), "an integer (kbps)")
        enabled, mgmt = o.flag("enabled"), o.flag("mgmt_only")
        if not o.ok:
            continue
        ref = m.device.get(device) if device is not None else None
        if ref is None:
            o.skip(f"its device #{device} is not imported (skipped, or not in the answers)")
            continue
        our_type = m.interface_type(kind)
        if our_type != kind:
            o.note(f"interface type {kind!r} is not one of ours: imported as 'other'")
        m.interface[o.id] = (ref, str(name))
        m.add("interfaces", o, {"device": ref, "name": name, "type": our_type, "speed_kbps": speed,
                                "enabled": True if enabled is None else enabled, "mgmt_only": bool(mgmt),
                                "description": o.text("description") or ""})
    for o in m.objects("ipam/ip-addresses"):
        address, status = o.text("address", required=True), o.choice("status") or "active"
        kind, assigned = o.text("assigned_object_type"), o.value("assigned_object_id", (int,), "an integer id")
        dns, description = o.text("dns_name") or "", o.text("description") or ""
        if not o.ok:
            continue
        host = _host(address)
        row: dict[str, Any] = {"address": address, "status": status, "dns_name": dns, "description": description}
        if host is None:
            pass  # the importer names the bad address
        elif host in m.hosts:
            o.skip(f"{host} is already imported from ip address #{m.hosts[host]} (another VRF?): addresses are "
                   "unique here")
            continue
        if status not in IPAddressStatusChoices.values():
            o.skip(f"status {status!r} has no equivalent here ({IPAddressStatusChoices.allowed()})")
            continue
        if kind is not None and kind != "dcim.interface":
            o.skip(f"assigned to a {kind}: only device interfaces are modelled")
            continue
        if kind == "dcim.interface":
            iface = m.interface.get(assigned) if assigned is not None else None
            if iface is None:
                o.skip(f"its interface #{assigned} is not imported (skipped, or not in the answers)")
                continue
            row.update(device=iface[0], interface=iface[1])
        if host is not None:
            m.hosts[host] = o.id
        m.add("ip_addresses", o, row)
    m.finish_devices()


def _termination(m: Mapper, o: Obj) -> dict[str, Any] | None:
    """The ``{site, device, interface}`` of one termination, or None (skipped, with the reason)."""
    kind = o.text("termination_type")
    if kind is None and "site" in o.raw:      # NetBox 4.0/4.1: site / provider_network
        site = o.ref_id("site")
        kind = "dcim.site" if site is not None else "circuits.providernetwork"
    else:
        site = o.value("termination_id", (int,), "an integer id") if kind == "dcim.site" else None
    if kind != "dcim.site":
        o.skip(f"terminates on a {kind}: only sites are modelled")
        return None
    slug = m.slug_of("dcim/sites", site)
    if slug is None:
        o.skip(f"its site #{site} is not imported (skipped, or not in the answers)")
        return None
    side: dict[str, Any] = {"site": slug}
    peers = o.value("link_peers", (list,), "a list of link peers") or []
    if o.text("link_peers_type") == "dcim.interface" and peers and isinstance(peers[0], dict):
        iface = m.interface.get(peer_id) if isinstance(peer_id := peers[0].get("id"), int) else None
        if iface is not None and iface[0]["site"] == slug:
            side.update(device=iface[0]["name"], interface=iface[1])
        else:
            o.note(f"its link peer, interface #{peers[0].get('id')}, is not imported at site {slug}: the side is "
                   "imported without a device and interface")
    return side


def circuits(m: Mapper) -> None:
    sides: dict[int, dict[str, tuple[Obj, dict[str, Any]]]] = {}
    for o in m.objects("circuits/circuit-terminations"):
        circuit, term_side = o.ref_id("circuit", required=True), o.text("term_side", required=True)
        if not o.ok:
            continue
        if term_side not in ("A", "Z"):
            o.bad("term_side", f"expected 'A' or 'Z', got {term_side!r}")
            continue
        side = _termination(m, o)
        if side is not None and circuit is not None:
            sides.setdefault(circuit, {})[term_side.lower()] = (o, side)
    for o in m.objects("circuits/circuits"):
        cid, provider, kind = o.text("cid", required=True), o.ref_id("provider", required=True), o.ref_id(
            "type", required=True)
        row: dict[str, Any] = {"cid": cid, "status": o.choice("status") or "active",
                               "commit_rate_kbps": o.value("commit_rate", (int,), "an integer (kbps)"),
                               "install_date": o.text("install_date"), "description": o.text("description") or "",
                               "tags": o.tags(), "custom_fields": o.custom_fields()}
        if not o.ok:
            continue
        row.update(provider=m.slug_of("circuits/providers", provider), type=m.slug_of("circuits/circuit-types", kind))
        parts: dict[str, tuple[str, str]] = {}
        for letter, (term, side) in sorted(sides.get(o.id, {}).items()):
            row[letter] = side
            parts[letter] = (term.where, term.label)
        m.add("circuits", o, row, parts)

"""Demo province: a complete import document for Bắc Giang's e-government network as of the 2019 plan.

``build_demo_document(today)`` returns a plain dict in the import format of docs/inventory-format.md:
the province's administrative units (``data/bac_giang_regions.json``, derived from open data) with the
reorganisation of 1/7/2025 (``data/bac_giang_reorg_2025.json``, open data too: district level abolished,
communes merged and renamed, see :mod:`inventory.demo_reorg`), the 22 departments
(``data/bac_giang_departments.json``, demo data), the provincial data center, every department, district
and commune site with its router and videoconference endpoint, the leased circuits (VNPT WAN and TSLCD, a
few second uplinks from Viettel), the data center's hosted systems as services on its servers
(``data/bac_giang_hosted_systems.json``, demo data) and the plan's coverage targets (22/10/230, valid until
1/7/2025; none is invented for the merged province).

Everything except the administrative units is invented. Every device's primary address is on loopback
127.0.0.0/8 (127.10.0.n data center, 127.11.<department>.n, 127.<20+district>.<commune>.n), so probing the
demo is safe on any Linux machine. ``today`` is the document's as-of date: a site commissioned after it is
``planned`` (devices planned, addresses reserved, monitoring off, no circuit). Same ``today``, same document.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from datetime import date, timedelta
from functools import cache
from importlib import resources
from typing import Any, NamedTuple

from inventory.demo_reorg import reorganisation

log = logging.getLogger(__name__)

Doc = dict[str, Any]

PLAN = "KH-59-2019"
PLAN_NOTE = "Kế hoạch số 59/KH-UBND ngày 29/3/2019 của UBND tỉnh Bắc Giang"
PLAN_FROM, PLAN_TO = date(2019, 3, 29), date(2025, 7, 1)  # valid_to is exclusive
DC = "dc-bac-giang"
MCU = {"site": DC, "name": "dc-mcu-01"}
MCU_IP = "127.10.0.40"
SNMP_PROFILE = "demo-v2c"
DEMO_NOTE = "Dữ liệu minh họa (demo)"
COMMUNE_ROLLOUT_START = date(2019, 6, 3)   # commune n (in code order) is connected 4n days later
SECOND_UPLINK_START = date(2023, 3, 1)
DISTRICTS_WITH_PLANNED_COMMUNE = ("215", "218", "219", "220", "224")  # last commune there: not connected
DUAL_HOMED_DISTRICTS = 6        # first commune of the first six districts gets a Viettel second uplink
FAST_COMMUNE_INDEX = 5          # commune #5 of the first five districts runs at 200 Mbps

# kind: role, device type, platform, address interface (name, type), physical ports (name, type, kbps)
TEMPLATES: dict[str, tuple[str, str, str | None, tuple[str, str], list[tuple[str, str, int]]]] = {
    "core": ("router", "asr1001-x", "ios-xe", ("Loopback0", "virtual"),
             [("Te0/0/0", "10gbase-x-sfpp", 10_000_000), ("Te0/0/1", "10gbase-x-sfpp", 10_000_000),
              ("Gi0/0/0", "1000base-x-sfp", 1_000_000), ("Gi0/0/1", "1000base-x-sfp", 1_000_000)]),
    "dist": ("router", "isr4451-x", "ios-xe", ("Loopback0", "virtual"),
             [("Gi0/0/0", "1000base-x-sfp", 1_000_000), ("Gi0/0/1", "1000base-t", 1_000_000)]),
    "fw": ("firewall", "fortigate-600e", "fortios", ("mgmt", "1000base-t"),
           [("port1", "10gbase-x-sfpp", 10_000_000), ("port2", "10gbase-x-sfpp", 10_000_000)]),
    "dc-switch": ("switch", "c9300-48t", "ios-xe", ("Vlan100", "virtual"),
                  [("Te1/1/1", "10gbase-x-sfpp", 10_000_000), ("Te1/1/2", "10gbase-x-sfpp", 10_000_000)]),
    "server": ("server", "poweredge-r740", "vmware-esxi", ("iDRAC", "1000base-t"),
               [("vmnic0", "10gbase-x-sfpp", 10_000_000), ("vmnic1", "10gbase-x-sfpp", 10_000_000)]),
    "ups": ("ups", "srt10krmxli", None, ("NMC", "100base-tx"), []),
    "mcu": ("mcu", "rpcs-2000", None, ("LAN1", "1000base-t"), [("LAN2", "1000base-t", 1_000_000)]),
    "dept-router": ("router", "isr4331", "ios-xe", ("Loopback0", "virtual"),
                    [("Gi0/0/0", "1000base-t", 1_000_000), ("Gi0/0/1", "1000base-t", 1_000_000)]),
    "district-router": ("router", "isr4431", "ios-xe", ("Loopback0", "virtual"),
                        [("Gi0/0/0", "1000base-x-sfp", 1_000_000), ("Gi0/0/1", "1000base-x-sfp", 1_000_000),
                         ("Gi0/0/2", "1000base-t", 1_000_000)]),
    "district-switch": ("switch", "c2960x-24ts", "ios", ("Vlan10", "virtual"),
                        [("Gi1/0/24", "1000base-t", 1_000_000)]),
    "commune-router": ("router", "ar161", "huawei-vrp", ("LoopBack0", "virtual"),
                       [("GE0/0/0", "1000base-t", 1_000_000), ("GE0/0/1", "1000base-t", 1_000_000),
                        ("GE0/0/2", "1000base-t", 1_000_000)]),
    "vc-room": ("vc-endpoint", "hdx-7000", None, ("LAN", "1000base-t"), []),
    "vc-commune": ("vc-endpoint", "group-310", None, ("LAN", "1000base-t"), []),
}
MANUFACTURERS = {"cisco": ("Cisco", "FDO"), "huawei": ("Huawei", "2102"), "fortinet": ("Fortinet", "FG6H0E"),
                 "dell": ("Dell", "DL"), "apc": ("APC", "AS"), "poly": ("Poly", "82")}
DEVICE_TYPES = {  # slug: manufacturer, model
    "asr1001-x": ("cisco", "ASR1001-X"), "isr4451-x": ("cisco", "ISR4451-X"), "isr4431": ("cisco", "ISR4431"),
    "isr4331": ("cisco", "ISR4331"), "c9300-48t": ("cisco", "C9300-48T"),
    "c2960x-24ts": ("cisco", "WS-C2960X-24TS-L"), "ar161": ("huawei", "AR161"),
    "fortigate-600e": ("fortinet", "FortiGate 600E"), "poweredge-r740": ("dell", "PowerEdge R740"),
    "srt10krmxli": ("apc", "Smart-UPS SRT 10000VA RM"),
    "rpcs-2000": ("poly", "RealPresence Collaboration Server 2000"), "hdx-7000": ("poly", "HDX 7000"),
    "group-310": ("poly", "Group 310"),
}
ROLES = {"router": "Bộ định tuyến", "switch": "Thiết bị chuyển mạch", "firewall": "Tường lửa",
         "server": "Máy chủ", "ups": "Bộ lưu điện (UPS)", "vc-endpoint": "Điểm cầu hội nghị truyền hình",
         "mcu": "MCU hội nghị truyền hình"}
PLATFORMS = {"ios-xe": "Cisco IOS XE", "ios": "Cisco IOS", "huawei-vrp": "Huawei VRP", "fortios": "FortiOS",
             "vmware-esxi": "VMware ESXi"}
TAGS = {"demo": ("Dữ liệu minh họa", "9e9e9e"), "redundant-uplink": ("Hai đường kết nối", "4caf50")}
# The data center: (name, kind, last octet of 127.10.0.x, explicit parent, rack)
DC_DEVICES = [
    ("dc-core-01", "core", 1, None, "R01"), ("dc-core-02", "core", 2, None, "R02"),
    ("dc-dist-01", "dist", 3, "dc-core-01", "R01"), ("dc-dist-02", "dist", 4, "dc-core-02", "R02"),
    ("dc-fw-01", "fw", 5, "dc-core-01", "R01"), ("dc-fw-02", "fw", 6, "dc-core-02", "R02"),
    ("dc-sw-01", "dc-switch", 11, "dc-fw-01", "R01"), ("dc-sw-02", "dc-switch", 12, "dc-fw-02", "R02"),
    ("dc-sw-03", "dc-switch", 13, "dc-fw-01", "R01"), ("dc-sw-04", "dc-switch", 14, "dc-fw-02", "R02"),
    *[(f"dc-srv-{n:02d}", "server", 20 + n, f"dc-sw-0{2 - n % 2}", f"R0{2 - n % 2}") for n in range(1, 7)],
    ("dc-ups-01", "ups", 31, "dc-sw-03", "R01"), ("dc-ups-02", "ups", 32, "dc-sw-04", "R02"),
    ("dc-mcu-01", "mcu", 40, "dc-sw-01", "R01"),
]


@cache
def _load(name: str) -> Doc:
    data: Doc = json.loads(resources.files("inventory.data").joinpath(name).read_text(encoding="utf-8"))
    return data


def load_regions() -> Doc:
    """The derived administrative units: ``{"attribution", "province", "districts", "communes"}``."""
    return _load("bac_giang_regions.json")


def load_reorg_2025() -> Doc:
    """The reorganisation of 1/7/2025: ``{"attribution", "province", "communes", "successors"}``."""
    return _load("bac_giang_reorg_2025.json")


def load_departments() -> list[Doc]:
    """The 22 demo departments: ``[{"slug", "name", "abbr", "videoconference"}, ...]``."""
    departments: list[Doc] = _load("bac_giang_departments.json")["departments"]
    return departments


class _Builder:
    """Accumulates the document's lists; hands out serial numbers and asset tags in creation order."""

    def __init__(self, today: date) -> None:
        self.today = today
        self.doc: Doc = {key: [] for key in (
            "tags", "regions", "region_changes", "tenants", "sites", "locations", "racks", "manufacturers",
            "device_types", "device_roles", "platforms", "snmp_profiles", "devices", "providers",
            "circuit_types", "circuits", "vc_endpoints", "services", "coverage_targets")}
        self.devices: dict[tuple[str, str], Doc] = {}
        self.active_sites: set[str] = set()

    def site(self, slug: str, name: str, category: str, region: str, tenant: str | None,
             lat: float, lon: float, address: str, commissioned: date | None, **extra: Any) -> bool:
        """Add a site; return whether it is in service on ``today``."""
        active = commissioned is not None and commissioned <= self.today
        if active:
            self.active_sites.add(slug)
        self.doc["sites"].append({
            "slug": slug, "name": name, "category": category, "status": "active" if active else "planned",
            "region": region, "tenant": tenant, "latitude": round(lat, 6), "longitude": round(lon, 6),
            "address": address, "description": extra.get("description", ""),
            "tags": ["demo", *extra.get("tags", [])], "custom_fields": extra.get("custom_fields", {}),
        })
        return active

    def device(self, site: str, name: str, kind: str, address: str, *, parent: str | None = None,
               rack: str | None = None, snmp: bool = False) -> Doc:
        """Add a device of a template kind with its address interface and physical ports."""
        role, dtype, platform, (addr_if, addr_type), ports = TEMPLATES[kind]
        active = site in self.active_sites
        number = len(self.devices) + 1
        monitoring: Doc = {"enabled": active, "poller_group": "default"}
        if snmp:
            monitoring["snmp_profile"] = SNMP_PROFILE
        dev: Doc = {
            "site": site, "name": name, "role": role, "device_type": dtype, "platform": platform,
            "status": "active" if active else "planned",
            "serial": f"{MANUFACTURERS[DEVICE_TYPES[dtype][0]][1]}{number:07d}",
            "asset_tag": f"BG-{number:05d}", "rack": rack,
            "parent": {"site": site, "name": parent} if parent else None,
            "primary_ip": f"{address}/32", "monitoring": monitoring,
            "interfaces": [_iface(addr_if, addr_type, None, [{
                "address": f"{address}/32", "status": "active" if active else "reserved", "dns_name": ""}])]
            + [_iface(p, t, kbps) for p, t, kbps in ports],
        }
        self.devices[(site, name)] = dev
        self.doc["devices"].append(dev)
        return dev

    def circuit(self, provider: str, cid: str, ctype: str, kbps: int, installed: date,
                a: tuple[str, str, str], z: tuple[str, str, str]) -> None:
        """Add a circuit if it is installed by ``today`` (A = upstream end, Z = served site).

        The A end is a VLAN subinterface on the upstream device's trunk; it is created here.
        """
        if installed > self.today:
            return
        self.devices[(a[0], a[1])]["interfaces"].append(
            _iface(a[2], "virtual", None, description=f"{provider.upper()} {cid}"))
        self.doc["circuits"].append({
            "provider": provider, "cid": cid, "type": ctype, "status": "active", "commit_rate_kbps": kbps,
            "install_date": installed.isoformat(), "description": "",
            "a": dict(zip(("site", "device", "interface"), a, strict=True)),
            "z": dict(zip(("site", "device", "interface"), z, strict=True)),
        })

    def uplink(self, provider: str, cid: str, ctype: str, kbps: int, installed: date, z: tuple[str, str, str]) -> None:
        """An upstream circuit into ``z`` from the provider's network (no A end of ours)."""
        if installed > self.today:
            return
        self.doc["circuits"].append({
            "provider": provider, "cid": cid, "type": ctype, "status": "active", "commit_rate_kbps": kbps,
            "install_date": installed.isoformat(), "description": "Kết nối vào Trung tâm dữ liệu",
            "z": dict(zip(("site", "device", "interface"), z, strict=True)),
        })

    def vc_endpoint(self, site: str, device: str, room: str, *, e164: str | None = None) -> None:
        """Add the videoconference record of a vc-endpoint device (H.323 with E.164, else SIP)."""
        record: Doc = {"device": {"site": site, "name": device}, "mcu": dict(MCU), "room": room}
        if e164:
            record.update(protocol="h323", e164=e164)
        else:
            record.update(protocol="sip", uri=f"sip:{device}@{MCU_IP}")
        self.doc["vc_endpoints"].append(record)


class _Uplink(NamedTuple):
    """One planned circuit to a commune: provider, circuit type, id, A end, committed rate, install date."""

    provider: str
    type: str
    cid: str
    a: tuple[str, str, str]
    kbps: int
    installed: date


def _iface(name: str, itype: str, kbps: int | None, ips: list[Doc] | None = None,
           description: str = "") -> Doc:
    return {"name": name, "type": itype, "speed_kbps": kbps, "enabled": True, "mgmt_only": False,
            "description": description, "ip_addresses": ips or []}


def _catalogue(b: _Builder) -> None:
    doc = b.doc
    doc["manufacturers"] = [{"slug": s, "name": n} for s, (n, _) in MANUFACTURERS.items()]
    doc["device_types"] = [{"manufacturer": m, "model": model, "slug": s}
                           for s, (m, model) in DEVICE_TYPES.items()]
    doc["device_roles"] = [{"slug": s, "name": n} for s, n in ROLES.items()]
    doc["platforms"] = [{"slug": s, "name": n} for s, n in PLATFORMS.items()]
    doc["tags"] = [{"slug": s, "name": n, "color": c} for s, (n, c) in TAGS.items()]
    doc["snmp_profiles"] = [{"name": SNMP_PROFILE, "version": "2c", "community": "public"}]
    doc["providers"] = [{"slug": "vnpt", "name": "VNPT"}, {"slug": "viettel", "name": "Viettel"}]
    doc["circuit_types"] = [{"slug": "tslcd", "name": "Mạng truyền số liệu chuyên dùng"},
                            {"slug": "wan", "name": "WAN thuê kênh"},
                            {"slug": "internet", "name": "Internet trực tiếp"}]
    doc["coverage_targets"] = [
        {"plan": PLAN, "category": category, "target": target, "valid_from": PLAN_FROM.isoformat(),
         "valid_to": PLAN_TO.isoformat(), "description": PLAN_NOTE}
        for category, target in (("department", 22), ("district", 10), ("commune", 230))]
    # Videoconference points: the province's 4 (Party committee, People's Council, People's Committee,
    # conference centre), the 10 district-level units and the 230 communes of the 2019 plan.
    doc["coverage_targets"].append(
        {"plan": PLAN, "category": "vc", "target": 4 + 10 + 230, "valid_from": PLAN_FROM.isoformat(),
         "valid_to": PLAN_TO.isoformat(),
         "description": PLAN_NOTE + " Điểm cầu: 4 cấp tỉnh + 10 cấp huyện + 230 cấp xã."})


def _regions(b: _Builder, regions: Doc) -> None:
    p = regions["province"]
    rows = [{**p, "valid_from": "1997-01-01"}] + [{**u, "valid_from": None}
                                                   for u in regions["districts"] + regions["communes"]]
    b.doc["regions"] = [
        {"code": r["code"], "name": r["name"], "slug": r["slug"], "level": r["level"], "unit_type": r["type"],
         "parent": r["parent"], "valid_from": r["valid_from"], "valid_to": None,
         "latitude": r["latitude"], "longitude": r["longitude"], "description": ""}
        for r in rows]


def _data_center(b: _Builder, province: Doc) -> None:
    b.site(DC, "Trung tâm tích hợp dữ liệu tỉnh", "datacenter", province["code"], "so-tttt",
           21.2795, 106.1985, "Thành phố Bắc Giang, tỉnh Bắc Giang", date(2015, 1, 1),
           description="Trung tâm THDL đặt tại Sở TT&TT. " + DEMO_NOTE)
    b.doc["locations"].append({"site": DC, "slug": "phong-may-1", "name": "Phòng máy chủ 1"})
    b.doc["racks"] += [{"site": DC, "location": "phong-may-1", "name": rack, "u_height": 42}
                       for rack in ("R01", "R02")]
    for name, kind, octet, parent, rack in DC_DEVICES:
        b.device(DC, name, kind, f"127.10.0.{octet}", parent=parent, rack=rack, snmp=kind == "core")
    # Two uplinks from two providers, one on each core router: the redundancy the TCVN 9250 report evidences.
    b.uplink("vnpt", "VNPT-INET-DC-01", "internet", 1_000_000, date(2016, 1, 15), (DC, "dc-core-01", "Gi0/0/0"))
    b.uplink("viettel", "VTL-INET-DC-01", "internet", 1_000_000, date(2021, 1, 15), (DC, "dc-core-02", "Gi0/0/0"))


def load_hosted_systems() -> list[Doc]:
    return list(_load("bac_giang_hosted_systems.json")["services"])


def _hosted_systems(b: _Builder) -> None:
    """The data center's hosted systems as services of its servers (``data/bac_giang_hosted_systems.json``)."""
    for svc in load_hosted_systems():
        row = {k: v for k, v in svc.items() if k != "device"}
        b.doc["services"].append({"device": {"site": DC, "name": svc["device"]}, "counts_toward": "hosted_systems",
                                  **row, "description": DEMO_NOTE})


def _departments(b: _Builder, province: Doc) -> None:
    for i, dept in enumerate(load_departments(), start=1):
        slug, installed = dept["slug"], date(2017, 3, 1) + timedelta(days=14 * i)
        b.doc["tenants"].append({"slug": slug, "name": dept["name"], "description": DEMO_NOTE})
        b.site(slug, dept["name"], "department", province["code"], slug, 21.2660 + (i // 6) * 0.004,
               106.1850 + (i % 6) * 0.004, "Thành phố Bắc Giang, tỉnh Bắc Giang", installed,
               description="Tọa độ minh họa. " + DEMO_NOTE)
        router = b.device(slug, f"{slug}-rt", "dept-router", f"127.11.{i}.1")["name"]
        if dept["videoconference"]:
            vc = b.device(slug, f"{slug}-vc", "vc-room", f"127.11.{i}.2", parent=router)["name"]
            b.vc_endpoint(slug, vc, f"Phòng họp {dept['abbr']}", e164=f"02041{i:02d}")
        dist = f"dc-dist-0{2 - i % 2}"
        b.circuit("vnpt", f"BGG-WAN-{i:04d}", "wan", 100_000, installed,
                  (DC, dist, f"Gi0/0/0.{100 + i}"), (slug, router, "Gi0/0/0"))


def _districts(b: _Builder, regions: Doc) -> None:
    by_district: dict[str, list[Doc]] = {}
    for commune in regions["communes"]:
        by_district.setdefault(commune["parent"], []).append(commune)
    planned = {by_district[code][-1]["code"] for code in DISTRICTS_WITH_PLANNED_COMMUNE}
    names = Counter((c["type"], c["short_name"]) for c in regions["communes"])
    rollout = 0
    for d, district in enumerate(regions["districts"], start=1):
        slug, short, net = district["slug"], district["short_name"], f"127.{20 + d}"
        installed = date(2016, 6, 1) + timedelta(days=30 * d)
        core, other_core = f"dc-core-0{2 - d % 2}", f"dc-core-0{1 + d % 2}"
        tenant = f"ubnd-{slug}"
        b.doc["tenants"].append({"slug": tenant, "name": f"Ủy ban nhân dân {district['type']} {short}",
                                 "description": DEMO_NOTE})
        b.site(slug, f"UBND {district['type']} {short}", "district", district["code"], tenant,
               district["latitude"], district["longitude"], f"{district['name']}, tỉnh Bắc Giang", installed,
               custom_fields={"unit_type": district["type"]})
        router = b.device(slug, f"{slug}-rt", "district-router", f"{net}.0.1")["name"]
        switch = b.device(slug, f"{slug}-sw", "district-switch", f"{net}.0.2", parent=router)["name"]
        vc = b.device(slug, f"{slug}-vc", "vc-room", f"{net}.0.3", parent=switch)["name"]
        b.vc_endpoint(slug, vc, f"Hội trường UBND {district['type']} {short}", e164=f"02042{d:02d}")
        b.circuit("vnpt", f"BGG-TSLCD-{district['code']}", "tslcd", 1_000_000, installed,
                  (DC, core, f"Te0/0/0.{district['code']}"), (slug, router, "Gi0/0/0"))
        for k, commune in enumerate(by_district[district["code"]], start=1):
            name = f"UBND {commune['type']} {commune['short_name']}"
            if names[(commune["type"], commune["short_name"])] > 1:
                name += f" ({short})"
            commissioned = COMMUNE_ROLLOUT_START + timedelta(days=4 * rollout)
            rollout += 1
            kbps = 200_000 if k == FAST_COMMUNE_INDEX and d <= 5 else 100_000
            uplinks = [_Uplink("vnpt", "tslcd", f"BGG-TSLCD-{commune['code']}",
                               (slug, router, f"Gi0/0/1.{1000 + k}"), kbps, commissioned)]
            if k == 1 and d <= DUAL_HOMED_DISTRICTS:
                uplinks.append(_Uplink("viettel", "wan", f"VTL-WAN-{commune['code']}",
                                       (DC, other_core, f"Te0/0/1.{2000 + d}"), 100_000,
                                       SECOND_UPLINK_START + timedelta(days=30 * d)))
            _commune(b, commune, name, district, f"{net}.{k}",
                     None if commune["code"] in planned else uplinks)


def _commune(b: _Builder, commune: Doc, name: str, district: Doc, net: str,
             uplinks: list[_Uplink] | None) -> None:
    """Add a commune site (``planned`` when ``uplinks`` is None), its router, VC endpoint and uplinks."""
    slug = commune["slug"]
    dual = len([u for u in uplinks or [] if u.installed <= b.today]) > 1
    b.site(slug, name, "commune", commune["code"], None, commune["latitude"], commune["longitude"],
           f"{commune['name']}, {district['name']}, tỉnh Bắc Giang",
           uplinks[0].installed if uplinks else None, tags=["redundant-uplink"] if dual else [],
           custom_fields={"unit_type": commune["type"]})
    router = b.device(slug, f"{slug}-rt", "commune-router", f"{net}.1")["name"]
    vc = b.device(slug, f"{slug}-vc", "vc-commune", f"{net}.2", parent=router)["name"]
    b.vc_endpoint(slug, vc, f"Phòng họp {name}")
    for port, u in zip(("GE0/0/0", "GE0/0/1"), uplinks or [], strict=False):
        b.circuit(u.provider, u.cid, u.type, u.kbps, u.installed, u.a, (slug, router, port))


def build_demo_document(today: date | None = None) -> Doc:
    """Return the demo province as an import document (see docs/inventory-format.md).

    ``today`` (default: the current date) is the as-of date: sites commissioned later are ``planned``
    and circuits installed later are left out. The result is a fresh dict of JSON-compatible values
    (dates as ISO strings) and is identical for identical ``today``.
    """
    today = today or date.today()
    regions = load_regions()
    b = _Builder(today)
    _catalogue(b)
    _regions(b, regions)
    reorganisation(b.doc, regions, load_reorg_2025())
    _data_center(b, regions["province"])
    _departments(b, regions["province"])
    _districts(b, regions)
    _hosted_systems(b)
    log.info("event=demo_document_built as_of=%s sites=%d devices=%d circuits=%d vc_endpoints=%d",
             today.isoformat(), len(b.doc["sites"]), len(b.doc["devices"]), len(b.doc["circuits"]),
             len(b.doc["vc_endpoints"]))
    return b.doc

"""Test data for the API tests: a small Bắc Giang inventory, written straight through a session.

``province(session)`` returns the created objects by name so tests can refer to them; ``many_devices``
adds hundreds of fully related devices for the query-count tests.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from inventory.changelog import change_context
from inventory.models import (
    Circuit,
    CircuitTermination,
    CircuitType,
    Device,
    DeviceRole,
    DeviceType,
    Interface,
    IPAddress,
    Manufacturer,
    Platform,
    Provider,
    Region,
    RegionParentLink,
    Site,
    SnmpProfile,
    Tenant,
)

MERGE_DAY = date(2025, 7, 1)
COMMUNITY = "c0mmunity-never-shown"
AUTH_KEY = "auth-key-never-shown"
PRIV_KEY = "priv-key-never-shown"


def _add(session: Session, objs: dict[str, Any]) -> dict[str, Any]:
    session.add_all(objs.values())
    session.flush()
    return objs


def province(session: Session) -> dict[str, Any]:
    """Province 24 → district Lạng Giang (until 1/7/2025) → communes; sites, devices, a circuit, SNMP."""
    with change_context("test-setup"):
        o: dict[str, Any] = {}
        o |= _add(session, {
            "bg": Region(code="24", name="Bắc Giang", slug="bac-giang", level="province"),
            "lg": Region(code="213", name="Lạng Giang", slug="lang-giang", level="district", valid_to=MERGE_DAY),
            "yt": Region(code="215", name="Yên Thế", slug="yen-the", level="district", valid_to=MERGE_DAY),
            "ta": Region(code="7201", name="Tân An", slug="tan-an", level="commune", valid_to=MERGE_DAY),
            "dl": Region(code="7210", name="Đào Mỹ", slug="dao-my", level="commune"),
        })
        _add(session, {
            "lg": RegionParentLink(region_id=o["lg"].id, parent_id=o["bg"].id, valid_to=MERGE_DAY),
            "yt": RegionParentLink(region_id=o["yt"].id, parent_id=o["bg"].id, valid_to=MERGE_DAY),
            "ta": RegionParentLink(region_id=o["ta"].id, parent_id=o["lg"].id, valid_to=MERGE_DAY),
            "dl-old": RegionParentLink(region_id=o["dl"].id, parent_id=o["lg"].id, valid_to=MERGE_DAY),
            "dl-new": RegionParentLink(region_id=o["dl"].id, parent_id=o["bg"].id, valid_from=MERGE_DAY),
        })
        o |= _add(session, {
            "ubnd-lg": Tenant(slug="ubnd-lang-giang", name="UBND huyện Lạng Giang"),
            "vnpt": Provider(slug="vnpt", name="VNPT Bắc Giang"),
            "tslcd": CircuitType(slug="tslcd", name="Truyền số liệu chuyên dùng"),
            "router": DeviceRole(slug="router", name="Router"),
            "switch": DeviceRole(slug="switch", name="Switch"),
            "cisco": Manufacturer(slug="cisco", name="Cisco"),
            "ios": Platform(slug="ios", name="Cisco IOS"),
            "snmp": SnmpProfile(name="v2-default", version="2c", community=COMMUNITY),
            "snmp3": SnmpProfile(name="v3-secure", version="3", user="monitor", auth_protocol="sha",
                                 auth_key=AUTH_KEY, priv_protocol="aes", priv_key=PRIV_KEY),
        })
        o |= _add(session, {"isr": DeviceType(manufacturer_id=o["cisco"].id, model="ISR 4321", slug="isr4321")})
        o |= _add(session, {
            "dc": Site(slug="dc-bac-giang", name="Trung tâm tích hợp dữ liệu", category="datacenter",
                       region_id=o["bg"].id),
            "site-lg": Site(slug="ubnd-lang-giang", name="UBND huyện Lạng Giang", category="district",
                            region_id=o["lg"].id, tenant_id=o["ubnd-lg"].id),
            "site-ta": Site(slug="ubnd-tan-an", name="UBND xã Tân An", category="commune", region_id=o["ta"].id),
            "site-dl": Site(slug="ubnd-dao-my", name="UBND xã Đào Mỹ", category="commune", region_id=o["dl"].id,
                            status="planned"),
        })
        o |= _add(session, {
            "core": Device(site_id=o["dc"].id, name="core-router", role_id=o["router"].id,
                           device_type_id=o["isr"].id, platform_id=o["ios"].id, snmp_profile_id=o["snmp"].id),
            "gw-lg": Device(site_id=o["site-lg"].id, name="gw", role_id=o["router"].id,
                            snmp_profile_id=o["snmp3"].id),
            "sw-lg": Device(site_id=o["site-lg"].id, name="sw", role_id=o["switch"].id),
            "gw-ta": Device(site_id=o["site-ta"].id, name="gw", role_id=o["router"].id),
        })
        o |= _add(session, {
            "core-wan": Interface(device_id=o["core"].id, name="Gi0/0/1"),
            "gw-lg-wan": Interface(device_id=o["gw-lg"].id, name="Gi0/0/0"),
        })
        o |= _add(session, {
            "ip-core": IPAddress(address="10.24.0.1/30", host="10.24.0.1", interface_id=o["core-wan"].id),
            "ip-gw-lg": IPAddress(address="10.24.0.2/30", host="10.24.0.2", interface_id=o["gw-lg-wan"].id),
            "circuit": Circuit(provider_id=o["vnpt"].id, cid="TSLCD-LG-01", type_id=o["tslcd"].id,
                               commit_rate_kbps=200_000),
        })
        _add(session, {
            "term-a": CircuitTermination(circuit_id=o["circuit"].id, term_side="A", site_id=o["dc"].id,
                                         device_id=o["core"].id, interface_id=o["core-wan"].id),
            "term-z": CircuitTermination(circuit_id=o["circuit"].id, term_side="Z", site_id=o["site-lg"].id,
                                         device_id=o["gw-lg"].id, interface_id=o["gw-lg-wan"].id),
        })
        o["gw-lg"].primary_ip_id = o["ip-gw-lg"].id
        session.commit()
    return o


def many_devices(session: Session, o: dict[str, Any], n: int) -> None:
    """``n`` devices spread over the sites, each with every relation set, an interface and an IP."""
    sites = [o["dc"], o["site-lg"], o["site-ta"], o["site-dl"]]
    with change_context("test-setup"):
        devices = [
            Device(site_id=sites[i % len(sites)].id, name=f"cpe-{i:04d}", role_id=o["switch"].id,
                   device_type_id=o["isr"].id, platform_id=o["ios"].id, snmp_profile_id=o["snmp"].id,
                   parent_id=o["core"].id)
            for i in range(n)
        ]
        session.add_all(devices)
        session.flush()
        ifaces = [Interface(device_id=d.id, name="wan") for d in devices]
        session.add_all(ifaces)
        session.flush()
        session.add_all(IPAddress(address=f"10.100.{i // 250}.{i % 250 + 1}/24",
                                  host=f"10.100.{i // 250}.{i % 250 + 1}", interface_id=f.id)
                        for i, f in enumerate(ifaces))
        session.flush()
        ips = {ip.interface_id: ip.id for ip in session.query(IPAddress).filter(IPAddress.interface_id.isnot(None))}
        for d, f in zip(devices, ifaces, strict=True):
            d.primary_ip_id = ips[f.id]
        session.commit()

"""A small real inventory in a real database (the lead's SQLModel tables) for the persistence tests.

Province region > district region > one commune region per commune; the province data center (core
router), one district site (router + an unmonitored switch + a codec behind the switch) and N commune
sites (router), linked by active circuits core → district → communes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from inventory.models import (
    Circuit,
    CircuitTermination,
    CircuitType,
    Device,
    DeviceRole,
    Provider,
    Region,
    RegionParentLink,
    Site,
)


@dataclass
class Province:
    core: int = 0
    district: int = 0
    district_switch: int = 0
    district_codec: int = 0
    communes: list[int] = field(default_factory=list)
    district_site: int = 0
    district_region: int = 0
    province_region: int = 0
    commune_sites: list[int] = field(default_factory=list)
    ids: tuple[int, int, int] = (0, 0, 0)  # device role, provider, circuit type

    @property
    def behind_district(self) -> list[int]:
        """Monitored devices cut off when the district router fails."""
        return [self.district_codec, *self.communes]


def _add(session: Session, obj: object) -> int:
    session.add(obj)
    session.flush()
    return obj.id  # type: ignore[attr-defined, no-any-return]


def build_province(session: Session, communes: int = 20) -> Province:
    p = Province()
    p.province_region = _add(session, Region(code="24", name="Tỉnh Bắc Giang", slug="bac-giang", level="province"))
    p.district_region = _add(session, Region(code="213", name="Huyện Yên Thế", slug="yen-the", level="district"))
    _add(session, RegionParentLink(region_id=p.district_region, parent_id=p.province_region))
    router = _add(session, DeviceRole(slug="router", name="Router"))
    provider = _add(session, Provider(slug="vnpt", name="VNPT"))
    ctype = _add(session, CircuitType(slug="tslcd", name="TSLCD"))

    dc = _add(session, Site(slug="dc", name="Trung tâm THDL", category="datacenter", region_id=p.province_region))
    p.district_site = _add(session, Site(slug="yen-the", name="UBND huyện Yên Thế", category="district",
                                         region_id=p.district_region))
    p.core = _add(session, Device(site_id=dc, name="core", role_id=router))
    p.district = _add(session, Device(site_id=p.district_site, name="yt-router", role_id=router))
    p.district_switch = _add(session, Device(site_id=p.district_site, name="yt-switch", role_id=router,
                                             monitoring_enabled=False))
    p.district_codec = _add(session, Device(site_id=p.district_site, name="yt-codec", role_id=router,
                                            parent_id=p.district_switch))

    link(session, provider, ctype, "TSL-YT", dc, p.core, p.district_site, p.district)
    p.ids = (router, provider, ctype)
    add_communes(session, p, communes)
    return p


def link(session: Session, provider: int, ctype: int, cid: str, a_site: int, a_dev: int, z_site: int,
         z_dev: int) -> None:
    """An active circuit from device ``a_dev`` down to device ``z_dev``."""
    c = _add(session, Circuit(provider_id=provider, cid=cid, type_id=ctype, status="active"))
    _add(session, CircuitTermination(circuit_id=c, term_side="A", site_id=a_site, device_id=a_dev))
    _add(session, CircuitTermination(circuit_id=c, term_side="Z", site_id=z_site, device_id=z_dev))


def add_communes(session: Session, p: Province, n: int) -> None:
    """``n`` more communes behind the district router, each with its region, site, router and circuit."""
    router, provider, ctype = p.ids
    for i in range(len(p.communes), len(p.communes) + n):
        region = _add(session, Region(code=f"0{7000 + i}", name=f"Xã {i}", slug=f"xa-{i}", level="commune"))
        _add(session, RegionParentLink(region_id=region, parent_id=p.district_region))
        site = _add(session, Site(slug=f"xa-{i}", name=f"UBND xã {i}", category="commune", region_id=region))
        p.commune_sites.append(site)
        p.communes.append(_add(session, Device(site_id=site, name=f"xa-{i}-router", role_id=router)))
        link(session, provider, ctype, f"TSL-X{i}", p.district_site, p.district, site, p.communes[-1])
    session.commit()

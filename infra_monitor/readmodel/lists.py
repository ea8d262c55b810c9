"""Flat lists for the inventory pages and the map: circuits with both ends, regions with coordinates."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Connection

from inventory.choices import RegionLevelChoices
from inventory.dated import REGION
from inventory.models import Circuit, CircuitTermination, CircuitType, Provider, Site

CIRCUIT = Circuit.__table__.c  # type: ignore[attr-defined]
PROV = Provider.__table__.c  # type: ignore[attr-defined]
CTYPE = CircuitType.__table__.c  # type: ignore[attr-defined]


@dataclass(frozen=True)
class CircuitListRow:
    id: int
    cid: str
    provider: str
    type: str
    status: str
    commit_rate_kbps: int | None
    a_site: str | None
    z_site: str | None
    z_slug: str | None


@dataclass(frozen=True)
class RegionPoint:
    code: str
    name: str
    latitude: float
    longitude: float


def circuit_list(conn: Connection) -> list[CircuitListRow]:
    """Every circuit with provider, type and the sites of its A and Z ends (one query)."""
    a = CircuitTermination.__table__.alias("a")  # type: ignore[attr-defined]
    z = CircuitTermination.__table__.alias("z")  # type: ignore[attr-defined]
    sa = Site.__table__.alias("sa")  # type: ignore[attr-defined]
    sz = Site.__table__.alias("sz")  # type: ignore[attr-defined]
    stmt = (select(CIRCUIT.id, CIRCUIT.cid, CIRCUIT.status, CIRCUIT.commit_rate_kbps, PROV.name.label("provider"),
                   CTYPE.name.label("type"), sa.c.name.label("a_site"), sz.c.name.label("z_site"),
                   sz.c.slug.label("z_slug"))
            .join(Provider, PROV.id == CIRCUIT.provider_id).join(CircuitType, CTYPE.id == CIRCUIT.type_id)
            .outerjoin(a, (a.c.circuit_id == CIRCUIT.id) & (a.c.term_side == "A"))
            .outerjoin(z, (z.c.circuit_id == CIRCUIT.id) & (z.c.term_side == "Z"))
            .outerjoin(sa, sa.c.id == a.c.site_id).outerjoin(sz, sz.c.id == z.c.site_id)
            .order_by(CIRCUIT.cid))
    return [CircuitListRow(r.id, r.cid, r.provider, r.type, r.status, r.commit_rate_kbps, r.a_site, r.z_site,
                           r.z_slug) for r in conn.execute(stmt)]


def district_points(conn: Connection) -> list[RegionPoint]:
    """District-level regions that have coordinates (map labels)."""
    stmt = (select(REGION.code, REGION.name, REGION.latitude, REGION.longitude)
            .where(REGION.level == RegionLevelChoices.DISTRICT, REGION.latitude.is_not(None),
                   REGION.longitude.is_not(None)))
    return [RegionPoint(r.code, r.name, r.latitude, r.longitude) for r in conn.execute(stmt)]


__all__ = ["CircuitListRow", "RegionPoint", "circuit_list", "district_points"]

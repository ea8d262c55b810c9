"""The administrative structure as it was on a date ("as of" queries), from dated parent links.

Regions are never overwritten: a region exists on ``d`` when ``valid_from <= d < valid_to`` (open ends
allowed), and its parent on ``d`` is the ``RegionParentLink`` valid on ``d``. A site keeps the region it was
registered in; after that region is merged, the site counts under the successor (followed until a region
that exists on the date), so a site never loses its history. Every function here runs a constant number of
queries, whatever the number of regions or sites.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from inventory.models import Region, RegionParentLink, Site


@dataclass(frozen=True)
class RegionNode:
    """A region as it stood on a date: its parent then (None for a root)."""

    id: int
    code: str
    name: str
    level: str
    parent_id: int | None


def _exists_on(d: date) -> ColumnElement[bool]:
    start, end = col(Region.valid_from), col(Region.valid_to)
    return and_(or_(start.is_(None), start <= d), or_(end.is_(None), end > d))


def regions_as_of(session: Session, d: date) -> list[RegionNode]:
    """Every region that existed on ``d`` with its parent on ``d``, ordered by code (two queries)."""
    link_end = col(RegionParentLink.valid_to)
    links = session.execute(
        select(col(RegionParentLink.region_id), col(RegionParentLink.parent_id)).where(
            col(RegionParentLink.valid_from) <= d, or_(link_end.is_(None), link_end > d))).all()
    parent_of = {region_id: parent_id for region_id, parent_id in links}
    rows = session.execute(
        select(col(Region.id), col(Region.code), col(Region.name), col(Region.level)).where(_exists_on(d))
        .order_by(col(Region.code))).all()
    alive = {r.id for r in rows}
    return [RegionNode(r.id, r.code, r.name, r.level, parent_of.get(r.id) if parent_of.get(r.id) in alive else None)
            for r in rows]


def descendants(session: Session, region_id: int, d: date) -> list[RegionNode]:
    """The regions below ``region_id`` on ``d`` (children, grandchildren…), parents before children."""
    children: dict[int | None, list[RegionNode]] = defaultdict(list)
    for node in regions_as_of(session, d):
        children[node.parent_id].append(node)
    out: list[RegionNode] = []
    queue = [region_id]
    seen = {region_id}
    while queue:
        current = queue.pop(0)
        for child in children.get(current, []):
            if child.id not in seen:
                seen.add(child.id)
                out.append(child)
                queue.append(child.id)
    return out


class _Successors:
    """Region validity and successors, loaded once, to map a region to the one in force on a date."""

    def __init__(self, session: Session) -> None:
        rows = session.execute(select(col(Region.id), col(Region.valid_from), col(Region.valid_to),
                                      col(Region.successor_id))).all()
        self.rows = {r.id: r for r in rows if r.id is not None}

    def on(self, region_id: int | None, d: date) -> int | None:
        seen: set[int] = set()
        while region_id is not None and region_id not in seen:
            seen.add(region_id)
            r = self.rows.get(region_id)
            if r is None or (r.valid_from is not None and d < r.valid_from):
                return None
            if r.valid_to is None or d < r.valid_to:
                return region_id
            region_id = r.successor_id
        return None


def region_of_site_as_of(session: Session, site_id: int, d: date) -> RegionNode | None:
    """The region a site counted under on ``d``: its own, or the successor in force after merges.

    None when the site has no region, or its region did not exist yet on ``d``.
    """
    site = session.get(Site, site_id)
    if site is None:
        return None
    region_id = _Successors(session).on(site.region_id, d)
    if region_id is None:
        return None
    return next((n for n in regions_as_of(session, d) if n.id == region_id), None)


def site_regions_as_of(session: Session, d: date) -> dict[int, int | None]:
    """Site id → id of the region it counted under on ``d`` (None if none), for every site (two queries)."""
    successors = _Successors(session)
    rows = session.execute(select(col(Site.id), col(Site.region_id))).all()
    return {sid: successors.on(rid, d) for sid, rid in rows if sid is not None}

"""The administrative structure as it was on a date ("as of" queries) for the CLI, the API and imports.

The rules (validity, parent, name, successor) are :mod:`inventory.dated`'s; this module shapes them into
:class:`RegionNode` lists and site → region maps. Every function here runs a constant number of queries,
whatever the number of regions or sites.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from inventory.dated import load_regions
from inventory.models import Site


@dataclass(frozen=True)
class RegionNode:
    """A region as it stood on a date: its name and type then, its parent then (None for a root)."""

    id: int
    code: str
    name: str
    level: str
    parent_id: int | None
    unit_type: str = ""


def regions_as_of(session: Session, d: date) -> list[RegionNode]:
    """Every region in force on ``d`` with its name and parent on ``d`` (the parent only when it is in force
    too), ordered by code (three queries)."""
    regions = load_regions(session.connection(), d)
    out = []
    for region_id in regions.alive:
        info = regions.tree.regions[region_id]
        out.append(RegionNode(info.id, info.code, info.name, info.level, regions.parent_on(region_id),
                              info.unit_type))
    return sorted(out, key=lambda n: (n.code, n.id))


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


def region_of_site_as_of(session: Session, site_id: int, d: date) -> RegionNode | None:
    """The region a site counted under on ``d``: its own, or the successor in force after merges.

    None when the site has no region, or its region did not exist yet on ``d``.
    """
    site = session.get(Site, site_id)
    if site is None:
        return None
    region_id = load_regions(session.connection(), d).resolve(site.region_id)
    if region_id is None:
        return None
    return next((n for n in regions_as_of(session, d) if n.id == region_id), None)


def site_regions_as_of(session: Session, d: date) -> dict[int, int | None]:
    """Site id → id of the region it counted under on ``d`` (None if none), for every site (four queries)."""
    regions = load_regions(session.connection(), d)
    rows = session.execute(select(col(Site.id), col(Site.region_id))).all()
    return {sid: regions.resolve(rid) for sid, rid in rows if sid is not None}

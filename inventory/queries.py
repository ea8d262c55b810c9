"""The administrative structure as it was on a date ("as of" queries), from dated parent links.

Regions are never overwritten: a region exists on ``d`` when ``valid_from <= d < valid_to`` (open ends
allowed), its parent on ``d`` is the ``RegionParentLink`` valid on ``d``, and its name on ``d`` follows its
recorded renames (:func:`name_on`, the one rule, also used by the status page's
:func:`infra_monitor.readmodel.regions.load_regions`). A site keeps the region it was
registered in; after that region is merged, the site counts under the successor (followed until a region
that exists on the date), so a site never loses its history. Every function here runs a constant number of
queries, whatever the number of regions or sites.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from inventory.choices import RegionChangeKindChoices
from inventory.models import Region, RegionChange, RegionParentLink, Site


@dataclass(frozen=True)
class RegionNode:
    """A region as it stood on a date: its name and type then, its parent then (None for a root)."""

    id: int
    code: str
    name: str
    level: str
    parent_id: int | None
    unit_type: str = ""


# --- dated names ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rename:
    """A recorded rename: ``name`` (and ``unit_type`` unless None) in force for the region from ``date`` on."""

    region_id: int
    date: date
    name: str
    unit_type: str | None = None


class DatedName(NamedTuple):
    """The name and unit type of a region on one date."""

    name: str
    unit_type: str


def name_on(name: str, unit_type: str, renames: Iterable[Rename], d: date) -> DatedName:
    """The one rule for "the name of region R on date D".

    ``name``/``unit_type`` are the region's own (as created); ``renames`` are its recorded renames. The name
    on ``d`` is that of the latest rename dated on or before ``d``, else the region's own; likewise the unit
    type, from the latest such rename that gives one (a rename without ``unit_type`` keeps the type).
    """
    for rename in sorted((r for r in renames if r.date <= d), key=lambda r: r.date):
        name = rename.name
        if rename.unit_type is not None:
            unit_type = rename.unit_type
    return DatedName(name, unit_type)


def rename_select() -> Select[int, date, str | None, str | None]:
    """Every recorded rename (region_id, date, new_name, new_unit_type): one query, for Session or Connection."""
    return (select(col(RegionChange.region_id), col(RegionChange.date), col(RegionChange.new_name),
                   col(RegionChange.new_unit_type))
            .where(col(RegionChange.kind) == RegionChangeKindChoices.RENAME))


def renames_by_region(rows: Iterable[Any]) -> dict[int, list[Rename]]:
    """Rows of :func:`rename_select` grouped by region (rows without a name are ignored)."""
    out: dict[int, list[Rename]] = defaultdict(list)
    for region_id, when, new_name, new_unit_type in rows:
        if new_name:
            out[region_id].append(Rename(region_id, when, new_name, new_unit_type or None))
    return dict(out)


def _exists_on(d: date) -> ColumnElement[bool]:
    start, end = col(Region.valid_from), col(Region.valid_to)
    return and_(or_(start.is_(None), start <= d), or_(end.is_(None), end > d))


def regions_as_of(session: Session, d: date) -> list[RegionNode]:
    """Every region that existed on ``d`` with its name (:func:`name_on`) and parent on ``d``, ordered by code
    (three queries)."""
    link_end = col(RegionParentLink.valid_to)
    links = session.execute(
        select(col(RegionParentLink.region_id), col(RegionParentLink.parent_id)).where(
            col(RegionParentLink.valid_from) <= d, or_(link_end.is_(None), link_end > d))).all()
    parent_of = {region_id: parent_id for region_id, parent_id in links}
    renames = renames_by_region(session.execute(rename_select()))
    rows = session.execute(
        select(col(Region.id), col(Region.code), col(Region.name), col(Region.level), col(Region.unit_type))
        .where(_exists_on(d)).order_by(col(Region.code))).all()
    alive = {r.id for r in rows}
    out = []
    for r in rows:
        named = name_on(r.name, r.unit_type, renames.get(r.id, ()), d)
        parent = parent_of.get(r.id)
        out.append(RegionNode(r.id, r.code, named.name, r.level, parent if parent in alive else None,
                              named.unit_type))
    return out


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

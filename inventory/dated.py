"""Dated regions, the one owner of "as it was on date D": validity, parents, names, successors, the tree.

Regions are never overwritten. The rules, written once here and used by every reader (the status engine,
the status page, reports, the REST API, the CLI's ``regions --as-of``):

* **validity**: a dated row (region, parent link, coverage target) is in force on ``d`` when
  ``valid_from <= d < valid_to``; a missing end is open (:func:`valid_on`, and :func:`in_force_on` as a SQL
  condition that combines with filters and paging);
* **parent**: a region's parent on ``d`` is that of its parent link in force on ``d``; of several, the one
  that started last wins (ties: the later row) — :meth:`RegionTree.build`;
* **name**: the latest recorded rename dated on or before ``d``, else the region's own (:func:`name_on`);
* **successor**: a region that ended hands over to its successor, followed until a region in force on ``d``;
  a region that did not exist yet on ``d`` is nothing then (:meth:`Regions.resolve`). A site keeps the region
  it was registered in and counts under the successor in force, so it never loses its history.

:func:`load_regions` reads all of it in three queries whatever the number of regions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.engine import Connection

from inventory.choices import RegionChangeKindChoices, RegionLevelChoices
from inventory.models import Region, RegionChange, RegionParentLink

REGION = Region.__table__.c  # type: ignore[attr-defined]
LINK = RegionParentLink.__table__.c  # type: ignore[attr-defined]
CHANGE = RegionChange.__table__.c  # type: ignore[attr-defined]


# --- validity ------------------------------------------------------------------------------------------

def valid_on(valid_from: date | None, valid_to: date | None, d: date) -> bool:
    """In force on ``d``: ``valid_from`` inclusive, ``valid_to`` exclusive, None = open."""
    return (valid_from is None or valid_from <= d) and (valid_to is None or d < valid_to)


def in_force_on(model: Any, d: date) -> ColumnElement[bool]:
    """:func:`valid_on` as a SQL condition over ``model.valid_from`` / ``model.valid_to``."""
    return and_(or_(model.valid_from.is_(None), model.valid_from <= d),
                or_(model.valid_to.is_(None), model.valid_to > d))


# --- names ----------------------------------------------------------------------------------------------

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
    """The name of region R on date D.

    ``name``/``unit_type`` are the region's own (as created); ``renames`` are its recorded renames. The name
    on ``d`` is that of the latest rename dated on or before ``d``, else the region's own; likewise the unit
    type, from the latest such rename that gives one (a rename without ``unit_type`` keeps the type).
    """
    for rename in sorted((r for r in renames if r.date <= d), key=lambda r: r.date):
        name = rename.name
        if rename.unit_type is not None:
            unit_type = rename.unit_type
    return DatedName(name, unit_type)


def rename_select() -> Select[Any]:
    """Every recorded rename (region_id, date, new_name, new_unit_type): one query, for Session or Connection."""
    return (select(CHANGE.region_id, CHANGE.date, CHANGE.new_name, CHANGE.new_unit_type)
            .where(CHANGE.kind == RegionChangeKindChoices.RENAME))


def renames_by_region(rows: Iterable[Any]) -> dict[int, list[Rename]]:
    """Rows of :func:`rename_select` grouped by region (rows without a name are ignored)."""
    out: dict[int, list[Rename]] = defaultdict(list)
    for region_id, when, new_name, new_unit_type in rows:
        if new_name:
            out[region_id].append(Rename(region_id, when, new_name, new_unit_type or None))
    return dict(out)


# --- the tree on one date -------------------------------------------------------------------------------

@dataclass(frozen=True)
class RegionInfo:
    """A region as shown on one date: ``name`` and ``unit_type`` are those in force then (after renames)."""

    id: int
    code: str = ""
    slug: str = ""
    name: str = ""
    level: str = ""
    unit_type: str = ""


@dataclass(frozen=True)
class ParentLink:
    """``region_id`` is below ``parent_id`` during [valid_from, valid_to) (None = open)."""

    region_id: int
    parent_id: int
    valid_from: date | None = None
    valid_to: date | None = None

    def valid_on(self, day: date) -> bool:
        return valid_on(self.valid_from, self.valid_to, day)


@dataclass
class RegionTree:
    """Regions and their parent at one date (plain data: the status engine's input)."""

    regions: dict[int, RegionInfo] = field(default_factory=dict)
    parent: dict[int, int] = field(default_factory=dict)

    @classmethod
    def build(cls, regions: Iterable[RegionInfo], links: Iterable[ParentLink], on: date) -> RegionTree:
        """Tree valid on ``on``; of several links valid that day the one starting last wins (ties: the later)."""
        valid = sorted((lk for lk in links if lk.valid_on(on)), key=lambda lk: lk.valid_from or date.min)
        return cls(regions={r.id: r for r in regions}, parent={lk.region_id: lk.parent_id for lk in valid})

    def ancestors(self, region_id: int) -> list[int]:
        """``region_id`` then its parent, grandparent… (cycle-safe)."""
        out: list[int] = []
        current: int | None = region_id
        while current is not None and current not in out:
            out.append(current)
            current = self.parent.get(current)
        return out

    def descendants(self) -> dict[int, set[int]]:
        """Every region → all regions below it (not itself)."""
        out: dict[int, set[int]] = {r: set() for r in self.regions}
        for r in set(self.regions) | set(self.parent):
            for a in self.ancestors(r)[1:]:
                out.setdefault(a, set()).add(r)
        return out

    def keys(self, region_id: int | None) -> frozenset[str]:
        """Codes and slugs of ``region_id`` and every region above it: what a channel's ``regions`` match."""
        if region_id is None:
            return frozenset()
        out: set[str] = set()
        for r in self.ancestors(region_id):
            info = self.regions.get(r)
            if info is not None:
                out.update(k for k in (info.code, info.slug) if k)
        return frozenset(out)

    def level(self, region_id: int | None) -> str:
        info = self.regions.get(region_id) if region_id is not None else None
        return info.level if info is not None else ""

    def name(self, region_id: int | None) -> str:
        info = self.regions.get(region_id) if region_id is not None else None
        return info.name if info is not None else ""


@dataclass
class Regions:
    """The structure on ``on``: the tree, which regions are in force, and how ended ones hand over."""

    tree: RegionTree
    on: date
    alive: set[int] = field(default_factory=set)
    successor: dict[int, int] = field(default_factory=dict)
    starts: dict[int, date] = field(default_factory=dict)  # valid_from of regions that have one

    def resolve(self, region_id: int | None) -> int | None:
        """The region in force on the date for ``region_id``: itself, or its successor (followed) after it
        ended; None if it did not exist yet, or ended without a successor in force."""
        seen: set[int] = set()
        while region_id is not None and region_id not in seen:
            seen.add(region_id)
            if region_id in self.alive:
                return region_id
            start = self.starts.get(region_id)
            if start is not None and self.on < start:
                return None  # not created yet: nothing counts under it on this date
            region_id = self.successor.get(region_id)
        return None

    def by_code(self, code: str) -> RegionInfo | None:
        found = [r for r in self.tree.regions.values() if r.code == code or r.slug == code]
        return next((r for r in found if r.id in self.alive), found[0] if found else None)

    def districts(self) -> list[RegionInfo]:
        return sorted((r for r in self.tree.regions.values()
                       if r.level == RegionLevelChoices.DISTRICT and r.id in self.alive), key=lambda r: r.code)

    def info(self, region_id: int | None) -> RegionInfo | None:
        """The region in force for ``region_id`` (after merges)."""
        current = self.resolve(region_id)
        return self.tree.regions.get(current) if current is not None else None

    def parent_on(self, region_id: int) -> int | None:
        """The parent of ``region_id`` on the date, when that parent is in force then."""
        parent = self.tree.parent.get(region_id)
        return parent if parent in self.alive else None

    def district_of(self, region_id: int | None) -> RegionInfo | None:
        """The district-level region containing ``region_id`` (itself when it is a district) on the date."""
        current = self.resolve(region_id)
        if current is None:
            return None
        for r in self.tree.ancestors(current):
            info = self.tree.regions.get(r)
            if info is not None and info.level == RegionLevelChoices.DISTRICT:
                return info
        return None

    def under(self, region_id: int) -> set[int]:
        """Every region id (merged ones included) that resolves to ``region_id`` or a region below it."""
        return {r for r in self.tree.regions
                if (res := self.resolve(r)) is not None and region_id in self.tree.ancestors(res)}


def load_regions(conn: Connection, on: date) -> Regions:
    """Every region with its name on ``on``, validity and successor, and the parent links in force on ``on``
    (three queries: regions, links, renames)."""
    rows = conn.execute(select(REGION.id, REGION.code, REGION.slug, REGION.name, REGION.level, REGION.unit_type,
                               REGION.valid_from, REGION.valid_to, REGION.successor_id)).all()
    links = [ParentLink(r.region_id, r.parent_id, r.valid_from, r.valid_to)
             for r in conn.execute(select(LINK.region_id, LINK.parent_id, LINK.valid_from, LINK.valid_to)
                                   .order_by(LINK.id))]
    renames = renames_by_region(conn.execute(rename_select()))
    infos = []
    for r in rows:
        named = name_on(r.name or "", r.unit_type or "", renames.get(r.id, ()), on)
        infos.append(RegionInfo(id=r.id, code=r.code or "", slug=r.slug or "", name=named.name,
                                level=r.level or "", unit_type=named.unit_type))
    return Regions(tree=RegionTree.build(infos, links, on), on=on,
                   alive={r.id for r in rows if valid_on(r.valid_from, r.valid_to, on)},
                   successor={r.id: r.successor_id for r in rows if r.successor_id is not None},
                   starts={r.id: r.valid_from for r in rows if r.valid_from is not None})

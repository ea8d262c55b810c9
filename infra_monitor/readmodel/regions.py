"""The administrative structure on one date for the status page: regions in force, parents, successors.

Loaded with three queries (regions with validity and successor; dated parent links; recorded renames, so a
region shows the name in force on the date, by :func:`inventory.queries.name_on`) and cached by the read
model until a region or a link changes. A site keeps the region it was registered in; after a merge it
counts under the successor in force on the date, as in :mod:`inventory.queries`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.engine import Connection

from infra_monitor.status.regions import ParentLink, RegionInfo, RegionTree
from inventory.choices import RegionLevelChoices
from inventory.models import Region, RegionChange, RegionParentLink
from inventory.queries import name_on, rename_select, renames_by_region

REGION = Region.__table__.c  # type: ignore[attr-defined]
LINK = RegionParentLink.__table__.c  # type: ignore[attr-defined]
CHANGE = RegionChange.__table__.c  # type: ignore[attr-defined]


@dataclass
class Regions:
    """Which regions exist on ``on``, their parents then, and the successor of each region merged away."""

    tree: RegionTree
    on: date
    alive: set[int] = field(default_factory=set)
    successor: dict[int, int] = field(default_factory=dict)

    def resolve(self, region_id: int | None) -> int | None:
        """The region in force on the date for ``region_id`` (None if it did not exist yet or ended without
        successor)."""
        seen: set[int] = set()
        while region_id is not None and region_id not in seen:
            seen.add(region_id)
            if region_id in self.alive:
                return region_id
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
    """Regions with their name on ``on``, their validity and successors, and the parent links valid on ``on``
    (three queries: regions, links, renames; names by :func:`inventory.queries.name_on`)."""
    rows = conn.execute(select(REGION.id, REGION.code, REGION.slug, REGION.name, REGION.level, REGION.unit_type,
                               REGION.valid_from, REGION.valid_to, REGION.successor_id)).all()
    links = [ParentLink(r.region_id, r.parent_id, r.valid_from, r.valid_to)
             for r in conn.execute(select(LINK.region_id, LINK.parent_id, LINK.valid_from, LINK.valid_to))]
    renames = renames_by_region(conn.execute(rename_select()))
    infos = []
    for r in rows:
        named = name_on(r.name, r.unit_type, renames.get(r.id, ()), on)
        infos.append(RegionInfo(id=r.id, code=r.code, slug=r.slug, name=named.name, level=r.level,
                                unit_type=named.unit_type))
    tree = RegionTree.build(infos, links, on)
    alive = {r.id for r in rows
             if (r.valid_from is None or r.valid_from <= on) and (r.valid_to is None or on < r.valid_to)}
    successor = {r.id: r.successor_id for r in rows if r.successor_id is not None}
    return Regions(tree=tree, on=on, alive=alive, successor=successor)

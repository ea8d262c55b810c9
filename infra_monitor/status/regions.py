"""The administrative tree as the status engine needs it: parents valid at one date, levels, codes.

Plain data built from the region table and its dated parent links; used to scope maintenance windows
("this district and everything below it") and to filter notification channels by region and level.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date


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
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day < self.valid_to)


@dataclass
class RegionTree:
    """Regions and their parent at one date."""

    regions: dict[int, RegionInfo] = field(default_factory=dict)
    parent: dict[int, int] = field(default_factory=dict)

    @classmethod
    def build(cls, regions: Iterable[RegionInfo], links: Iterable[ParentLink], on: date) -> RegionTree:
        """Tree valid on ``on``; of several links valid that day the one starting last wins."""
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

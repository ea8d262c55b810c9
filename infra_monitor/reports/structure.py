"""The administrative structure a report counts against, on its as-of date.

Sites keep the region they were registered in; on the as-of date each counts under the unit in force then
(following merges to the successor, :meth:`Regions.resolve`) and under that unit's district, when the
structure has districts on that date. After the 2025 reorganisation there are none: communes sit directly
under the province, and the per-district tables group them under the province instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from inventory.choices import RegionLevelChoices
from inventory.dated import RegionInfo, Regions


@dataclass(frozen=True)
class Placement:
    unit: RegionInfo | None        # the unit in force on the date (None: none, the region ended or is not yet valid)
    group: RegionInfo | None       # its district on the date, else the top of its tree (the province)


def placement(regions: Regions, region_id: int | None) -> Placement:
    unit = regions.info(region_id)
    if unit is None:
        return Placement(None, None)
    district = regions.district_of(unit.id)
    if district is not None:
        return Placement(unit, district)
    top = regions.tree.ancestors(unit.id)[-1]
    return Placement(unit, regions.tree.regions.get(top))


def units_in_force(regions: Regions, level: str) -> list[RegionInfo]:
    return sorted((r for r in regions.tree.regions.values() if r.level == level and r.id in regions.alive),
                  key=lambda r: r.code)


def province_in_force(regions: Regions) -> RegionInfo | None:
    provinces = units_in_force(regions, RegionLevelChoices.PROVINCE)
    return provinces[0] if provinces else None


def has_districts(regions: Regions) -> bool:
    return bool(units_in_force(regions, RegionLevelChoices.DISTRICT))

"""Administrative units (province → district → commune) with dated parent links and recorded changes.

Units change (merges, the 2025 abolition of districts, renames); their official codes are permanent. So a
region never has its parent or name overwritten: ``RegionParentLink`` rows carry validity dates, and
``RegionChange`` records each reorganisation (a ``rename`` dates a new name).
:func:`inventory.queries.regions_as_of` answers "what was the structure at date D".
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field

from inventory.models.base import InventoryModel, SearchText


class Region(InventoryModel, table=True):
    __tablename__ = "region"
    natural_key: ClassVar[tuple[str, ...]] = ("code",)
    api_path: ClassVar[str] = "dcim/regions"

    code: str = Field(max_length=20, unique=True, description="official unit code, permanent")
    name: str = Field(max_length=200)
    slug: str = Field(max_length=100, unique=True)
    level: str = Field(max_length=20, index=True)
    unit_type: str = Field(default="", max_length=50, description="xã, phường, thị trấn, huyện, thành phố…")
    valid_from: date | None = None
    valid_to: date | None = Field(default=None, description="exclusive end date; null while it exists")
    successor_id: int | None = Field(default=None, foreign_key="region.id", ondelete="RESTRICT")
    latitude: float | None = None
    longitude: float | None = None
    description: str = Field(default="", max_length=500)
    search_text: str = SearchText()

    def display(self) -> str:
        return f"{self.code} {self.name}"


class RegionParentLink(InventoryModel, table=True):
    """A region's parent during [valid_from, valid_to)."""

    __tablename__ = "region_parent_link"
    __table_args__ = (
        UniqueConstraint("region_id", "valid_from", name="uq_region_parent_link_region_from"),
        Index("ix_region_parent_link_parent", "parent_id"),
    )

    region_id: int = Field(foreign_key="region.id", ondelete="CASCADE", index=True)
    parent_id: int = Field(foreign_key="region.id", ondelete="RESTRICT")
    valid_from: date = Field(default=date(1900, 1, 1))
    valid_to: date | None = None

    def display(self) -> str:
        return f"region #{self.region_id} in #{self.parent_id} from {self.valid_from}"


class RegionChange(InventoryModel, table=True):
    """A recorded reorganisation at a date: a merge into a successor, a change of parent, or a rename.

    A ``rename`` carries ``new_name`` (and optionally ``new_unit_type``): the name and type in force from
    ``date`` on; the region's own ``name``/``unit_type`` are the ones it was created with.
    :func:`inventory.dated.name_on` is the one rule for the name of a region on a date.
    """

    __tablename__ = "region_change"
    __table_args__ = (UniqueConstraint("region_id", "kind", "date", name="uq_region_change"),)
    natural_key: ClassVar[tuple[str, ...]] = ("region", "kind", "date")
    api_path: ClassVar[str] = "dcim/region-changes"

    region_id: int = Field(foreign_key="region.id", ondelete="CASCADE")
    kind: str = Field(max_length=20)
    date: date
    successor_id: int | None = Field(default=None, foreign_key="region.id", ondelete="RESTRICT")
    parent_id: int | None = Field(default=None, foreign_key="region.id", ondelete="RESTRICT")
    new_name: str | None = Field(default=None, max_length=200, description="rename: the name from date on")
    new_unit_type: str | None = Field(default=None, max_length=50,
                                      description="rename: the unit type from date on (null: unchanged)")
    note: str = Field(default="", max_length=500)

    def display(self) -> str:
        return f"{self.kind} of region #{self.region_id} on {self.date}"

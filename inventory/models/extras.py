"""Tags, journal entries, the change log (ObjectChange), the inventory's generation counter and the plan's
coverage targets."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from inventory.models.base import InventoryModel, UTCDateTime, utcnow


class Tag(InventoryModel, table=True):
    __tablename__ = "tag"
    natural_key: ClassVar[tuple[str, ...]] = ("slug",)
    api_path: ClassVar[str] = "extras/tags"

    slug: str = Field(max_length=100, unique=True)
    name: str = Field(max_length=100)
    color: str = Field(default="9e9e9e", max_length=6)


class CoverageTarget(InventoryModel, table=True):
    """The plan's target number of sites of one category (e.g. 230 communes for KH 59/2019)."""

    __tablename__ = "coverage_target"
    __table_args__ = (UniqueConstraint("plan", "category", name="uq_coverage_target_plan_category"),)
    natural_key: ClassVar[tuple[str, ...]] = ("plan", "category")
    api_path: ClassVar[str] = "extras/coverage-targets"

    plan: str = Field(max_length=100)
    category: str = Field(max_length=20)
    target: int = Field(ge=0)
    valid_from: date | None = None
    valid_to: date | None = None
    description: str = Field(default="", max_length=500)

    def display(self) -> str:
        return f"{self.plan}/{self.category}"


class JournalEntry(InventoryModel, table=True):
    __tablename__ = "journal_entry"
    __table_args__ = (Index("ix_journal_entry_object", "object_type", "object_id"),)
    api_path: ClassVar[str] = "extras/journal-entries"

    object_type: str = Field(max_length=50)
    object_id: int
    author: str = Field(default="", max_length=100)
    kind: str = Field(default="info", max_length=10)
    comments: str

    def display(self) -> str:
        return f"{self.object_type} #{self.object_id}"


class ObjectChange(SQLModel, table=True):
    """One write to the inventory: who, when, which request, before and after (secrets masked)."""

    __tablename__ = "object_change"
    __table_args__ = (
        Index("ix_object_change_object", "object_type", "object_id"),
        Index("ix_object_change_request", "request_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    time: datetime = UTCDateTime(default_factory=utcnow, index=True)
    actor: str = Field(default="", max_length=100)
    request_id: str = Field(max_length=36)
    action: str = Field(max_length=10)
    object_type: str = Field(max_length=50)
    object_id: int | None = None
    object_repr: str = Field(default="", max_length=200)
    prechange_data: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    postchange_data: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    # where the values came from when not typed by the actor (e.g. "snmp discovery 2026-12-07T14:03Z")
    source: str | None = Field(default=None, max_length=200)


class InventoryGeneration(SQLModel, table=True):
    """One row (id 1) whose ``n`` grows by one in every transaction that changes the inventory (written by
    :mod:`inventory.changelog` beside the transaction's ObjectChanges): what data derived from the inventory
    (the status store's site tallies) compares to know whether it is current. A counter rather than the
    change log's largest id, because ids are handed out before commit and may commit out of order."""

    __tablename__ = "inventory_generation"

    id: int = Field(default=1, primary_key=True)
    n: int = 0

"""Shared pieces of every inventory table: id, timestamps, custom fields, tags, UTC datetimes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


def UTCDateTime(**kw: Any) -> Any:  # noqa: N802 - reads like a column type
    """A timezone-aware UTC datetime column."""
    return Field(sa_type=DateTime(timezone=True), **kw)  # type: ignore[call-overload]


class InventoryModel(SQLModel):
    """Base of every inventory table (NetBox's ChangeLoggedModel): id and change timestamps."""

    # natural key fields, used by import/export and error messages
    natural_key: ClassVar[tuple[str, ...]] = ()
    # fields never returned by the API nor exported without --include-secrets
    secret_fields: ClassVar[tuple[str, ...]] = ()
    # API path segment, e.g. "dcim/sites"
    api_path: ClassVar[str] = ""

    id: int | None = Field(default=None, primary_key=True)
    created: datetime = UTCDateTime(default_factory=utcnow)
    last_updated: datetime = UTCDateTime(default_factory=utcnow)

    def display(self) -> str:
        return str(getattr(self, "name", None) or getattr(self, "slug", None) or f"#{self.id}")


class PrimaryModel(InventoryModel):
    """Primary objects also carry a description, tags (slugs) and custom fields (JSON)."""

    description: str = Field(default="", max_length=500)
    tags: list[str] = Field(default_factory=list, sa_type=JSON)
    custom_fields: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)

"""Shared pieces of every inventory table: id, timestamps, custom fields, tags, UTC datetimes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTimeType(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always returns them aware (SQLite keeps no offset itself)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: times are stored in UTC and must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def UTCDateTime(**kw: Any) -> Any:
    """A timezone-aware UTC datetime column."""
    return Field(sa_type=UTCDateTimeType, **kw)  # type: ignore[call-overload]


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
        """How the object is named in messages and in the change log."""
        name = getattr(self, "name", None) or getattr(self, "slug", None)
        return str(name or (f"#{self.id}" if self.id is not None else "(new)"))

    def clean(self, session: Session | None, lookup: Any = None) -> dict[str, list[str]]:
        """Every validation problem as ``{field: [message]}``; rules live in :mod:`inventory.validation`."""
        from inventory.validation import clean

        return clean(session, self, lookup)

    def full_clean(self, session: Session | None, lookup: Any = None) -> None:
        """:meth:`clean`, raising ``InventoryValidationError`` when anything is wrong."""
        from inventory.validation import full_clean

        full_clean(session, self, lookup)


def SearchText() -> Any:
    """ASCII-folded lowercase text for ``?q=`` search, kept current by :mod:`inventory.search` on flush."""
    return Field(default="", max_length=1000, index=False)


class PrimaryModel(InventoryModel):
    """Primary objects also carry a description, tags (slugs) and custom fields (JSON)."""

    description: str = Field(default="", max_length=500)
    tags: list[str] = Field(default_factory=list, sa_type=JSON)
    custom_fields: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)

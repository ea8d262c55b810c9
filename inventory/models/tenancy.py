"""Tenants: the agencies that own sites (Sở, UBND huyện, UBND xã…)."""

from __future__ import annotations

from typing import ClassVar

from sqlmodel import Field

from inventory.models.base import PrimaryModel, SearchText


class Tenant(PrimaryModel, table=True):
    __tablename__ = "tenant"
    natural_key: ClassVar[tuple[str, ...]] = ("slug",)
    api_path: ClassVar[str] = "tenancy/tenants"

    slug: str = Field(max_length=100, unique=True)
    name: str = Field(max_length=200)
    search_text: str = SearchText()

"""SNMP credential profiles: v1/v2c community or v3 user with auth/priv protocols and keys (secrets)."""

from __future__ import annotations

from typing import ClassVar

from sqlmodel import Field

from inventory.models.base import InventoryModel


class SnmpProfile(InventoryModel, table=True):
    __tablename__ = "snmp_profile"
    natural_key: ClassVar[tuple[str, ...]] = ("name",)
    secret_fields: ClassVar[tuple[str, ...]] = ("community", "auth_key", "priv_key")
    api_path: ClassVar[str] = "extras/snmp-profiles"

    name: str = Field(max_length=100, unique=True)
    version: str = Field(default="2c", max_length=2)
    community: str = Field(default="", max_length=128)
    user: str = Field(default="", max_length=64)
    auth_protocol: str | None = Field(default=None, max_length=10)
    auth_key: str = Field(default="", max_length=128)
    priv_protocol: str | None = Field(default=None, max_length=10)
    priv_key: str = Field(default="", max_length=128)
    port: int = Field(default=161, ge=1, le=65535)
    description: str = Field(default="", max_length=200)

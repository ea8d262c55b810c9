"""Sites, racks and devices (NetBox's dcim app), simplified for one province."""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field

from inventory.choices import DeviceStatusChoices, SiteStatusChoices
from inventory.models.base import InventoryModel, PrimaryModel, SearchText


class Site(PrimaryModel, table=True):
    __tablename__ = "site"
    natural_key: ClassVar[tuple[str, ...]] = ("slug",)
    api_path: ClassVar[str] = "dcim/sites"

    slug: str = Field(max_length=100, unique=True)
    name: str = Field(max_length=200, index=True)
    category: str = Field(max_length=20, index=True)
    status: str = Field(default=SiteStatusChoices.ACTIVE, max_length=20)
    region_id: int | None = Field(default=None, foreign_key="region.id", ondelete="RESTRICT", index=True)
    tenant_id: int | None = Field(default=None, foreign_key="tenant.id", ondelete="RESTRICT")
    latitude: float | None = None
    longitude: float | None = None
    address: str = Field(default="", max_length=300)
    search_text: str = SearchText()


class Location(InventoryModel, table=True):
    __tablename__ = "location"
    __table_args__ = (UniqueConstraint("site_id", "slug", name="uq_location_site_slug"),)
    natural_key: ClassVar[tuple[str, ...]] = ("site", "slug")
    api_path: ClassVar[str] = "dcim/locations"

    site_id: int = Field(foreign_key="site.id", ondelete="RESTRICT")
    slug: str = Field(max_length=100)
    name: str = Field(max_length=200)
    description: str = Field(default="", max_length=500)


class Rack(InventoryModel, table=True):
    __tablename__ = "rack"
    __table_args__ = (UniqueConstraint("site_id", "name", name="uq_rack_site_name"),)
    natural_key: ClassVar[tuple[str, ...]] = ("site", "name")
    api_path: ClassVar[str] = "dcim/racks"

    site_id: int = Field(foreign_key="site.id", ondelete="RESTRICT")
    location_id: int | None = Field(default=None, foreign_key="location.id", ondelete="RESTRICT")
    name: str = Field(max_length=100)
    u_height: int = Field(default=42, ge=1, le=100)
    description: str = Field(default="", max_length=500)


class Manufacturer(InventoryModel, table=True):
    __tablename__ = "manufacturer"
    natural_key: ClassVar[tuple[str, ...]] = ("slug",)
    api_path: ClassVar[str] = "dcim/manufacturers"

    slug: str = Field(max_length=100, unique=True)
    name: str = Field(max_length=100)


class DeviceType(InventoryModel, table=True):
    __tablename__ = "device_type"
    natural_key: ClassVar[tuple[str, ...]] = ("slug",)
    api_path: ClassVar[str] = "dcim/device-types"

    manufacturer_id: int = Field(foreign_key="manufacturer.id", ondelete="RESTRICT")
    model: str = Field(max_length=100)
    slug: str = Field(max_length=100, unique=True)


class DeviceRole(InventoryModel, table=True):
    __tablename__ = "device_role"
    natural_key: ClassVar[tuple[str, ...]] = ("slug",)
    api_path: ClassVar[str] = "dcim/device-roles"

    slug: str = Field(max_length=100, unique=True)
    name: str = Field(max_length=100)
    color: str = Field(default="9e9e9e", max_length=6)


class Platform(InventoryModel, table=True):
    __tablename__ = "platform"
    natural_key: ClassVar[tuple[str, ...]] = ("slug",)
    api_path: ClassVar[str] = "dcim/platforms"

    slug: str = Field(max_length=100, unique=True)
    name: str = Field(max_length=100)


class Device(PrimaryModel, table=True):
    __tablename__ = "device"
    __table_args__ = (
        UniqueConstraint("site_id", "name", name="uq_device_site_name"),
        Index("ix_device_monitoring", "monitoring_enabled", "poller_group"),
    )
    natural_key: ClassVar[tuple[str, ...]] = ("site", "name")
    api_path: ClassVar[str] = "dcim/devices"

    site_id: int = Field(foreign_key="site.id", ondelete="RESTRICT", index=True)
    name: str = Field(max_length=100)
    role_id: int = Field(foreign_key="device_role.id", ondelete="RESTRICT")
    device_type_id: int | None = Field(default=None, foreign_key="device_type.id", ondelete="RESTRICT")
    platform_id: int | None = Field(default=None, foreign_key="platform.id", ondelete="RESTRICT")
    status: str = Field(default=DeviceStatusChoices.ACTIVE, max_length=20)
    serial: str = Field(default="", max_length=50)
    asset_tag: str | None = Field(default=None, max_length=50, unique=True)
    rack_id: int | None = Field(default=None, foreign_key="rack.id", ondelete="RESTRICT")
    parent_id: int | None = Field(default=None, foreign_key="device.id", ondelete="RESTRICT", index=True)
    # No DB foreign key (device → ip → interface → device would be a cycle); validated in clean().
    primary_ip_id: int | None = Field(default=None, index=True)
    monitoring_enabled: bool = True
    snmp_profile_id: int | None = Field(default=None, foreign_key="snmp_profile.id", ondelete="RESTRICT")
    poller_group: str = Field(default="default", max_length=50)
    search_text: str = SearchText()


class Interface(InventoryModel, table=True):
    __tablename__ = "interface"
    __table_args__ = (UniqueConstraint("device_id", "name", name="uq_interface_device_name"),)
    natural_key: ClassVar[tuple[str, ...]] = ("device", "name")
    api_path: ClassVar[str] = "dcim/interfaces"

    device_id: int = Field(foreign_key="device.id", ondelete="CASCADE", index=True)
    name: str = Field(max_length=64)
    type: str = Field(default="1000base-t", max_length=50)
    speed_kbps: int | None = Field(default=None, ge=0)
    enabled: bool = True
    mgmt_only: bool = False
    description: str = Field(default="", max_length=200)

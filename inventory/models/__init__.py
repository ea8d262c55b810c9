"""Inventory tables, split by domain (NetBox style); import from here."""

from inventory.models.base import InventoryModel, PrimaryModel, utcnow
from inventory.models.circuits import Circuit, CircuitTermination, CircuitType, Provider
from inventory.models.dcim import (
    Device,
    DeviceRole,
    DeviceType,
    Interface,
    Location,
    Manufacturer,
    Platform,
    Rack,
    Site,
)
from inventory.models.extras import CoverageTarget, InventoryGeneration, JournalEntry, ObjectChange, Tag
from inventory.models.ipam import IPAddress
from inventory.models.regions import Region, RegionChange, RegionParentLink
from inventory.models.services import Service
from inventory.models.snmp import SnmpProfile
from inventory.models.tenancy import Tenant
from inventory.models.vc import VideoconferenceEndpoint

__all__ = [
    "Circuit", "CircuitTermination", "CircuitType", "CoverageTarget", "Device", "DeviceRole", "DeviceType",
    "IPAddress", "Interface", "InventoryGeneration", "InventoryModel", "JournalEntry", "Location", "Manufacturer",
    "ObjectChange",
    "Platform", "PrimaryModel", "Provider", "Rack", "Region", "RegionChange", "RegionParentLink", "Service",
    "Site", "SnmpProfile", "Tag", "Tenant", "VideoconferenceEndpoint", "utcnow",
]

# Session hooks that apply to every write: the change log and the search index (import order matters not).
import inventory.changelog
import inventory.search  # noqa: F401

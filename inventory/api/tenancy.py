"""tenancy endpoints: tenants, the agencies that own sites (Sở, UBND huyện, UBND xã…)."""

from __future__ import annotations

from inventory.api.resources import REGISTRY, Resource
from inventory.models import Tenant

DOMAIN = "tenancy"

RESOURCES = REGISTRY.add(Resource(Tenant))

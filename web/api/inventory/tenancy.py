"""tenancy endpoints: tenants, the agencies that own sites (Sở, UBND huyện, UBND xã…)."""

from __future__ import annotations

from inventory.models import Tenant
from web.api.inventory.resources import REGISTRY, Resource

DOMAIN = "tenancy"

RESOURCES = REGISTRY.add(Resource(Tenant))

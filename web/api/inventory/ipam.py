"""ipam endpoints: IP addresses. ``host`` is derived from ``address`` on every write, so it is read-only."""

from __future__ import annotations

from inventory.models import IPAddress
from web.api.inventory.resources import REGISTRY, Resource

DOMAIN = "ipam"

RESOURCES = REGISTRY.add(
    Resource(IPAddress, display=lambda o: o.address, read_only_fields=("host",)),
)

"""circuits endpoints: providers (VNPT, Viettel…), circuit types (TSLCD, WAN…), circuits and terminations."""

from __future__ import annotations

from inventory.models import Circuit, CircuitTermination, CircuitType, Provider
from web.api.inventory.resources import REGISTRY, Resource

DOMAIN = "circuits"

RESOURCES = REGISTRY.add(
    Resource(Provider),
    Resource(CircuitType),
    Resource(Circuit, display=lambda o: o.cid),
    Resource(CircuitTermination, path="circuits/circuit-terminations", brief_fields=("term_side",),
             display=lambda o: f"side {o.term_side} of circuit #{o.circuit_id}"),
)

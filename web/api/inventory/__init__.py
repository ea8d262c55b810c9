"""The inventory REST API (NetBox conventions), mounted under ``/api`` by :mod:`web.app`.

``/api/<domain>/<plural-kebab>/`` for every inventory table, one module per domain declaring its
resources; the generic machinery is in :mod:`web.api.inventory.crud` (endpoints), ``filters``, ``pagination``,
``serialize``, ``schemas``, ``writes``, ``bulk`` (list bodies) and ``auth``; what NetBox clients read besides (the
``API-Version`` header, ``/api/status/``) is in :mod:`web.api.inventory.netbox`.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from fastapi import APIRouter, Request

from web.api.inventory import circuits, core, dcim, extras, ipam, tenancy, vc
from web.api.inventory.crud import ROOT_ROUTE, api_root, register
from web.api.inventory.netbox import NetBoxRoute, add_status

DOMAINS: tuple[ModuleType, ...] = (dcim, circuits, ipam, tenancy, vc, extras, core)


def _domain_router(module: ModuleType) -> APIRouter:
    domain: str = module.DOMAIN
    router = APIRouter(prefix=f"/{domain}", tags=[domain], route_class=NetBoxRoute)
    for res in module.RESOURCES:
        if res.domain != domain:
            raise ValueError(f"{res.model.__name__} ({res.path}) declared in the {domain} module")
        register(router, res)

    @router.get("/", operation_id=f"{domain}_root", summary=f"Endpoints of {domain}")
    def domain_root(request: Request) -> dict[str, str]:
        root = api_root(request)
        return {res.plural: f"{root}{res.path}/" for res in module.RESOURCES}

    return router


def build_router() -> APIRouter:
    router = APIRouter(route_class=NetBoxRoute)

    @router.get("/", name=ROOT_ROUTE, operation_id="api_root", summary="API root", tags=["api"])
    def root(request: Request) -> dict[str, Any]:
        base = api_root(request)
        return {**{m.DOMAIN: f"{base}{m.DOMAIN}/" for m in DOMAINS}, "status": f"{base}status/"}

    add_status(router)

    for module in DOMAINS:
        router.include_router(_domain_router(module))
    return router


router = build_router()

__all__ = ["DOMAINS", "build_router", "router"]

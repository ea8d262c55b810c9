"""ipam endpoints: IP addresses and services.

An IP address's ``host`` is derived from ``address`` on every write, so it is read-only. Services
(``/api/ipam/services/``, NetBox's ``ipam.Service``) are validated by the model's rules on every write (http
without http_url, tcp without ports, a port out of range → ``{"field": ["message"]}``); besides the generic filters
(``device_id``, ``device``, ``kind``, ``tenant``, ``status``…) they take ``?site=<slug>``/``?site_id=`` (the
device's site) and ``?q=`` (name, URL, DNS name or description; case- and accent-insensitive).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, select

from inventory.models import Device, IPAddress, Service, Site
from inventory.search import fold
from web.api.inventory.filters import parse_value
from web.api.inventory.resources import REGISTRY, RequestContext, Resource

DOMAIN = "ipam"


def _service_site(values: list[str], _ctx: RequestContext) -> ColumnElement[bool]:
    device: Any = Device
    site: Any = Site
    return Service.device_id.in_(  # type: ignore[attr-defined,no-any-return]
        select(device.id).join(site, site.id == device.site_id).where(site.slug.in_(values)))


def _service_site_id(values: list[str], _ctx: RequestContext) -> ColumnElement[bool]:
    device: Any = Device
    ids = [parse_value(v, int) for v in values]
    return Service.device_id.in_(select(device.id).where(device.site_id.in_(ids)))  # type: ignore[attr-defined,no-any-return]


def _service_q(values: list[str], _ctx: RequestContext) -> ColumnElement[bool]:
    svc: Any = Service
    words = [w for v in values for w in fold(v).split()]
    return and_(*(svc.search_text.contains(w, autoescape=True) for w in words))


RESOURCES = REGISTRY.add(
    Resource(IPAddress, display=lambda o: o.address, read_only_fields=("host",)),
    Resource(Service, brief_fields=("name", "kind"),
             description="A service a device hosts (portal, e-mail, DNS…), checked by the probe of its kind.",
             filters={"site": _service_site, "site_id": _service_site_id, "q": _service_q}),
)

"""dcim endpoints: regions (dated structure), sites, locations, racks, device types/roles, devices, interfaces.

Regions answer ``?as_of=YYYY-MM-DD`` with the units that existed that day, each with the ``parent`` valid
that day (default: today); ``?parent=<code>`` / ``?parent_id=`` list the children at that date.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from inventory.dated import in_force_on
from inventory.models import (
    Device,
    DeviceRole,
    DeviceType,
    Interface,
    IPAddress,
    Location,
    Manufacturer,
    Platform,
    Rack,
    Region,
    RegionChange,
    RegionParentLink,
    Site,
)
from inventory.queries import regions_as_of
from web.api.inventory.filters import parse_value
from web.api.inventory.resources import REGISTRY, RequestContext, Resource
from web.api.inventory.schemas import brief_model
from web.api.inventory.serialize import brief

DOMAIN = "dcim"


valid_at = in_force_on  # the rule of :mod:`inventory.dated`, as a SQL condition


def _region_parents(session: Session, rows: list[Any], ctx: RequestContext) -> dict[int, dict[str, Any]]:
    """``parent`` of each region on the page at ``ctx.on``, by :func:`inventory.queries.regions_as_of`'s rule
    (the link valid that day, to a parent that existed that day): three queries for the whole page."""
    parent_of = {node.id: node.parent_id for node in regions_as_of(session, ctx.on)}
    parent_ids = sorted({p for r in rows if (p := parent_of.get(r.id)) is not None})
    region: Any = Region
    parents = {p.id: p for p in session.scalars(select(region).where(region.id.in_(parent_ids)))}
    region_res = REGISTRY.of(Region)
    out: dict[int, dict[str, Any]] = {}
    for r in rows:
        parent = parents.get(parent_of.get(r.id))  # type: ignore[arg-type]
        out[r.id] = {"parent": brief(region_res, parent, ctx) if parent is not None else None}
    return out


def _children_of(parent_ids: Any, ctx: RequestContext) -> ColumnElement[bool]:
    link: Any = RegionParentLink
    region: Any = Region
    child_ids = select(link.region_id).where(link.parent_id.in_(parent_ids), valid_at(link, ctx.on))
    return region.id.in_(child_ids)  # type: ignore[no-any-return]


def _parent_code_filter(values: list[str], ctx: RequestContext) -> ColumnElement[bool]:
    region: Any = Region
    return _children_of(select(region.id).where(region.code.in_(values)), ctx)


def _parent_id_filter(values: list[str], ctx: RequestContext) -> ColumnElement[bool]:
    return _children_of([parse_value(v, int) for v in values], ctx)


def _region_as_of(on: date) -> ColumnElement[bool]:
    return valid_at(Region, on)


_region = Resource(
    Region,
    description="An administrative unit (province, district, commune); codes are official and permanent.",
    annotate=_region_parents,
    filters={"parent": _parent_code_filter, "parent_id": _parent_id_filter},
    as_of_filter=_region_as_of,
)
_region.annotated_fields = {"parent": brief_model(_region) | None}

RESOURCES = REGISTRY.add(
    _region,
    Resource(RegionParentLink, path="dcim/region-parent-links", brief_fields=("valid_from", "valid_to"),
             display=lambda o: f"#{o.region_id} → #{o.parent_id} from {o.valid_from}"),
    Resource(RegionChange, brief_fields=("kind", "date"), display=lambda o: f"{o.kind} on {o.date}"),
    Resource(Site),
    Resource(Location),
    Resource(Rack),
    Resource(Manufacturer),
    Resource(DeviceType, display=lambda o: o.model),
    Resource(DeviceRole),
    Resource(Platform),
    Resource(Device, extra_relations={"primary_ip": ("primary_ip_id", IPAddress)}),
    Resource(Interface),
)

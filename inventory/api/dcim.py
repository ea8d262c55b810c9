"""dcim endpoints: regions (dated structure), sites, locations, racks, device types/roles, devices, interfaces.

Regions answer ``?as_of=YYYY-MM-DD`` with the units that existed that day, each with the ``parent`` valid
that day (default: today); ``?parent=<code>`` / ``?parent_id=`` list the children at that date.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from inventory.api.filters import parse_value
from inventory.api.resources import REGISTRY, RequestContext, Resource
from inventory.api.schemas import brief_model
from inventory.api.serialize import brief
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

DOMAIN = "dcim"


def valid_at(model: Any, on: date) -> ColumnElement[bool]:
    """Rows of a dated table (``valid_from`` inclusive, ``valid_to`` exclusive, NULL = open) valid ``on``."""
    return and_(
        or_(model.valid_from.is_(None), model.valid_from <= on),
        or_(model.valid_to.is_(None), model.valid_to > on),
    )


def _region_parents(session: Session, rows: list[Any], ctx: RequestContext) -> dict[int, dict[str, Any]]:
    """``parent`` of each region on the page at ``ctx.on``: one query for the whole page."""
    link: Any = RegionParentLink
    parent: Any = Region
    stmt = (
        select(link.region_id, parent)
        .join(parent, parent.id == link.parent_id)
        .where(link.region_id.in_([r.id for r in rows]), valid_at(link, ctx.on))
    )
    region_res = REGISTRY.of(Region)
    found = {region_id: brief(region_res, p, ctx) for region_id, p in session.execute(stmt)}
    return {r.id: {"parent": found.get(r.id)} for r in rows}


def _children_of(parent_ids: Any, ctx: RequestContext) -> ColumnElement[bool]:
    link: Any = RegionParentLink
    child_ids = select(link.region_id).where(link.parent_id.in_(parent_ids), valid_at(link, ctx.on))
    return Region.id.in_(child_ids)  # type: ignore[union-attr]


def _parent_code_filter(values: list[str], ctx: RequestContext) -> ColumnElement[bool]:
    return _children_of(select(Region.id).where(Region.code.in_(values)), ctx)  # type: ignore[attr-defined]


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

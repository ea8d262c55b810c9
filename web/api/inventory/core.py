"""core endpoints: the change log at NetBox 4's path, ``/api/core/object-changes/`` (read-only).

The same rows as ``/api/extras/object-changes/`` (NetBox 3's path, kept), plus NetBox 4's field names:
``changed_object_type`` (``dcim.site``), ``changed_object_id``, ``user_name`` and ``action`` as
``{value, label}``; they filter as in NetBox (``?changed_object_type=dcim.site&changed_object_id=5``,
``?user_name=admin``). The resource is not in the registry: ``extras`` owns the model's nested form.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, false, or_
from sqlalchemy.orm import Session

from inventory.models import ObjectChange
from web.api.inventory.filters import parse_value
from web.api.inventory.resources import REGISTRY, RequestContext, Resource

DOMAIN = "core"
ACTION_LABELS = {"create": "Created", "update": "Updated", "delete": "Deleted"}


class ActionOut(BaseModel):
    value: str
    label: str


def content_type(table: str) -> str:
    """NetBox's ``app_label.model`` of one of our tables: ``device_type`` → ``dcim.devicetype``."""
    res = REGISTRY.by_table(table)
    domain = res.domain if res is not None else "extras"
    return f"{domain}.{table.replace('_', '')}"


def _tables_of(content_types: list[str]) -> list[str]:
    """Our table names for NetBox content types (``dcim.site``); our own names (``site``) are taken too."""
    by_type = {content_type(r.table_name): r.table_name for r in REGISTRY.by_model.values()}
    known = set(by_type.values())
    return [by_type.get(v.lower(), v) for v in content_types if v.lower() in by_type or v in known]


def _type_filter(values: list[str], _ctx: RequestContext) -> ColumnElement[bool]:
    tables = _tables_of(values)
    col: Any = ObjectChange.object_type
    return col.in_(tables) if tables else false()  # type: ignore[no-any-return]


def _id_filter(values: list[str], _ctx: RequestContext) -> ColumnElement[bool]:
    col: Any = ObjectChange.object_id
    return col.in_([parse_value(v, int) for v in values])  # type: ignore[no-any-return]


def _user_filter(values: list[str], _ctx: RequestContext) -> ColumnElement[bool]:
    col: Any = ObjectChange.actor
    # the actor of a token write reads "admin (token #3)": the user name is what comes before
    return or_(*(or_(col == v, col.startswith(f"{v} (", autoescape=True)) for v in values))


def _netbox_fields(_session: Session, rows: list[Any], _ctx: RequestContext) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    for r in rows:
        out[r.id] = {
            "changed_object_type": content_type(r.object_type),
            "changed_object_id": r.object_id,
            "user_name": r.actor.split(" (token #")[0],
            "action": {"value": r.action, "label": ACTION_LABELS.get(r.action, r.action)},
        }
    return out


_changes = Resource(
    ObjectChange, path="core/object-changes", read_only=True, schema_prefix="Core",
    brief_fields=("time", "action", "object_type", "object_id", "request_id"),  # as extras: one brief form
    display=lambda o: f"{o.action} {o.object_type} {o.object_repr}",
    description="One write to the inventory (NetBox 4's core.ObjectChange): who, when, before and after.",
    annotate=_netbox_fields,
    filters={"changed_object_type": _type_filter, "changed_object_id": _id_filter, "user_name": _user_filter},
)
_changes.annotated_fields = {"changed_object_type": str, "changed_object_id": int | None, "user_name": str,
                             "action": ActionOut}

RESOURCES: tuple[Resource, ...] = (_changes,)

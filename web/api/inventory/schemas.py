"""Pydantic models generated from each resource: what the API returns and what it accepts.

They document the API in OpenAPI (``SiteOut``, ``SiteBrief``, ``PaginatedSiteList``, ``SiteRequest``,
``PatchedSiteRequest``) and the request models validate write bodies: types, lengths and bounds come from
the table's field definitions, unknown keys are rejected, relations accept an id, a natural-key string
or an object of natural-key fields, and secret fields are write-only.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Any, get_args, get_origin

from annotated_types import BaseMetadata, Ge, Gt, Le, Lt
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
    create_model,
)
from pydantic_core import PydanticCustomError
from sqlalchemy import BigInteger, Integer

from web.api.inventory.resources import READ_ONLY_COLUMNS, REGISTRY, Relation, Resource

INT32 = (-(2**31), 2**31 - 1)  # SQL INTEGER on PostgreSQL; larger values would fail inside the database
JSON_SCALARS = (int, float, bool, date, datetime)


def as_json(pt: type) -> BeforeValidator:
    """Read a body value of type ``pt`` the way the JSON Schema of the spec does: ``"5"`` is no integer,
    ``true`` no id, ``0`` no date (pydantic's lax mode would take all three); ``2.0`` is the integer 2."""
    adapter: TypeAdapter[Any] = TypeAdapter(pt)

    def check(value: Any) -> Any:
        if value is None:
            return value
        if pt is int and isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
            value = int(value)
        try:
            return adapter.validate_json(json.dumps(value), strict=True)
        except (TypeError, ValueError) as exc:
            errors = exc.errors() if isinstance(exc, ValidationError) else []
            first = errors[0] if errors else {"type": "value_error", "msg": "Invalid value"}
            raise PydanticCustomError(str(first["type"]), str(first["msg"])) from None

    return BeforeValidator(check)


# A reference to another object in a write body: its id, its natural key, or {natural-key fields} / {"id": n}.
Reference = Annotated[int, Ge(1), Le(INT32[1]), as_json(int)] | str | dict[str, Any]

_brief_cache: dict[type, type[BaseModel]] = {}


def _field_type(res: Resource, name: str, *, constraints: bool = True) -> Any:
    """The field's type; with ``constraints`` (request models) also its bounds and JSON's typing rules."""
    info = res.model.model_fields[name]
    if get_origin(info.annotation) is list:
        # a JSON list (``list[int]``: ports, status codes): its items are not the field's scalar type. A request
        # takes any list and leaves the items to the model's rule (one message whatever the writer); the spec
        # still says what the items are.
        item = (get_args(info.annotation) or (Any,))[0]
        if constraints and item is not Any:
            return Annotated[list[Any], WithJsonSchema(TypeAdapter(list[item]).json_schema())]  # type: ignore[valid-type]
        return info.annotation
    meta: list[Any] = [m for m in info.metadata if isinstance(m, BaseMetadata)] if constraints else []
    column_type = res.model.__table__.columns[name].type  # type: ignore[attr-defined]
    if constraints and isinstance(column_type, Integer) and not isinstance(column_type, BigInteger):
        # the column's range, unless the field declares its own bound (``ge=0`` must stay in the spec)
        meta += [] if any(isinstance(m, Ge | Gt) for m in meta) else [Ge(INT32[0])]
        meta += [] if any(isinstance(m, Le | Lt) for m in meta) else [Le(INT32[1])]
    scalar = [a for a in get_args(info.annotation) if a is not type(None)] or [info.annotation]
    if constraints and len(scalar) == 1 and scalar[0] in JSON_SCALARS:
        meta.append(as_json(scalar[0]))  # last, so the bounds stay in the JSON schema
    return Annotated[info.annotation, *meta] if meta else info.annotation


def _description(res: Resource, name: str) -> str | None:
    info = res.model.model_fields.get(name)
    return info.description if info is not None else None


def brief_model(res: Resource) -> type[BaseModel]:
    """``{id, url, display, slug…}``: the nested form of an object."""
    cached = _brief_cache.get(res.model)
    if cached is None:
        fields: dict[str, Any] = {"id": (int, ...), "url": (str, ...), "display": (str, ...)}
        for f in res.brief:
            fields[f] = (_field_type(res, f, constraints=False), Field(description=_description(res, f)))
        cached = create_model(f"{res.model.__name__}Brief", **fields)
        _brief_cache[res.model] = cached
    return cached


def out_model(res: Resource, brief_of: Any) -> type[BaseModel]:
    """The full representation. ``brief_of(model)`` gives the Resource of a related model."""
    fields: dict[str, Any] = {"id": (int, ...), "url": (str, ...), "display": (str, ...)}
    rel_cols = res.relation_columns
    for col in res.columns:
        if col == "id":
            continue
        if col in res.secret_fields:
            fields[f"{col}_set"] = (bool, Field(description=f"whether a {col} is stored (write-only field)"))
            continue
        rel: Relation | None = rel_cols.get(col)
        if rel is None:
            fields[col] = (_field_type(res, col, constraints=False), Field(description=_description(res, col)))
        else:
            nested = brief_model(brief_of(rel.target))
            fields[rel.name] = (nested | None if rel.nullable else nested, ...)
    for name, annotation in res.annotated_fields.items():
        fields[name] = (annotation, ...)
    return create_model(f"{res.schema_prefix}{res.model.__name__}Out", __doc__=res.description or None, **fields)


def page_model(res: Resource, item: type[BaseModel]) -> type[BaseModel]:
    """The list envelope; its results are full objects, or brief ones with ``?brief=true``."""
    entry: Any = item | brief_model(res)
    return create_model(
        f"Paginated{res.schema_prefix}{res.model.__name__}List",
        count=(int, Field(description="number of objects matching the filters")),
        next=(str | None, Field(description="absolute URL of the next page")),
        previous=(str | None, Field(description="absolute URL of the previous page")),
        results=(list[entry], ...),  # type: ignore[valid-type]
    )


def request_model(res: Resource, *, partial: bool) -> type[BaseModel]:
    """Body of POST/PUT (required fields required) or PATCH (every field optional)."""
    rel_cols = res.relation_columns
    fields: dict[str, Any] = {}
    for col in res.columns:
        if col in READ_ONLY_COLUMNS or col in res.read_only_fields:
            continue
        info = res.model.model_fields[col]
        required = info.is_required() and not partial
        rel = rel_cols.get(col)
        if rel is not None:
            annotation: Any = Reference | None if rel.nullable else Reference
            ref_desc = f"{rel.target.__name__}: id, {_lookup_desc(res, rel)} or an object of its natural key"
            fields[rel.name] = (annotation, Field(... if required else None, description=ref_desc))
            continue
        desc: str | None = _description(res, col)
        if col in res.secret_fields:
            desc = "write-only secret; responses carry only " + f"'{col}_set'"
        fields[col] = (_field_type(res, col), Field(... if required else None, description=desc))
    prefix = "Patched" if partial else ""
    return create_model(
        f"{prefix}{res.model.__name__}Request", __config__=ConfigDict(extra="forbid"), **fields
    )


def _lookup_desc(res: Resource, rel: Relation) -> str:
    target = REGISTRY.by_model.get(rel.target)
    key = target.lookup_field if target is not None else None
    return f"{key} (string)" if key else "natural key"

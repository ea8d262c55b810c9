"""Objects → JSON the NetBox way, with a constant number of queries per page.

Related objects are batch-loaded with one ``IN`` query per relation for the whole page (never one per row),
then each row becomes ``{id, url, display, …fields, "site": {id, url, display, slug}}``. Secret fields are
never written out: a ``<field>_set`` boolean says whether a value is stored.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from web.api.inventory.resources import REGISTRY, RequestContext, Resource


def jsonable(value: Any) -> Any:
    """Dates and datetimes as ISO 8601 strings; everything else stored in the inventory is JSON already."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def brief(res: Resource, obj: Any, ctx: RequestContext) -> dict[str, Any]:
    """The nested/brief form: id, url, display and the identifying fields (slug, code, name…)."""
    out: dict[str, Any] = {"id": obj.id, "url": res.url_of(ctx, obj.id), "display": res.display_of(obj)}
    for f in res.brief:
        out[f] = jsonable(getattr(obj, f))
    return out


def load_related(session: Session, res: Resource, rows: list[Any]) -> dict[str, dict[int, Any]]:
    """Every object the page's rows point to, one query per relation: {relation: {id: object}}."""
    loaded: dict[str, dict[int, Any]] = {}
    for rel in res.relations.values():
        ids = {getattr(r, rel.column) for r in rows} - {None}
        if not ids:
            loaded[rel.name] = {}
            continue
        target: Any = rel.target
        objs = session.scalars(select(target).where(target.id.in_(sorted(ids)))).all()
        loaded[rel.name] = {o.id: o for o in objs}
    return loaded


def full(
    res: Resource,
    obj: Any,
    ctx: RequestContext,
    related: dict[str, dict[int, Any]],
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The complete representation of one object, relations nested in their brief form."""
    rel_cols = res.relation_columns
    out: dict[str, Any] = {"id": obj.id, "url": res.url_of(ctx, obj.id), "display": res.display_of(obj)}
    for col in res.columns:
        if col == "id":
            continue
        if col in res.secret_fields:
            out[f"{col}_set"] = bool(getattr(obj, col))
            continue
        rel = rel_cols.get(col)
        if rel is None:
            out[col] = jsonable(getattr(obj, col))
            continue
        target_id = getattr(obj, col)
        target = related.get(rel.name, {}).get(target_id) if target_id is not None else None
        out[rel.name] = brief(REGISTRY.of(rel.target), target, ctx) if target is not None else None
    if extra:
        out.update(extra)
    return out


def serialize_page(
    session: Session, res: Resource, rows: list[Any], ctx: RequestContext, *, brief_only: bool = False
) -> list[dict[str, Any]]:
    """A page of rows: 0 extra queries in brief mode, else one per relation (+ the annotator's own)."""
    if brief_only:
        return [brief(res, r, ctx) for r in rows]
    related = load_related(session, res, rows)
    extras = res.annotate(session, rows, ctx) if res.annotate is not None and rows else {}
    return [full(res, r, ctx, related, extras.get(r.id)) for r in rows]


def serialize_one(session: Session, res: Resource, obj: Any, ctx: RequestContext) -> dict[str, Any]:
    return serialize_page(session, res, [obj], ctx)[0]

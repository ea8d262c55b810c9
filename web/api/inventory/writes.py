"""The write half of the API: body → column values, references by id or natural key, delete guards.

* :func:`parse_body` validates a JSON body against the resource's request model (unknown keys, types,
  lengths, required fields) and returns ``{column: value}`` with relations resolved to ids.
* :func:`api_errors` renames validation keys from columns to API fields (``site_id`` → ``site``).
* :class:`WriteLookup` is the validation lookup of an API write: the tags of the object are fetched in one
  query, not one per tag.
* :func:`blocking_references` lists what still points to an object about to be deleted (foreign keys that
  are not ``ON DELETE CASCADE``, followed through the rows a cascade would remove), so a DELETE answers
  409 naming them instead of failing inside the database.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import Table, select
from sqlalchemy.orm import Session
from sqlmodel import SQLModel

from inventory.models import Tag
from inventory.validation import M, SessionLookup
from web.api.inventory.resources import REGISTRY, Resource, model_for_table

MAX_REFERENCES = 50


class WriteError(Exception):
    """A write that cannot be applied: ``errors`` is the HTTP 400 body ``{field: [message]}``."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(str(errors))
        self.errors = errors


def label(model: type[SQLModel]) -> str:
    return str(model.__tablename__).replace("_", " ")  # type: ignore[attr-defined]


def read_only_keys(res: Resource) -> set[str]:
    """Keys of a response that a write body must not carry (ids, links, timestamps, computed fields)."""
    return {"id", "url", "display", "created", "last_updated", *res.read_only_fields, *res.annotated_fields,
            *(f"{s}_set" for s in res.secret_fields)}


def _pydantic_errors(exc: ValidationError, res: Resource, body: dict[str, Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    read_only = read_only_keys(res)
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        key = loc[0] if loc else "non_field_errors"
        rel = res.relations.get(key)
        if err["type"] == "extra_forbidden" and key in read_only:
            msg = "This field is read-only."
        elif err["type"] == "extra_forbidden":
            msg = f"Unknown field. Accepted fields: {', '.join(res.writable_fields)}."
        elif err["type"] == "missing":
            msg = "This field is required."
        elif rel is not None:  # one message for the whole id | natural key | object union
            msg = _bad_reference(rel.target, body.get(key))
        else:
            where = f" (at {'.'.join(loc[1:])})" if len(loc) > 1 else ""
            msg = f"{err['msg']}{where}."
        if msg not in out.get(key, []):
            out.setdefault(key, []).append(msg)
    return out


def _bad_reference(model: type[SQLModel], value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"No {label(model)} with id {value}."
    target = REGISTRY.by_model.get(model)
    key = target.lookup_field if target is not None else None
    by_key = f", its {key} (string)" if key else ""
    return f"Expected the id of a {label(model)} (integer){by_key} or an object of its natural-key fields."


def parse_body(session: Session, res: Resource, request_model: type[BaseModel], body: Any) -> dict[str, Any]:
    """``{column: value}`` for the keys present in ``body``; raises WriteError with every problem found."""
    if not isinstance(body, dict):
        raise WriteError({"non_field_errors": ["Expected a JSON object of field values."]})
    try:
        parsed = request_model.model_validate(body)
    except ValidationError as exc:
        raise WriteError(_pydantic_errors(exc, res, body)) from None
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name in parsed.model_fields_set:
        value = getattr(parsed, name)
        rel = res.relations.get(name)
        if rel is None:
            values[name] = value
            continue
        try:
            values[rel.column] = None if value is None else resolve_reference(session, rel.target, value)
        except WriteError as exc:
            errors[name] = exc.errors["reference"]
    if errors:
        raise WriteError(errors)
    return values


def resolve_reference(session: Session, model: type[SQLModel], value: Any) -> int:
    """The id of the ``model`` row that ``value`` (id, natural-key string, or object) designates."""
    target = REGISTRY.by_model.get(model)
    name = label(model)
    if isinstance(value, bool):
        raise WriteError({"reference": [f"Expected the id or the natural key of a {name}."]})
    if isinstance(value, int):
        if not 0 < value < 2**31 or session.get(model, value) is None:
            raise WriteError({"reference": [f"No {name} with id {value}."]})
        return value
    if isinstance(value, str):
        key = target.lookup_field if target is not None else None
        if key is None:
            raise WriteError({"reference": [f"A {name} is referenced by id."]})
        return _unique_match(session, model, {key: value}, f"{key} '{value}'")
    if isinstance(value, dict):
        if "id" in value and target is not None and set(value) <= {"id", "url", "display", *target.brief}:
            return resolve_reference(session, model, value["id"])  # e.g. a nested object copied from a GET
        return _resolve_object(session, model, target, value)
    raise WriteError({"reference": [f"Expected the id or the natural key of a {name}."]})


def _resolve_object(session: Session, model: type[SQLModel], target: Resource | None, value: dict[str, Any]) -> int:
    name = label(model)
    keys = target.natural_key if target is not None else ()
    if not keys or set(value) != set(keys):
        wanted = " and ".join(keys) if keys else "id"
        raise WriteError({"reference": [f"A {name} is designated by {{id}} or by {{{wanted}}}."]})
    where: dict[str, Any] = {}
    for key in keys:
        rel = target.relations.get(key) if target is not None else None
        if rel is None:
            where[key] = value[key]
        else:
            where[rel.column] = resolve_reference(session, rel.target, value[key])
    shown = ", ".join(f"{k} {value[k]!r}" for k in keys)
    return _unique_match(session, model, where, shown)


def _unique_match(session: Session, model: type[SQLModel], where: dict[str, Any], shown: str) -> int:
    name = label(model)
    cols: Any = model
    stmt = select(cols.id).where(*[getattr(cols, k) == v for k, v in where.items()]).limit(2)
    ids = list(session.scalars(stmt))
    if not ids:
        raise WriteError({"reference": [f"No {name} with {shown}."]})
    if len(ids) > 1:
        raise WriteError({"reference": [f"Several {name}s have {shown}; give the id or the full natural key."]})
    return int(ids[0])


class WriteLookup(SessionLookup):
    """:class:`SessionLookup` for validating ``obj``, with every tag it names fetched by one query up front."""

    def __init__(self, session: Session, obj: Any) -> None:
        super().__init__(session)
        tags = getattr(obj, "tags", None)
        self.asked = {t for t in tags if isinstance(t, str)} if isinstance(tags, list) else set()
        self.tags: dict[str, Tag] = {}
        if self.asked:
            with session.no_autoflush:
                stmt = select(Tag).where(Tag.slug.in_(sorted(self.asked)))  # type: ignore[attr-defined]
                self.tags = {t.slug: t for t in session.scalars(stmt)}

    def find(self, model: type[M], values: dict[str, Any]) -> M | None:
        if model is Tag and set(values) == {"slug"} and values["slug"] in self.asked:
            return self.tags.get(values["slug"])  # type: ignore[return-value]
        return super().find(model, values)


def api_errors(res: Resource, errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """Validation errors keyed by API field names: ``site_id`` → ``site``."""
    rel_cols = res.relation_columns
    out: dict[str, list[str]] = {}
    for key, messages in errors.items():
        out.setdefault(rel_cols[key].name if key in rel_cols else key, []).extend(messages)
    return out


# --- delete guards ----------------------------------------------------------------------------------------

CASCADE, SET_NULL, RESTRICT = "CASCADE", "SET NULL", "RESTRICT"


def _inbound() -> dict[str, list[tuple[Table, str, str]]]:
    """table → [(referring table, referring column, on-delete rule)], from foreign keys and API-only relations."""
    out: dict[str, list[tuple[Table, str, str]]] = {}
    for table in SQLModel.metadata.tables.values():
        for fk in table.foreign_keys:
            rule = (fk.ondelete or "").upper()
            mode = rule if rule in (CASCADE, SET_NULL) else RESTRICT
            out.setdefault(fk.column.table.name, []).append((table, fk.parent.name, mode))
    for res in REGISTRY.by_model.values():
        table = res.model.__table__  # type: ignore[attr-defined]
        for rel in res.relations.values():
            if not table.columns[rel.column].foreign_keys:
                target_table = str(rel.target.__tablename__)
                out.setdefault(target_table, []).append((table, rel.column, RESTRICT))
    return out


def blocking_references(session: Session, res: Resource, obj_id: int) -> list[dict[str, Any]]:
    """Objects that keep ``obj_id`` from being deleted: ``[{object_type, id, display}]`` (at most 50)."""
    inbound = _inbound()
    doomed: dict[str, set[int]] = {res.table_name: {obj_id}}
    frontier = {res.table_name: {obj_id}}
    while frontier:  # rows a cascade would delete along with the object (inventory tables only)
        nxt: dict[str, set[int]] = {}
        for table_name, ids in frontier.items():
            for table, column, mode in inbound.get(table_name, []):
                if mode != CASCADE or "id" not in table.columns or model_for_table(table.name) is None:
                    continue
                found = set(session.scalars(select(table.c.id).where(table.c[column].in_(ids))))
                new = found - doomed.setdefault(table.name, set())
                if new:
                    doomed[table.name] |= new
                    nxt.setdefault(table.name, set()).update(new)
        frontier = nxt
    refs: list[dict[str, Any]] = []
    for table_name, ids in doomed.items():
        for table, column, mode in inbound.get(table_name, []):
            if mode != RESTRICT or len(refs) >= MAX_REFERENCES:
                continue
            key = table.c.id if "id" in table.columns else next(iter(table.primary_key.columns))
            stmt = select(key).where(table.c[column].in_(ids)).order_by(key).limit(MAX_REFERENCES)
            for ref_id in session.scalars(stmt):
                if ref_id not in doomed.get(table.name, set()):
                    refs.append(_describe(session, table, ref_id))
    return refs[:MAX_REFERENCES]


def _describe(session: Session, table: Table, ref_id: Any) -> dict[str, Any]:
    model = model_for_table(table.name)
    ref_res = REGISTRY.by_model.get(model) if model is not None else None
    display = f"#{ref_id}"
    if model is not None and ref_res is not None:
        ref = session.get(model, ref_id)
        if ref is not None:
            display = ref_res.display_of(ref)
    return {"object_type": table.name, "id": ref_id, "display": display}

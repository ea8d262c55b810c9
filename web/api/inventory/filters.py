"""Query-string filters for list endpoints, derived from the table (NetBox's filtersets, generically).

For every resource: ``?id=1&id=2``; each scalar column by exact value (``?status=active``, repeatable,
``null`` matches NULL) with ``__n`` (not), ``__gte``/``__lte``/``__gt``/``__lt`` and, for text, ``__ic``
(contains, case-insensitive) lookups; each relation by id (``?site_id=3``) and by the target's natural
key (``?site=dc-bac-giang``, ``?region=24``, ``?provider=vnpt``); ``?q=`` search, diacritics-insensitive.
Unknown parameters are an error, so a typo never silently returns everything.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, get_args

from pydantic import WithJsonSchema
from sqlalchemy import JSON, Boolean, ColumnElement, String, and_, bindparam, false, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnClause

from web.api.inventory.resources import REGISTRY, FilterFn, RequestContext, Resource

# Query parameters that are not filters.
CONTROL_PARAMS = frozenset({"limit", "offset", "brief", "ordering", "as_of"})
LOOKUPS = ("n", "gte", "lte", "gt", "lt", "ic")


def declared(schema: dict[str, Any], *, empty: bool = False) -> WithJsonSchema:
    """The OpenAPI schema of a query parameter that its handler parses itself (so a bad value is a 400 naming
    it); ``empty``: an empty value is accepted too and means "not given"."""
    return WithJsonSchema({"anyOf": [schema, {"type": "string", "maxLength": 0}]} if empty else schema)


def given_once(params: list[tuple[str, str]], names: Iterable[str]) -> None:
    """Raise FilterError naming each of ``names`` given more than once (``?limit=5&limit=x`` is ambiguous)."""
    seen = Counter(key for key, _ in params)
    twice = sorted(name for name in names if seen[name] > 1)
    if twice:
        raise FilterError({name: ["Give this parameter once."] for name in twice})


def _lookup_field(model: type) -> str | None:
    """The natural-key field of ``model`` that ``?<relation>=<value>`` matches (slug, code, name…)."""
    res = REGISTRY.by_model.get(model)
    return res.lookup_field if res is not None else None


class FilterError(ValueError):
    """Bad query parameters: {parameter: [messages]}, turned into HTTP 400."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


def python_type(model: Any, name: str) -> type | None:
    """The Python type of a field's values (``int | None`` → int), or None for JSON and other non-scalars."""
    info = model.model_fields.get(name)
    if info is None:
        return None
    args = [a for a in get_args(info.annotation) if a is not type(None)] or [info.annotation]
    pt = args[0] if len(args) == 1 else None
    return pt if pt in (str, int, float, bool, date, datetime) else None


def parse_value(raw: str, pt: type) -> Any:
    """A query-string value as ``pt``; raises ValueError with a human message."""
    if pt is bool:
        low = raw.lower()
        if low in ("true", "1", "yes"):
            return True
        if low in ("false", "0", "no"):
            return False
        raise ValueError(f"'{raw}' is not a boolean (true/false).")
    if pt is int:
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"'{raw}' is not an integer.") from None
        if not -(2**31) <= value < 2**31:
            raise ValueError(f"{raw} is out of range.")
        return value
    if pt is float:
        try:
            return float(raw)
        except ValueError:
            raise ValueError(f"'{raw}' is not a number.") from None
    if pt is datetime:
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            raise ValueError(f"'{raw}' is not an ISO 8601 date-time (write '+' as %2B).") from None
        if moment.tzinfo is None:
            raise ValueError(f"'{raw}' has no UTC offset; append Z or +07:00 (written %2B07:00).")
        return moment
    if pt is date:
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise ValueError(f"'{raw}' is not a date (YYYY-MM-DD).") from None
    return raw


def _match(col: ColumnClause[Any], values: list[Any]) -> ColumnElement[bool]:
    """``col IN values``, with the string ``null`` standing for NULL."""
    wanted = [v for v in values if v is not None]
    parts: list[ColumnElement[bool]] = []
    if wanted:
        parts.append(col.in_(wanted))
    if len(wanted) != len(values):
        parts.append(col.is_(None))
    return or_(*parts) if parts else false()


def _scalar_filter(col: Any, pt: type, lookup: str, raws: list[str]) -> ColumnElement[bool]:
    if lookup == "ic":
        return or_(*(col.icontains(r, autoescape=True) for r in raws))
    values = [None if r == "null" else parse_value(r, pt) for r in raws]
    if lookup in ("", "n"):
        cond = _match(col, values)
        return ~cond if lookup == "n" else cond
    if None in values:
        raise ValueError("null cannot be compared.")
    ops = {"gte": col.__ge__, "lte": col.__le__, "gt": col.__gt__, "lt": col.__lt__}
    return and_(*(ops[lookup](v) for v in values))


class JsonListContains(ColumnElement[bool]):
    """``value`` is an element of the JSON list in ``col`` (the ``tags`` of an object); rendered per dialect."""

    inherit_cache = False
    type = Boolean()

    def __init__(self, col: Any, value: str) -> None:
        self.col = col
        self.value = bindparam(None, value, unique=True, type_=String())


@compiles(JsonListContains, "sqlite")
def _json_list_contains_sqlite(el: JsonListContains, compiler: Any, **kw: Any) -> str:
    return (f"EXISTS (SELECT 1 FROM json_each({compiler.process(el.col, **kw)}) "
            f"WHERE json_each.value = {compiler.process(el.value, **kw)})")


@compiles(JsonListContains, "postgresql")
def _json_list_contains_pg(el: JsonListContains, compiler: Any, **kw: Any) -> str:
    return (f"(CAST({compiler.process(el.col, **kw)} AS JSONB) @> "
            f"jsonb_build_array(CAST({compiler.process(el.value, **kw)} AS TEXT)))")


class FilterSet:
    """The filters one resource accepts, built once from its table."""

    def __init__(self, res: Resource) -> None:
        self.res = res
        self.extra: dict[str, FilterFn] = dict(res.filters)
        table = res.model.__table__  # type: ignore[attr-defined]
        rel_cols = res.relation_columns
        self.scalars: dict[str, tuple[Any, type]] = {}
        for name in res.columns:
            if name in res.secret_fields or name in rel_cols:
                continue
            pt = python_type(res.model, name)
            if pt is not None:
                self.scalars[name] = (getattr(res.model, name), pt)
        self.searchable = "search_text" in table.columns
        self.taggable = "tags" in table.columns

    def names(self) -> list[str]:
        """Every accepted filter parameter (for error messages and the OpenAPI description)."""
        out = list(self.scalars)
        for rel in self.res.relations.values():
            out.append(rel.column)
            if _lookup_field(rel.target):
                out.append(rel.name)
        if self.searchable:
            out.append("q")
        if self.taggable:
            out.append("tag")
        return out + list(self.extra)

    def conditions(self, params: list[tuple[str, str]], ctx: RequestContext) -> list[ColumnElement[bool]]:
        """SQL conditions for the query string; raises FilterError naming each bad parameter."""
        grouped: dict[str, list[str]] = {}
        for key, value in params:
            if key not in CONTROL_PARAMS:
                grouped.setdefault(key, []).append(value)
        errors: dict[str, list[str]] = {}
        conds: list[ColumnElement[bool]] = []
        for key, raws in grouped.items():
            try:
                cond = self._one(key, raws, ctx)
            except ValueError as exc:
                errors[key] = [str(exc)]
                continue
            if cond is None:
                errors[key] = [f"Unknown filter. Accepted: {', '.join(sorted(self.names()))}."]
            else:
                conds.append(cond)
        if errors:
            raise FilterError(errors)
        return conds

    def _one(self, key: str, raws: list[str], ctx: RequestContext) -> ColumnElement[bool] | None:
        if key in self.extra:
            return self.extra[key](raws, ctx)
        if key == "q" and self.searchable:
            from inventory.search import q_filter

            model: Any = self.res.model
            return and_(*(q_filter(model, r) for r in raws if r.strip()))
        if key in ("tag", "tag__n") and self.taggable:
            # NetBox semantics: ?tag=a&tag=b means tagged a AND b; tag__n excludes each
            col = self.res.model.__table__.c.tags  # type: ignore[attr-defined]
            conds = [JsonListContains(col, r) for r in raws if r]
            return and_(*conds) if key == "tag" else and_(*(~c for c in conds))
        base, _, lookup = key.partition("__")
        if lookup and lookup not in LOOKUPS:
            return None
        if base in self.scalars:
            col, pt = self.scalars[base]
            if lookup == "ic" and pt is not str:
                return None
            return _scalar_filter(col, pt, lookup, raws)
        rel_by_column = self.res.relation_columns
        if base in rel_by_column and lookup in ("", "n"):
            col = getattr(self.res.model, base)
            cond = _scalar_filter(col, int, "", raws)
            return ~cond if lookup == "n" else cond
        rel = self.res.relations.get(base)
        lookup_field = _lookup_field(rel.target) if rel is not None else None
        if rel is not None and lookup_field and lookup in ("", "n"):
            col = getattr(self.res.model, rel.column)
            wanted = [r for r in raws if r != "null"]
            target_ids = select(rel.target.id).where(  # type: ignore[attr-defined]
                getattr(rel.target, lookup_field).in_(wanted)
            )
            parts = [col.in_(target_ids)] if wanted else []
            if len(wanted) != len(raws):
                parts.append(col.is_(None))
            cond = or_(*parts)
            return ~cond if lookup == "n" else cond
        return None


def orderable(res: Resource) -> list[str]:
    """The columns ``?ordering=`` accepts (not secrets, not JSON: PostgreSQL cannot order ``json`` values)."""
    table = res.model.__table__  # type: ignore[attr-defined]
    return [c for c in res.columns if c not in res.secret_fields and not isinstance(table.c[c].type, JSON)]


def order_by(res: Resource, raw: str | None) -> list[Any]:
    """``?ordering=name`` or ``-name`` (comma-separated), always ending with id so pages are stable."""
    model: Any = res.model
    if not raw:
        return [model.id]
    allowed = orderable(res)
    keys: list[Any] = []
    for part in raw.split(","):
        name = part.strip().lstrip("-")
        if name not in allowed:
            raise FilterError({"ordering": [f"Cannot order by '{name}'."]})
        col = getattr(model, name)
        keys.append(col.desc() if part.strip().startswith("-") else col.asc())
    return [*keys, model.id]

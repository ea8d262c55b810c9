"""What the API knows about each inventory table: its path, fields, relations and brief form.

A :class:`Resource` is derived from the SQLModel table by introspection (foreign keys become nested
relations, ``secret_fields`` become write-only, ``natural_key`` gives the lookup used by references and
slug filters), so a new column shows up in the API without touching it. Domain modules
(``dcim.py``, ``circuits.py``…) declare one Resource per table and only spell out what cannot be derived.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session
from sqlmodel import SQLModel
from sqlmodel.main import default_registry

# Columns the API never shows nor accepts (the search index), and columns it shows but never accepts.
HIDDEN_COLUMNS = frozenset({"search_text"})
READ_ONLY_COLUMNS = frozenset({"id", "created", "last_updated"})
# Non-key fields that identify an object to a human; shown in brief representations when present.
NAME_FIELDS = ("slug", "name", "model", "cid")
SCALAR_TYPES = (str, int, float, bool, date, datetime)

# (session, rows on the page, request context) -> {row id: extra fields}; one or two queries, never per row.
Annotator = Callable[[Session, list[Any], "RequestContext"], dict[int, dict[str, Any]]]
# A resource-specific list filter: (values of the query parameter, context) -> SQL condition.
FilterFn = Callable[[list[str], "RequestContext"], ColumnElement[bool]]


@dataclass(frozen=True)
class Relation:
    """A foreign key shown as a nested object: ``site_id`` column ↔ ``"site": {id, url, display, slug}``."""

    name: str
    column: str
    target: type[SQLModel]
    nullable: bool


@dataclass
class RequestContext:
    """Per-request facts the serializer needs: the API root URL and the date the structure is read at."""

    api_root: str
    as_of: date | None = None
    today: date | None = None

    @property
    def on(self) -> date:
        """The date dated relations are read at: ``?as_of`` if given, else today (in the configured zone)."""
        return self.as_of or self.today or date.today()


@dataclass
class Resource:
    """One API endpoint family (`/api/<domain>/<plural>/`) over one table."""

    model: type[SQLModel]
    path: str = ""
    read_only: bool = False
    # columns shown but computed, never accepted (e.g. an IP's host, derived from its address)
    read_only_fields: tuple[str, ...] = ()
    # overrides of what introspection gives
    brief_fields: tuple[str, ...] | None = None
    display: Callable[[Any], str] | None = None
    # relations without a database foreign key: relation name -> (column, target model)
    extra_relations: dict[str, tuple[str, type[SQLModel]]] = field(default_factory=dict)
    # adds computed fields to full representations (e.g. a region's parent at the requested date)
    annotate: Annotator | None = None
    annotated_fields: dict[str, Any] = field(default_factory=dict)
    # extra list filters beyond the generic ones, and the ``?as_of=YYYY-MM-DD`` condition if the
    # resource is dated (regions): the date also reaches annotators through RequestContext.as_of
    filters: dict[str, FilterFn] = field(default_factory=dict)
    as_of_filter: Callable[[date], ColumnElement[bool]] | None = None
    description: str = ""
    # prefix of the generated schema names when a second resource serves the same table (CoreObjectChangeOut)
    schema_prefix: str = ""

    def __post_init__(self) -> None:
        self.path = self.path or getattr(self.model, "api_path", "")
        if not self.path or self.path.count("/") != 1:
            raise ValueError(f"{self.model.__name__}: API path must be like 'dcim/sites', got {self.path!r}")
        self.domain: str = self.path.split("/")[0]
        self.plural: str = self.path.split("/")[1]
        self.table_name: str = str(self.model.__tablename__)
        self.object_type: str = self.table_name
        self.secret_fields: tuple[str, ...] = tuple(getattr(self.model, "secret_fields", ()))
        self.natural_key: tuple[str, ...] = tuple(getattr(self.model, "natural_key", ()))
        table = self.model.__table__  # type: ignore[attr-defined]
        self.columns: list[str] = [c.name for c in table.columns if c.name not in HIDDEN_COLUMNS]
        self.relations: dict[str, Relation] = {}
        for fk in sorted(table.foreign_keys, key=lambda f: list(table.columns).index(f.parent)):
            column = fk.parent.name
            target = model_for_table(fk.column.table.name)
            if target is None or not column.endswith("_id"):
                continue
            name = column.removesuffix("_id")
            self.relations[name] = Relation(name, column, target, bool(fk.parent.nullable))
        for name, (column, target) in self.extra_relations.items():
            self.relations[name] = Relation(name, column, target, bool(table.columns[column].nullable))

    @property
    def relation_columns(self) -> dict[str, Relation]:
        return {r.column: r for r in self.relations.values()}

    @property
    def plain_fields(self) -> list[str]:
        """Columns shown as themselves (not relations, not secrets, not hidden)."""
        rel_cols = self.relation_columns
        return [c for c in self.columns if c not in rel_cols and c not in self.secret_fields]

    @property
    def writable_fields(self) -> list[str]:
        """Body keys accepted on POST/PUT/PATCH: plain fields, relation names and secrets."""
        rel_cols = self.relation_columns
        out: list[str] = []
        for c in self.columns:
            if c in READ_ONLY_COLUMNS or c in self.read_only_fields:
                continue
            out.append(rel_cols[c].name if c in rel_cols else c)
        return out

    @property
    def brief(self) -> tuple[str, ...]:
        if self.brief_fields is not None:
            return self.brief_fields
        rel_cols = self.relation_columns
        keys = [f for f in self.natural_key if f in self.columns and f not in rel_cols]
        keys += [f for f in NAME_FIELDS if f in self.columns and f not in keys]
        return tuple(keys)

    @property
    def lookup_field(self) -> str | None:
        """The plain field a string reference or a ``?<relation>=`` filter matches (slug, code, name…)."""
        rel_cols = {r.name for r in self.relations.values()}
        plain_key = [f for f in self.natural_key if f not in rel_cols]
        if plain_key:
            return plain_key[0]
        return next((f for f in ("slug", "name") if f in self.columns), None)

    def display_of(self, obj: Any) -> str:
        if self.display is not None:
            return self.display(obj)
        method = getattr(obj, "display", None)
        return str(method()) if callable(method) else f"#{obj.id}"

    def url_of(self, ctx: RequestContext, obj_id: int) -> str:
        return f"{ctx.api_root}{self.path}/{obj_id}/"


def model_for_table(table: str) -> type[SQLModel] | None:
    """The SQLModel class mapped to ``table`` (any imported table model)."""
    return next((m.class_ for m in default_registry.mappers if getattr(m.local_table, "name", None) == table),
                None)


class Registry:
    """All resources, by model; the serializer uses it to build the URLs of nested objects."""

    def __init__(self) -> None:
        self.by_model: dict[type[SQLModel], Resource] = {}

    def add(self, *resources: Resource) -> tuple[Resource, ...]:
        for res in resources:
            if res.model in self.by_model:
                raise ValueError(f"{res.model.__name__} registered twice")
            self.by_model[res.model] = res
        return resources

    def of(self, model: type[SQLModel]) -> Resource:
        return self.by_model[model]

    def by_table(self, table: str) -> Resource | None:
        return next((r for r in self.by_model.values() if r.table_name == table), None)


REGISTRY = Registry()

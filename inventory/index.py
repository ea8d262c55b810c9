"""An in-memory index of the whole inventory for bulk work: one query per table, then no more.

:class:`InventoryIndex` preloads every inventory table, finds objects by id and by any combination of field
values (natural keys, unique columns), and tracks objects the importer creates or changes. It implements
:class:`inventory.validation.Lookup`, so validating thousands of rows costs no query.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory import models as m

M = TypeVar("M", bound=m.InventoryModel)

# Natural keys in column terms (the document's references resolved to ids).
NATURAL_COLUMNS: dict[type[m.InventoryModel], tuple[str, ...]] = {
    m.Tag: ("slug",), m.Region: ("code",), m.RegionParentLink: ("region_id", "valid_from"),
    m.RegionChange: ("region_id", "kind", "date"), m.Tenant: ("slug",), m.Site: ("slug",),
    m.Location: ("site_id", "slug"), m.Rack: ("site_id", "name"), m.Manufacturer: ("slug",),
    m.DeviceType: ("slug",), m.DeviceRole: ("slug",), m.Platform: ("slug",), m.SnmpProfile: ("name",),
    m.Device: ("site_id", "name"), m.Interface: ("device_id", "name"), m.IPAddress: ("host",),
    m.Provider: ("slug",), m.CircuitType: ("slug",), m.Circuit: ("provider_id", "cid"),
    m.CircuitTermination: ("circuit_id", "term_side"), m.VideoconferenceEndpoint: ("device_id",),
    m.CoverageTarget: ("plan", "category"), m.Service: ("device_id", "name"),
}


class InventoryIndex:
    """Every inventory object of the session, by id and by field values."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.objects: dict[type[m.InventoryModel], list[Any]] = {}
        self.by_id: dict[type[m.InventoryModel], dict[int, Any]] = {}
        self._idx: dict[tuple[type[m.InventoryModel], tuple[str, ...]], dict[tuple[Any, ...], Any]] = {}
        self._at: dict[tuple[type[m.InventoryModel], tuple[str, ...]], dict[int, tuple[Any, ...]]] = {}
        self._pending: list[Any] = []
        self._next_id: dict[type[m.InventoryModel], int] = {}
        for model in NATURAL_COLUMNS:
            rows = list(session.scalars(select(model)))
            self.objects[model] = rows
            self.by_id[model] = {o.id: o for o in rows if o.id is not None}

    # --- Lookup protocol ---
    def get(self, model: type[M], pk: int | None) -> M | None:
        if pk is None:
            return None
        obj: M | None = self.by_id.get(model, {}).get(pk)
        return obj

    def find(self, model: type[M], values: dict[str, Any]) -> M | None:
        fields = tuple(values)
        obj: M | None = self._index(model, fields).get(tuple(values[f] for f in fields))
        return obj

    def exists_other(self, obj: m.InventoryModel, values: dict[str, Any]) -> bool:
        other = self.find(type(obj), values)
        return other is not None and other is not obj

    # --- natural keys ---
    def key(self, model: type[M], key: tuple[Any, ...]) -> M | None:
        """The object of ``model`` whose natural key (column terms) is ``key``."""
        obj: M | None = self._index(model, NATURAL_COLUMNS[model]).get(key)
        return obj

    def natural_key(self, obj: m.InventoryModel) -> tuple[Any, ...]:
        return tuple(getattr(obj, f) for f in NATURAL_COLUMNS[type(obj)])

    # --- tracking writes ---
    def add(self, obj: m.InventoryModel) -> None:
        """A new object (added to the session by the caller); gets its id at the next :meth:`flushed`."""
        self.objects[type(obj)].append(obj)
        self._pending.append(obj)
        self.reindex(obj)

    def reindex(self, obj: m.InventoryModel) -> None:
        """Refresh the indexes after ``obj``'s fields changed."""
        model = type(obj)
        for (imodel, fields), index in self._idx.items():
            if imodel is not model:
                continue
            where = self._at[(model, fields)]
            old = where.get(id(obj))
            new = tuple(getattr(obj, f) for f in fields)
            if old == new:
                continue
            if old is not None and index.get(old) is obj:
                del index[old]
            index[new] = obj
            where[id(obj)] = new

    def next_id(self, model: type[m.InventoryModel]) -> int:
        """An id above every id of ``model`` seen so far (for inserts that give their own ids)."""
        nid = self._next_id.get(model) or max(self.by_id[model], default=0) + 1
        self._next_id[model] = nid + 1
        return nid

    def flushed(self) -> None:
        """Record the ids the database gave to new objects."""
        for obj in self._pending:
            self.by_id[type(obj)][obj.id] = obj
        self._pending = []

    def _index(self, model: type[m.InventoryModel], fields: tuple[str, ...]) -> dict[tuple[Any, ...], Any]:
        index = self._idx.get((model, fields))
        if index is None:
            index, where = {}, {}
            for obj in self.objects[model]:
                values = tuple(getattr(obj, f) for f in fields)
                index.setdefault(values, obj)
                where[id(obj)] = values
            self._idx[(model, fields)] = index
            self._at[(model, fields)] = where
        return index

    def group_by(self, model: type[M], field: str) -> dict[Any, list[M]]:
        """Objects of ``model`` grouped by one field's value (e.g. parent links by region_id)."""
        out: dict[Any, list[M]] = defaultdict(list)
        for obj in self.objects[model]:
            out[getattr(obj, field)].append(obj)
        return out

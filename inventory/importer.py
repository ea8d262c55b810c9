"""Bulk import of an inventory document (docs/inventory-format.md): upsert by natural key, all or nothing.

:func:`import_document` validates every row with :func:`inventory.validation.clean` against an in-memory
:class:`~inventory.index.InventoryIndex` (one query per table, none per row), collects **every** error as
``FILE:ROW:FIELD: message``, and commits only when there is none (``dry_run`` never commits). Objects whose
fields already match are left untouched, so importing the same document twice changes nothing and writes no
change-log entry. The per-key work lives in :mod:`inventory.import_stages`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session, configure_mappers

from inventory.changelog import change_context, current_context, object_type
from inventory.docfiles import ORIGIN, load_file
from inventory.docformat import (
    KEYS,
    PLAIN,
    DocumentError,
    ImportIssue,
    ValueProblem,
    allowed_fields,
    coerce,
    column_info,
    csv_column,
    quoted,
    text,
)
from inventory.index import NATURAL_COLUMNS, InventoryIndex
from inventory.models import InventoryModel
from inventory.validation import clean, label

__all__ = ["DocumentError", "ImportIssue", "ImportReport", "ModelCounts", "import_document", "load_file"]

log = logging.getLogger(__name__)

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
_RANK = {UNCHANGED: 0, UPDATED: 1, CREATED: 2}


@dataclass
class ModelCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class ImportReport:
    """What an import did (or, with errors or ``dry_run``, would have done): counts per model, errors."""

    source: str
    dry_run: bool = False
    request_id: str = ""
    counts: dict[str, ModelCounts] = field(default_factory=dict)
    errors: list[ImportIssue] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def committed(self) -> bool:
        return self.ok and not self.dry_run

    def total(self, what: str) -> int:
        return sum(getattr(c, what) for c in self.counts.values())


class Row:
    """One row of the document, with where it came from (for error lines) and whether it went wrong."""

    def __init__(self, imp: _Importer, key: str, data: dict[str, Any], file: str, label: str,
                 prefix: str = "", from_csv: bool = False) -> None:
        self.imp, self.key, self.data, self.file, self.label = imp, key, data, file, label
        self.prefix, self.from_csv = prefix, from_csv
        self.bad = False       # an error was reported for this row
        self.blocked = False   # it depends on a row that failed: not written, no error for that reference
        self.reported: set[str] = set()  # fields already reported (or blocked): no second error on them

    @property
    def skip(self) -> bool:
        return self.bad or self.blocked

    def block(self, path: str) -> None:
        """A reference to a row that failed: the row is checked but not written, the field not reported."""
        self.blocked = True
        self.imp.blocked += 1
        self.reported.add(path)

    def issue(self, path: str, message: str) -> None:
        self.reported.add(path)
        full = self.prefix + path
        if self.from_csv:
            full = csv_column(self.key, full)
        self.imp.errors.append(ImportIssue(self.file, self.label, full or "-", message))
        self.bad = True

    def child(self, key: str, data: Any, path: str) -> Row | None:
        """A row nested in this one (``interfaces#2``), or None after reporting that it is not a mapping."""
        if not isinstance(data, dict):
            self.issue(path, "must be a mapping of field names to values")
            return None
        return Row(self.imp, key, data, self.file, self.label, self.prefix + path + ".", self.from_csv)


class _Importer:
    """One import: the index, the rows seen, what failed, what changed."""

    def __init__(self, session: Session, doc: dict[str, Any], source: str) -> None:
        self.session, self.doc, self.source = session, doc, source
        self.errors: list[ImportIssue] = []
        self.index = InventoryIndex(session)
        self.seen: dict[tuple[type[InventoryModel], tuple[Any, ...]], str] = {}
        self.failed: set[tuple[type[InventoryModel], tuple[Any, ...]]] = set()
        self.status: dict[int, tuple[str, str]] = {}
        self.blocked = 0  # rows not written because a row they refer to failed
        # SQLite cannot batch INSERT … RETURNING without a sentinel column, so one statement per row; with ids
        # given here the inserts are batched. Safe: in WAL mode a transaction whose snapshot is stale cannot
        # write at all, so no other writer can have taken these ids. PostgreSQL batches with its sequences.
        self.assign_ids = session.get_bind().dialect.name == "sqlite"

    # --- rows ---
    def rows(self, key: str) -> Iterator[Row]:
        rows = self.doc.get(key)
        if rows is None:
            return
        if not isinstance(rows, list):
            self.errors.append(ImportIssue(self.source, "-", key, "must be a list of rows"))
            return
        for n, data in enumerate(rows, start=1):
            origin = data.get(ORIGIN) if isinstance(data, dict) else None
            if origin:
                row = Row(self, key, data, origin[0], origin[1], from_csv=True)
            else:
                row = Row(self, key, data if isinstance(data, dict) else {}, self.source, f"{key}#{n}")
                if not isinstance(data, dict):
                    row.issue("-", "must be a mapping of field names to values")
                    continue
            self.check_fields(row)
            yield row

    def check_fields(self, row: Row) -> None:
        allowed = allowed_fields(row.key)
        for name in row.data:
            if name != ORIGIN and name not in allowed:
                row.issue(str(name), f"unknown field; allowed: {', '.join(allowed)}")

    def plain_values(self, row: Row, model: type[InventoryModel], names: tuple[str, ...] | None = None,
                     ) -> dict[str, Any]:
        """The row's plain fields coerced to column values; absent fields are left out."""
        values: dict[str, Any] = {}
        for name in names if names is not None else PLAIN[row.key]:
            if name not in row.data:
                continue
            raw = row.data[name]
            info = column_info(model, name)
            try:
                value = coerce(info, raw, from_csv=row.from_csv)
            except ValueProblem as exc:
                row.issue(name, str(exc))
                continue
            if value is None and not info.nullable:
                if row.from_csv and raw == "":
                    continue  # an empty CSV cell of a field that cannot be null: leave it as it is
                row.issue(name, "must not be null")
                continue
            values[name] = value
        return values

    # --- references ---
    def ref(self, row: Row, path: str, model: type[InventoryModel], key: tuple[Any, ...],
            shown: str) -> int | None:
        """Id of the object of ``model`` with natural ``key``; reports ``no <model> <shown>`` if missing."""
        obj = self.index.key(model, key)
        if obj is not None and obj.id is not None:
            return obj.id
        if (model, key) in self.failed:
            row.block(path)
        else:
            row.issue(path, f"no {label(model)} {shown}")
        return None

    def ref_text(self, row: Row, path: str, value: Any) -> str | None:
        if value is None or (row.from_csv and value == ""):
            return None
        if isinstance(value, dict | list | bool):
            row.issue(path, f"expected a name or code, got {quoted(value)}")
            return None
        return text(value)

    def device_ref(self, row: Row, path: str, value: Any) -> int | None:
        """A ``{site, name}`` device reference → device id (None when null, missing or invalid)."""
        if value is None:
            return None
        if not isinstance(value, dict) or not value.get("site") or not value.get("name"):
            row.issue(path, f"expected a device reference {{site: <slug>, name: <device>}}, got {quoted(value)}")
            return None
        from inventory.models import Device, Site

        site_id = self.ref(row, path, Site, (text(value["site"]),), f'with slug "{value["site"]}"')
        if site_id is None:
            return None
        return self.ref(row, path, Device, (site_id, text(value["name"])),
                        f'{value["site"]}/{value["name"]}')

    # --- writing ---
    def upsert(self, row: Row, model: type[InventoryModel], values: dict[str, Any],
               fields: Callable[[str], str] | None = None,
               ignore: frozenset[str] = frozenset()) -> InventoryModel | None:
        """Create or update the object with the row's natural key; validate; report and undo on errors."""
        to_path = fields or _field_path
        natural = NATURAL_COLUMNS[model]
        key = tuple(values.get(c) for c in natural)
        complete = True
        for column, value in zip(natural, key, strict=True):
            if value is None or value == "":
                complete = False
                if to_path(column) not in row.reported:
                    row.issue(to_path(column), "this field is required")
        if complete:
            first = self.seen.get((model, key))
            if first is not None:
                row.issue(to_path(natural[-1]), f"duplicate natural key {_show(key)} (first at {first})")
                self._fail(model, key)
                return None
            self.seen[(model, key)] = f"{row.label}" + (f" {row.prefix.rstrip('.')}" if row.prefix else "")
        obj = self.index.key(model, key) if complete else None
        if row.skip or not complete:
            self._probe(row, model, obj, values, to_path, ignore)
            self._fail(model, key)
            return None
        if obj is None:
            obj = construct(model, values)
            if self.assign_ids:
                obj.id = self.index.next_id(model)
            errors = clean(None, obj, self.index)
            if self._report(row, model, key, errors, to_path, ignore):
                return None
            self.session.add(obj)
            self.index.add(obj)
            self.mark(obj, CREATED)
            return obj
        return obj if self.change(row, obj, values, to_path, ignore) else None

    def change(self, row: Row, obj: InventoryModel, values: dict[str, Any],
               to_path: Callable[[str], str] | None = None, ignore: frozenset[str] = frozenset()) -> bool:
        """Set the differing ``values`` on an existing object and validate it; undo and report on errors."""
        old = {k: getattr(obj, k) for k, v in values.items() if getattr(obj, k) != v}
        if not old:
            self.mark(obj, UNCHANGED)
            return True
        for k in old:
            setattr(obj, k, values[k])
        errors = clean(None, obj, self.index)
        if self._report(row, type(obj), self.index.natural_key(obj), errors, to_path or _field_path, ignore):
            for k, v in old.items():
                setattr(obj, k, v)
            return False
        self.index.reindex(obj)
        self.mark(obj, UPDATED)
        return True

    def _probe(self, row: Row, model: type[InventoryModel], obj: InventoryModel | None, values: dict[str, Any],
               to_path: Callable[[str], str], ignore: frozenset[str]) -> None:
        """Validate a row that will not be written, so that its other errors are reported too."""
        if obj is None:
            errors = clean(None, construct(model, values), self.index)
        else:
            old = {k: getattr(obj, k) for k in values}
            for k, v in values.items():
                setattr(obj, k, v)
            errors = clean(None, obj, self.index)
            for k, v in old.items():
                setattr(obj, k, v)
        self._report(row, model, (), errors, to_path, ignore)

    def _report(self, row: Row, model: type[InventoryModel], key: tuple[Any, ...],
                errors: dict[str, list[str]], to_path: Callable[[str], str], ignore: frozenset[str]) -> bool:
        errors = {f: msgs for f, msgs in errors.items() if f not in ignore and to_path(f) not in row.reported}
        for column, messages in errors.items():
            for message in messages:
                row.issue(to_path(column), message)
        if errors:
            self._fail(model, key)
        return bool(errors)

    def _fail(self, model: type[InventoryModel], key: tuple[Any, ...]) -> None:
        if all(v is not None for v in key):
            self.failed.add((model, key))

    def mark(self, obj: InventoryModel, status: str) -> None:
        previous = self.status.get(id(obj))
        if previous is None or _RANK[status] > _RANK[previous[1]]:
            self.status[id(obj)] = (object_type(obj), status)

    def flush(self) -> None:
        self.session.flush()
        self.index.flushed()

    def counts(self) -> dict[str, ModelCounts]:
        out: dict[str, ModelCounts] = {}
        for otype, status in self.status.values():
            c = out.setdefault(otype, ModelCounts())
            setattr(c, status, getattr(c, status) + 1)
        return dict(sorted(out.items()))


@cache
def _defaults(model: type[InventoryModel]) -> dict[str, tuple[Callable[[], Any] | None, Any]]:
    configure_mappers()  # attribute instrumentation must be complete before objects are built by hand
    return {name: (f.default_factory, f.default) for name, f in model.model_fields.items()  # type: ignore[misc]
            if not f.is_required()}


def construct(model: type[InventoryModel], values: dict[str, Any]) -> InventoryModel:
    """A new, unvalidated object with its defaults, built the way the ORM builds loaded rows.

    ``model(**values)`` goes through pydantic's and SQLAlchemy's per-attribute machinery and dominated the
    import time; values are checked by :func:`inventory.validation.clean` anyway.
    """
    full = {name: factory() if factory is not None else default
            for name, (factory, default) in _defaults(model).items() if name not in values}
    full.update(values)
    obj: InventoryModel = sa_inspect(model).class_manager.new_instance()
    obj.__dict__.update(full)
    object.__setattr__(obj, "__pydantic_fields_set__", set(values))
    object.__setattr__(obj, "__pydantic_extra__", None)
    object.__setattr__(obj, "__pydantic_private__", None)
    return obj


def _field_path(column: str) -> str:
    return {"host": "address"}.get(column, column.removesuffix("_id"))


def _show(key: tuple[Any, ...]) -> str:
    return "/".join(str(k) for k in key)


def import_document(session: Session, doc: dict[str, Any], *, source: str, dry_run: bool = False,
                    progress: Callable[[str], None] | None = None) -> ImportReport:
    """Import ``doc`` in one transaction: commit if every row is valid (and not ``dry_run``), else roll back.

    Writes are attributed to the current :func:`~inventory.changelog.change_context`, or to actor
    ``import`` under a new request id. ``progress`` is called with each key as its stage starts.
    """
    from inventory.import_stages import STAGES

    started = time.perf_counter()
    ctx = current_context()
    with nullcontext(ctx) if ctx is not None else change_context("import") as active:
        imp = _Importer(session, doc, source)
        report = ImportReport(source=source, dry_run=dry_run, request_id=active.request_id)
        unknown = [k for k in doc if k not in KEYS]
        for k in unknown:
            imp.errors.append(ImportIssue(source, "-", str(k), f"unknown top-level key (allowed: {', '.join(KEYS)})"))
        try:
            for key, stage in STAGES:
                if progress is not None and doc.get(key):
                    progress(key)
                stage(imp)
        except BaseException:
            session.rollback()
            raise
        if imp.blocked and not imp.errors:  # a row can only be blocked by another that was reported
            imp.errors.append(ImportIssue(source, "-", "-", f"internal error: {imp.blocked} row(s) skipped "
                                                            "without a reported cause; nothing was written"))
        report.errors = sorted(imp.errors, key=ImportIssue.sort_key)
        report.counts = imp.counts()
        if report.ok and not dry_run:
            session.commit()
        else:
            session.rollback()
    report.seconds = time.perf_counter() - started
    log.info("event=inventory_import source=%s dry_run=%s committed=%s errors=%d created=%d updated=%d "
             "unchanged=%d seconds=%.2f request_id=%s", source, dry_run, report.committed, len(report.errors),
             report.total(CREATED), report.total(UPDATED), report.total(UNCHANGED), report.seconds,
             report.request_id)
    return report


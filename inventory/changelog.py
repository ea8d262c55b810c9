"""The change log: every create, update and delete of an inventory object writes an ``ObjectChange``.

It hooks the ORM session, so every path that writes through a session (REST API, bulk import, CLI, demo
loader) is logged without doing anything: ``before_flush`` takes the snapshots, ``after_flush`` folds them
into one net change per object for the transaction (created then updated = one create; changed back = none),
and ``before_commit`` writes them; a rollback forgets them. Callers say who acts with::

    with change_context("admin", request_id):   # one request id for one HTTP request or one import
        ...session work...

``source`` (optional) says where the written values came from when the actor did not type them (an operator
accepting an SNMP observation: ``change_context("op", rid, source="snmp discovery 2026-12-07T14:03Z")``);
it is stored in ``ObjectChange.source``.

Snapshots before and after hold every column except the search index, with ``secret_fields`` masked as
``********``. An update that changes nothing (other than ``last_updated``) writes no record and does not bump
``last_updated``. Rows the database removes by ``ON DELETE CASCADE`` (a device's interfaces and their IP
addresses…) are logged as deletes too.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import event, insert, inspect, select, update
from sqlalchemy.orm import Session

from inventory.choices import ObjectChangeActionChoices as Action
from inventory.models import InventoryGeneration, InventoryModel, ObjectChange, utcnow

log = logging.getLogger(__name__)

MASK = "********"
NOT_SNAPSHOTTED = frozenset({"search_text"})
NOT_COMPARED = frozenset({"search_text", "last_updated"})
DEFAULT_ACTOR = "system"
_PENDING_KEY = "inventory_changelog_pending"
_CASCADED_KEY = "inventory_changelog_cascaded"
_LOG_KEY = "inventory_changelog_transaction"


@dataclass(frozen=True)
class ChangeContext:
    actor: str
    request_id: str
    source: str | None = None


_current: ContextVar[ChangeContext | None] = ContextVar("inventory_change_context", default=None)


@contextmanager
def change_context(actor: str, request_id: str | None = None, source: str | None = None) -> Iterator[ChangeContext]:
    """Attribute writes inside the block to ``actor`` under one request id (a new uuid if not given), with
    the ``source`` of their values when given."""
    ctx = ChangeContext(actor=actor[:100], request_id=(request_id or str(uuid.uuid4()))[:36],
                        source=source[:200] if source else None)
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


def current_context() -> ChangeContext | None:
    return _current.get()


def object_type(obj_or_model: InventoryModel | type[InventoryModel]) -> str:
    """The ``object_type`` recorded for a model: its table name (``device``, ``circuit_termination``)."""
    model = obj_or_model if isinstance(obj_or_model, type) else type(obj_or_model)
    return str(model.__tablename__)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _columns(obj: InventoryModel) -> list[str]:
    return [c.key for c in inspect(type(obj)).column_attrs if c.key not in NOT_SNAPSHOTTED]


def raw_snapshot(obj: InventoryModel) -> dict[str, Any]:
    """Current column values of ``obj``, JSON-safe, secrets in clear (for comparison only)."""
    return {k: _jsonable(getattr(obj, k)) for k in _columns(obj)}


def mask(obj_or_model: InventoryModel | type[InventoryModel], data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with the model's ``secret_fields`` replaced by ``********`` (empty values stay empty)."""
    secret = obj_or_model.secret_fields
    return {k: (MASK if k in secret and v not in (None, "") else v) for k, v in data.items()}


def _prechange(session: Session, obj: InventoryModel) -> dict[str, Any]:
    """Column values before this flush; attributes set while expired are read back from the database."""
    state = inspect(obj)
    out: dict[str, Any] = {}
    unknown: list[str] = []
    for key in _columns(obj):
        hist = state.attrs[key].history
        if hist.deleted:
            out[key] = _jsonable(hist.deleted[0])
        elif hist.unchanged or not hist.added:
            out[key] = _jsonable(getattr(obj, key))
        else:
            unknown.append(key)
    if unknown:
        table = type(obj).__table__  # type: ignore[attr-defined]
        row = session.connection().execute(
            select(*[table.c[k] for k in unknown]).where(table.c.id == obj.id)).one()
        out.update({k: _jsonable(v) for k, v in zip(unknown, row, strict=True)})
    return out


def _differs(before: dict[str, Any], after: dict[str, Any]) -> bool:
    return any(before.get(k) != after.get(k) for k in after if k not in NOT_COMPARED)


def _cascade_targets() -> dict[str, list[tuple[type[InventoryModel], str]]]:
    """table name → [(child model, fk column)] for foreign keys declared ON DELETE CASCADE."""
    out: dict[str, list[tuple[type[InventoryModel], str]]] = {}
    for mapper in InventoryModel._sa_registry.mappers:  # type: ignore[attr-defined]
        cls = mapper.class_
        if not issubclass(cls, InventoryModel):
            continue
        for fk in cls.__table__.foreign_keys:  # type: ignore[attr-defined]
            if (fk.ondelete or "").upper() == "CASCADE":
                out.setdefault(fk.column.table.name, []).append((cls, fk.parent.name))
    return out


def _cascaded(session: Session) -> list[InventoryModel]:
    """Rows the database will remove by ON DELETE CASCADE along with the objects deleted in this flush."""
    targets = _cascade_targets()
    todo = [o for o in session.deleted if isinstance(o, InventoryModel)]
    seen = {(type(o), o.id) for o in todo}
    found: list[InventoryModel] = []
    while todo:
        by_table: dict[str, list[int]] = {}
        for obj in todo:
            if obj.id is not None:
                by_table.setdefault(object_type(obj), []).append(obj.id)
        todo = []
        for table, ids in by_table.items():
            for child_model, column in targets.get(table, []):
                stmt = select(child_model).where(getattr(child_model, column).in_(ids))
                for child in session.scalars(stmt):
                    if (type(child), child.id) not in seen:
                        seen.add((type(child), child.id))
                        found.append(child)
                        todo.append(child)
    return found


@event.listens_for(Session, "before_flush")
def _collect_changes(session: Session, _flush_ctx: Any, _instances: Any) -> None:
    cascaded = _cascaded(session) if session.deleted else []
    session.info[_CASCADED_KEY] = cascaded
    pending: list[tuple[str, InventoryModel, dict[str, Any] | None]]
    pending = session.info.setdefault(_PENDING_KEY, [])
    now = utcnow()
    for obj in session.new:
        if isinstance(obj, InventoryModel):
            pending.append((Action.CREATE, obj, None))
    for obj in session.dirty:
        if isinstance(obj, InventoryModel) and session.is_modified(obj):
            before = _prechange(session, obj)
            if _differs(before, raw_snapshot(obj)):
                obj.last_updated = now
                pending.append((Action.UPDATE, obj, before))
    for obj in (*session.deleted, *cascaded):
        if isinstance(obj, InventoryModel):
            pending.append((Action.DELETE, obj, raw_snapshot(obj)))


@dataclass
class _Entry:
    """The net change of one object within the transaction (several flushes collapse into one record)."""

    action: str
    model: type[InventoryModel]
    object_id: int | None
    repr: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    ctx: ChangeContext


def _merge(entry: _Entry | None, new: _Entry) -> _Entry | None:
    """Fold a later change of the same object into the earlier one; None when nothing is left."""
    if entry is None:
        return new
    before = entry.before if entry.action != Action.CREATE else None
    if new.action == Action.DELETE:
        return None if entry.action == Action.CREATE else _Entry(
            Action.DELETE, new.model, new.object_id, new.repr, before, None, entry.ctx)
    action = Action.CREATE if entry.action == Action.CREATE else Action.UPDATE
    if action == Action.UPDATE and before is not None and new.after is not None and not _differs(before, new.after):
        return None  # changed and changed back
    return _Entry(action, new.model, new.object_id, new.repr, before, new.after, entry.ctx)


@event.listens_for(Session, "after_flush")
def _record_changes(session: Session, _flush_ctx: Any) -> None:
    pending = session.info.pop(_PENDING_KEY, [])
    for child in session.info.pop(_CASCADED_KEY, []):  # gone from the database: forget them
        if child in session:
            session.expunge(child)
    if not pending:
        return
    ctx = _current.get() or ChangeContext(DEFAULT_ACTOR, str(uuid.uuid4()))
    log_: dict[tuple[Any, ...], _Entry] = session.info.setdefault(_LOG_KEY, {})
    for action, obj, before in pending:
        after = None if action == Action.DELETE else raw_snapshot(obj)
        key = (object_type(obj), obj.id)
        merged = _merge(log_.pop(key, None),
                        _Entry(action, type(obj), obj.id, obj.display()[:200], before, after, ctx))
        if merged is not None:
            # a deleted object's id may be reused by a new row in the same transaction: keep them apart
            log_[(*key, "deleted") if merged.action == Action.DELETE else key] = merged


@event.listens_for(Session, "before_commit")
def _write_changes(session: Session) -> None:
    """Write the transaction's net changes, one ObjectChange per object, just before it commits."""
    if session.new or session.dirty or session.deleted:
        session.flush()
    entries = list(session.info.pop(_LOG_KEY, {}).values())
    if not entries:
        return
    time = utcnow()
    session.connection().execute(insert(ObjectChange), [{
        "time": time, "actor": e.ctx.actor, "request_id": e.ctx.request_id, "action": e.action,
        "object_type": object_type(e.model), "object_id": e.object_id, "object_repr": e.repr,
        "prechange_data": mask(e.model, e.before) if e.before is not None else None,
        "postchange_data": mask(e.model, e.after) if e.after is not None else None,
        "source": e.ctx.source,
    } for e in entries])
    # one more generation of the inventory, in the same transaction (see InventoryGeneration)
    session.connection().execute(update(InventoryGeneration).where(InventoryGeneration.id == 1)  # type: ignore[arg-type]
                                 .values(n=InventoryGeneration.n + 1))
    log.debug("event=object_changes count=%d request_id=%s", len(entries), entries[0].ctx.request_id)


@event.listens_for(Session, "after_rollback")
def _forget_pending(session: Session) -> None:
    for key in (_PENDING_KEY, _CASCADED_KEY, _LOG_KEY):
        session.info.pop(key, None)

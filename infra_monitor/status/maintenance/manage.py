"""Maintenance windows as operators manage them, shared by the CLI and the REST API.

Scopes are named by natural key (a device as ``site-slug/device-name`` or its id, a site by slug, a region
by official code) and resolved to ids; times given without a zone are read in the window's time zone and
stored in UTC. :func:`validate_window` is the one truth about what is valid: its problems come back keyed
by field (``{"end": ["end must be after start"]}``) in a :class:`WindowInputError`, and nothing is written.
Every add, change and removal commits, writes an ``ObjectChange`` (object type ``maintenance_window``) and
a structured log line naming the actor. Listing lives in :mod:`infra_monitor.status.store.listing`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from infra_monitor.status.engine.states import Cause, EventKind, Severity
from infra_monitor.status.maintenance.windows import (
    DEFAULT_TZ,
    MaintenanceWindow,
    ScopeType,
    WindowKind,
    validate_window,
)
from infra_monitor.status.store.models import EventRow, MaintenanceWindowRow
from inventory.models import Device, ObjectChange, Region, Site

log = logging.getLogger(__name__)

SITE: Any = Site.__table__  # type: ignore[attr-defined]
DEVICE: Any = Device.__table__  # type: ignore[attr-defined]
REGION: Any = Region.__table__  # type: ignore[attr-defined]

OBJECT_TYPE = "maintenance_window"
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_ALIASES = {
    **{n: i for i, n in enumerate(DAY_NAMES)},
    **{n: i for i, n in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))},
    **{f"t{i + 2}": i for i in range(6)}, "cn": 6,  # Vietnamese: thứ 2 … thứ 7, chủ nhật
}
DAYS_ALLOWED = "mon,tue,wed,thu,fri,sat,sun (or t2…t7, cn)"


class WindowInputError(ValueError):
    """Bad input for a window: ``{field: [messages]}``; nothing was written."""

    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = dict(errors)


class UnknownWindow(LookupError):
    """No maintenance window with that id."""


# ---------------------------------------------------------------- input --------------------------------------


@dataclass
class WindowSpec:
    """What a caller asks for. ``scope_ref`` is an id or a natural key; ``scope_field`` names it in errors.
    Naive ``start``/``end`` are local times in ``tz``; ``days`` are 0 (Monday) … 6 or day names."""

    name: str
    scope_type: str = ScopeType.ALL.value
    scope_ref: int | str | None = None
    scope_field: str = "scope"
    kind: str = WindowKind.ONE_OFF.value
    start: datetime | None = None
    end: datetime | None = None
    days: Sequence[int | str] = ()
    start_time: time | None = None
    duration_min: int | None = None
    cron: str | None = None
    tz: str = DEFAULT_TZ
    comment: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)


def parse_days(values: Iterable[int | str]) -> list[int]:
    """Weekdays as 0 (Monday) … 6 (Sunday) from numbers or names; ValueError naming what is allowed."""
    out: list[int] = []
    for v in values:
        if isinstance(v, bool):
            raise ValueError(f"unknown weekday {v!r}; use {DAYS_ALLOWED} or 0 (Monday) … 6 (Sunday)")
        if isinstance(v, int):
            if v not in range(7):
                raise ValueError(f"weekday {v} is not 0 (Monday) … 6 (Sunday)")
            day = v
        else:
            key = v.strip().lower()
            if key not in _DAY_ALIASES:
                raise ValueError(f"unknown weekday {v!r}; use {DAYS_ALLOWED}")
            day = _DAY_ALIASES[key]
        if day not in out:
            out.append(day)
    return sorted(out)


def zone_or_error(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        raise ValueError(f"unknown time zone {name!r}; use an IANA name such as {DEFAULT_TZ}") from None


def parse_when(text: str, tz: ZoneInfo) -> datetime:
    """``DD/MM/YYYY HH:MM``, ``DD/MM/YYYY`` (midnight) or ISO 8601; naive values are local times in ``tz``."""
    raw = text.strip()
    parsed: datetime | None = None
    for fmt in ("%d/%m/%Y %H:%M", "%d/%m/%Y"):
        try:
            parsed = datetime.strptime(raw, fmt)
            break
        except ValueError:
            continue
    if parsed is None:
        try:
            parsed = datetime.fromisoformat(raw)
        except ValueError:
            raise ValueError(f"{text!r} is not a time; use DD/MM/YYYY HH:MM (local) or ISO 8601") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=tz)


def resolve_site(session: Session, slug: str) -> int:
    site_id = session.scalar(select(SITE.c.id).where(SITE.c.slug == slug))
    if site_id is None:
        raise ValueError(f"no site with slug {slug!r}")
    return site_id


def resolve_device(session: Session, ref: int | str) -> int:
    """A device by id or by ``site-slug/device-name``."""
    if isinstance(ref, int) or ref.strip().isdigit():
        device_id = int(ref)
        if session.get(Device, device_id) is None:
            raise ValueError(f"no device with id {device_id}")
        return device_id
    site_slug, sep, name = ref.strip().partition("/")
    if not sep or not site_slug or not name:
        raise ValueError(f"{ref!r} is not SITE-SLUG/DEVICE-NAME or a device id")
    found = session.scalar(select(DEVICE.c.id).join(SITE, SITE.c.id == DEVICE.c.site_id)
                           .where(SITE.c.slug == site_slug, DEVICE.c.name == name))
    if found is None:
        raise ValueError(f"no device {name!r} at site {site_slug!r}")
    return found


def resolve_scope(session: Session, scope_type: ScopeType, ref: int | str | None) -> int | None:
    """The id of the scope's object; ids are checked to exist. Raises ValueError naming what is wrong."""
    if scope_type is ScopeType.ALL:
        if ref not in (None, ""):
            raise ValueError("scope 'all' takes no device, site or region")
        return None
    if ref in (None, ""):
        raise ValueError(f"scope {scope_type.value!r} needs a {scope_type.value}")
    assert ref is not None
    if scope_type is ScopeType.DEVICE:
        return resolve_device(session, ref)
    model: Any = Site if scope_type is ScopeType.SITE else Region
    if isinstance(ref, int):
        if session.get(model, ref) is None:
            raise ValueError(f"no {scope_type.value} with id {ref}")
        return ref
    if scope_type is ScopeType.SITE:
        return resolve_site(session, ref)
    region_id = session.scalar(select(REGION.c.id).where(REGION.c.code == ref.strip()))
    if region_id is None:
        raise ValueError(f"no region with code {ref!r}")
    return region_id


class _Unchecked(MaintenanceWindow):
    """A window that has not been validated yet (only to ask :func:`validate_window` about it)."""

    def __post_init__(self) -> None:
        pass


_PROBLEM_FIELDS = (("start must", "start"), ("end must", "end"), ("duration_min", "duration_min"),
                   ("days must", "days"), ("start_time", "start_time"), ("cron", "cron"), ("time zone", "tz"))


def _problem_field(problem: str, w: MaintenanceWindow, scope_field: str) -> str:
    if "needs start and end" in problem:
        return "start" if w.start is None else "end"
    if "scope" in problem:
        return scope_field
    return next((f for key, f in _PROBLEM_FIELDS if key in problem), "non_field_errors")


def build_window(session: Session, spec: WindowSpec) -> MaintenanceWindow:
    """The validated window ``spec`` describes (UTC times, resolved scope); raises WindowInputError."""
    errors: dict[str, list[str]] = {k: list(v) for k, v in spec.errors.items()}

    def bad(key: str, message: str) -> None:
        errors.setdefault(key, []).append(message)

    name = spec.name.strip()
    if not name or len(name) > 200:
        bad("name", "a name of 1 to 200 characters is required")
    if len(spec.comment) > 1000:
        bad("comment", "at most 1000 characters")
    try:
        scope_type = ScopeType(spec.scope_type)
    except ValueError:
        bad("scope_type", f"{spec.scope_type!r} is not one of {', '.join(s.value for s in ScopeType)}")
        scope_type = ScopeType.ALL
    try:
        kind = WindowKind(spec.kind)
    except ValueError:
        bad("kind", f"{spec.kind!r} is not one of {', '.join(k.value for k in WindowKind)}")
        kind = WindowKind.ONE_OFF
    tz: ZoneInfo = ZoneInfo("UTC")
    try:
        tz = zone_or_error(spec.tz)
    except ValueError as exc:
        bad("tz", str(exc))
    scope_id: int | None = None
    if "scope_type" not in errors:
        try:
            scope_id = resolve_scope(session, scope_type, spec.scope_ref)
        except ValueError as exc:
            bad(spec.scope_field, str(exc))
    days: list[int] = []
    if kind is WindowKind.WEEKLY:
        try:
            days = parse_days(spec.days)
        except ValueError as exc:
            bad("days", str(exc))
    if errors.keys() & {"kind", "tz", "scope_type"}:
        raise WindowInputError(errors)

    def utc(value: datetime | None) -> datetime | None:
        return None if value is None else (value if value.tzinfo else value.replace(tzinfo=tz)).astimezone(UTC)

    recurring = kind is not WindowKind.ONE_OFF
    values: dict[str, Any] = {
        "id": None, "name": name, "kind": kind, "scope_type": scope_type, "scope_id": scope_id,
        "start": utc(spec.start), "end": utc(spec.end), "days": tuple(days),
        "start_time": spec.start_time if kind is WindowKind.WEEKLY else None,
        "duration_min": spec.duration_min if recurring else None,
        "cron": spec.cron if kind is WindowKind.CRON else None, "tz": spec.tz,
    }
    draft = _Unchecked(**values)
    already = set(errors)  # a field already wrong gets no second, derived complaint
    for problem in validate_window(draft):
        key = _problem_field(problem, draft, spec.scope_field)
        if key not in already:
            bad(key, problem)
    if errors:
        raise WindowInputError(errors)
    return MaintenanceWindow(**values)


# ---------------------------------------------------------------- writes -------------------------------------


def _row_values(w: MaintenanceWindow) -> dict[str, Any]:
    return {"name": w.name, "scope_type": w.scope_type.value, "scope_id": w.scope_id, "kind": w.kind.value,
            "start": w.start, "end": w.end, "days": list(w.days), "start_time": w.start_time,
            "duration_min": w.duration_min, "cron": w.cron, "tz": w.tz}


def _snapshot(row: MaintenanceWindowRow) -> dict[str, Any]:
    return row.model_dump(mode="json")


def _record(session: Session, action: str, row: MaintenanceWindowRow, actor: str, request_id: str,
            before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
    session.add(ObjectChange(actor=actor[:100], request_id=request_id[:36], action=action, object_type=OBJECT_TYPE,
                             object_id=row.id, object_repr=row.name[:200], prechange_data=before,
                             postchange_data=after))


def add_window(session: Session, spec: WindowSpec, actor: str, request_id: str | None = None) -> int:
    """Validate, store and commit a new window; returns its id (WindowInputError: nothing written)."""
    w = build_window(session, spec)
    row = MaintenanceWindowRow(**_row_values(w), created_by=actor[:100], comment=spec.comment)
    session.add(row)
    session.flush()
    rid = request_id or str(uuid.uuid4())
    _record(session, "create", row, actor, rid, None, _snapshot(row))
    session.commit()
    assert row.id is not None
    log.info("event=maintenance_window_added id=%d name=%r scope=%s:%s kind=%s actor=%s request_id=%s",
             row.id, row.name, row.scope_type, row.scope_id, row.kind, actor, rid)
    return row.id


def spec_of(row: MaintenanceWindowRow) -> WindowSpec:
    """The spec a stored row was made from (to apply a partial change to it)."""
    return WindowSpec(name=row.name, scope_type=row.scope_type, scope_ref=row.scope_id, scope_field="scope_id",
                      kind=row.kind, start=row.start, end=row.end, days=list(row.days or ()),
                      start_time=row.start_time, duration_min=row.duration_min, cron=row.cron, tz=row.tz,
                      comment=row.comment)


def update_window(session: Session, window_id: int, spec: WindowSpec, actor: str,
                  request_id: str | None = None) -> None:
    """Replace the window's definition with ``spec`` (start from :func:`spec_of` for a partial change)."""
    row = session.get(MaintenanceWindowRow, window_id)
    if row is None:
        raise UnknownWindow(window_id)
    w = build_window(session, spec)
    before = _snapshot(row)
    for key, value in {**_row_values(w), "comment": spec.comment}.items():
        setattr(row, key, value)
    session.flush()
    rid = request_id or str(uuid.uuid4())
    _record(session, "update", row, actor, rid, before, _snapshot(row))
    session.commit()
    log.info("event=maintenance_window_changed id=%d name=%r scope=%s:%s kind=%s actor=%s request_id=%s",
             window_id, row.name, row.scope_type, row.scope_id, row.kind, actor, rid)


def remove_window(session: Session, window_id: int, actor: str, now: datetime, request_id: str | None = None) -> str:
    """Delete a window and commit; returns its name. A window the sweep saw active gets its
    ``maintenance_end`` event here, since no later sweep will see it end."""
    row = session.get(MaintenanceWindowRow, window_id)
    if row is None:
        raise UnknownWindow(window_id)
    name, before = row.name, _snapshot(row)
    rid = request_id or str(uuid.uuid4())
    _record(session, "delete", row, actor, rid, before, None)
    if row.active_since is not None:
        session.add(EventRow(
            time=now, kind=EventKind.MAINTENANCE_END.value, severity=Severity.INFO.value,
            device_id=row.scope_id if row.scope_type == ScopeType.DEVICE.value else None,
            site_id=row.scope_id if row.scope_type == ScopeType.SITE.value else None,
            cause=Cause.MAINTENANCE.value, message=f"maintenance {name!r} ended (removed by {actor})"[:500],
            details={"scope_type": row.scope_type, "scope_id": row.scope_id, "window_kind": row.kind,
                     "window_id": window_id, "window": name, "removed_by": actor},
        ))
    session.delete(row)
    session.commit()
    log.info("event=maintenance_window_removed id=%d name=%r actor=%s request_id=%s", window_id, name, actor, rid)
    return name

"""What operators list: maintenance windows with their activity and next occurrence, and the event log (also
grouped under root causes); problems are listed by :mod:`infra_monitor.status.store.problem_listing`.

Shared by the CLI (``infra-monitor maintenance list``, ``events``), the REST API
(``/api/status/maintenance/``, ``/api/status/events/``) and the ``/events`` page, so all show the same
thing. Times come out in UTC (aware); callers render them locally. Each list costs a constant number of
queries whatever its length.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from infra_monitor.status.maintenance.manage import DAY_NAMES, DEVICE, REGION, SITE, parse_when, resolve_site
from infra_monitor.status.maintenance.windows import (
    MaintenanceWindow,
    ScopeType,
    WindowKind,
    is_active,
    window_intervals,
)
from infra_monitor.status.store.models import EventRow, MaintenanceWindowRow
from infra_monitor.status.store.sweeps import window_from_row

NEXT_HORIZONS_DAYS = (1, 8, 32, 367)

# ---------------------------------------------------------------- maintenance windows ------------------------


class WindowOut(BaseModel):
    """A maintenance window as listed: its definition (times in UTC), whether it is active now and when
    its next occurrence starts. ``problem`` is set when the stored row is no longer valid."""

    id: int
    name: str
    scope_type: str
    scope_id: int | None
    scope: str | None = None
    scope_name: str | None = None
    kind: str
    schedule: str
    start: datetime | None
    end: datetime | None
    days: list[int]
    start_time: time | None
    duration_min: int | None
    cron: str | None
    tz: str
    comment: str
    created_by: str
    created_at: datetime
    active: bool
    active_until: datetime | None = None
    active_since: datetime | None = None
    next_start: datetime | None = None
    next_end: datetime | None = None
    problem: str | None = None


def next_occurrence(w: MaintenanceWindow, now: datetime) -> tuple[datetime, datetime] | None:
    """The first occurrence starting after ``now`` (UTC), or None. Read from :func:`window_intervals` (the
    same truth as :func:`is_active`) over growing horizons, so a sparse cron costs little and a dense one
    stops early."""
    if w.kind is WindowKind.ONE_OFF:
        assert w.start is not None and w.end is not None
        return (w.start, w.end) if w.start > now else None
    duration = timedelta(minutes=w.duration_min or 0)
    for days in NEXT_HORIZONS_DAYS:
        later = [s for s, _ in window_intervals(w, now, now + timedelta(days=days)) if s > now]
        if later:
            return later[0], later[0] + duration
        if w.end is not None and w.end <= now + timedelta(days=days):
            return None
    return None


def _active_until(w: MaintenanceWindow, now: datetime) -> datetime | None:
    span = (w.end - now) if w.kind is WindowKind.ONE_OFF and w.end else timedelta(minutes=w.duration_min or 0)
    spans = window_intervals(w, now, now + span)
    return spans[0][1] if spans and spans[0][0] == now else None


def schedule_text(w: MaintenanceWindow) -> str:
    """``01/02/2026 22:00 → 02/02/2026 02:00 (GMT+7)``, ``weekly mon,wed at 22:00 for 120 min``, …"""
    from infra_monitor.readmodel.fmt import local_dt  # here: the read model's schemas import this module

    tz = ZoneInfo(w.tz)
    if w.kind is WindowKind.ONE_OFF:
        return f"{local_dt(w.start, tz, label=False)} → {local_dt(w.end, tz)}"
    if w.kind is WindowKind.WEEKLY:
        assert w.start_time is not None
        text = f"weekly {','.join(DAY_NAMES[d] for d in w.days)} at {w.start_time:%H:%M}"
    else:
        text = f"cron '{w.cron}'"
    text += f" for {w.duration_min} min"
    if w.start is not None:
        text += f" from {local_dt(w.start, tz)}"
    if w.end is not None:
        text += f" until {local_dt(w.end, tz)}"
    return text


def scope_labels(session: Session, pairs: Iterable[tuple[str, int | None]]
                 ) -> dict[tuple[str, int], tuple[str, str]]:
    """(scope_type, id) → (natural key, name); one query per scope type present."""
    wanted: dict[str, set[int]] = {}
    for scope_type, scope_id in pairs:
        if scope_id is not None and scope_type != ScopeType.ALL.value:
            wanted.setdefault(scope_type, set()).add(scope_id)
    out: dict[tuple[str, int], tuple[str, str]] = {}
    ids = wanted.get(ScopeType.DEVICE.value)
    if ids:
        for i, name, slug in session.execute(select(DEVICE.c.id, DEVICE.c.name, SITE.c.slug).join(
                SITE, SITE.c.id == DEVICE.c.site_id).where(DEVICE.c.id.in_(ids))):
            out[("device", i)] = (f"{slug}/{name}", name)
    ids = wanted.get(ScopeType.SITE.value)
    if ids:
        for i, slug, name in session.execute(select(SITE.c.id, SITE.c.slug, SITE.c.name).where(SITE.c.id.in_(ids))):
            out[("site", i)] = (slug, name)
    ids = wanted.get(ScopeType.REGION.value)
    if ids:
        for i, code, name in session.execute(select(REGION.c.id, REGION.c.code, REGION.c.name).where(
                REGION.c.id.in_(ids))):
            out[("region", i)] = (code, name)
    return out


def _window_out(row: MaintenanceWindowRow, now: datetime, labels: Mapping[tuple[str, int], tuple[str, str]]
                ) -> WindowOut:
    assert row.id is not None
    key, name = labels.get((row.scope_type, row.scope_id), (None, None)) if row.scope_id is not None else (None, None)
    base: dict[str, Any] = {
        "id": row.id, "name": row.name, "scope_type": row.scope_type, "scope_id": row.scope_id, "scope": key,
        "scope_name": name, "kind": row.kind, "start": row.start, "end": row.end, "days": list(row.days or ()),
        "start_time": row.start_time, "duration_min": row.duration_min, "cron": row.cron, "tz": row.tz,
        "comment": row.comment, "created_by": row.created_by, "created_at": row.created_at,
        "active_since": row.active_since,
    }
    try:
        w = window_from_row(row.model_dump())
    except ValueError as exc:
        return WindowOut(**base, schedule="(invalid)", active=False, problem=str(exc))
    nxt = next_occurrence(w, now)
    return WindowOut(**base, schedule=schedule_text(w), active=is_active(w, now), active_until=_active_until(w, now),
                     next_start=nxt[0] if nxt else None, next_end=nxt[1] if nxt else None)


def list_windows(session: Session, now: datetime, *, active: bool | None = None,
                 window_id: int | None = None) -> list[WindowOut]:
    """Windows by id (all, or the one ``window_id``), optionally only those (not) active at ``now``;
    at most four queries whatever their number."""
    window: Any = MaintenanceWindowRow
    stmt = select(window).order_by(window.id)
    if window_id is not None:
        stmt = stmt.where(window.id == window_id)
    rows = list(session.scalars(stmt))
    labels = scope_labels(session, ((r.scope_type, r.scope_id) for r in rows))
    out = [_window_out(r, now, labels) for r in rows]
    return out if active is None else [w for w in out if w.active == active]


# ---------------------------------------------------------------- events -------------------------------------


class EventLogEntry(BaseModel):
    """One entry of the event log (time in UTC) with the names of its device, site and root cause."""

    id: int
    time: datetime
    kind: str
    severity: str
    device_id: int | None = None
    device: str | None = None
    site_id: int | None = None
    site: str | None = None
    site_name: str | None = None
    old_state: str | None = None
    new_state: str | None = None
    cause: str | None = None
    root_cause_device_id: int | None = None
    root_cause: str | None = None
    maintenance_window_id: int | None = None
    message: str
    details: dict[str, Any]


@dataclass(frozen=True)
class EventFilter:
    """Events at or after ``since`` and before ``until``, of one site (its own or its devices'), one device,
    kind, severity; ``before``: only events with a smaller id (the "older" page of a feed)."""

    since: datetime | None = None
    site_id: int | None = None
    device_id: int | None = None
    kind: str | None = None
    severity: str | None = None
    until: datetime | None = None
    before: int | None = None

    def any(self) -> bool:
        return any(v is not None for v in (self.since, self.site_id, self.device_id, self.kind, self.severity,
                                           self.until))


def list_events(session: Session, f: EventFilter, limit: int, offset: int = 0, *,
                count: bool = True) -> tuple[int, list[EventLogEntry]]:
    """(how many match, one page of them newest first): two queries; one with ``count=False`` (the count is
    then -1), for feeds that only show the latest."""
    ev: Any = EventRow.__table__  # type: ignore[attr-defined]
    dev, site = DEVICE, SITE
    root = dev.alias("root")
    dsite = site.alias("device_site")
    conds = []
    if f.since is not None:
        conds.append(ev.c.time >= f.since)
    if f.site_id is not None:
        conds.append(or_(ev.c.site_id == f.site_id, dev.c.site_id == f.site_id))
    if f.device_id is not None:
        conds.append(ev.c.device_id == f.device_id)
    if f.kind is not None:
        conds.append(ev.c.kind == f.kind)
    if f.severity is not None:
        conds.append(ev.c.severity == f.severity)
    if f.until is not None:
        conds.append(ev.c.time < f.until)
    if f.before is not None:
        conds.append(ev.c.id < f.before)
    joined = ev.outerjoin(dev, dev.c.id == ev.c.device_id)
    total = (session.scalar(select(func.count()).select_from(joined).where(*conds)) or 0) if count else -1
    stmt = (select(ev, dev.c.name.label("device_name"), dsite.c.slug.label("device_site_slug"),
                   site.c.id.label("any_site_id"), site.c.slug.label("site_slug"), site.c.name.label("site_name"),
                   root.c.name.label("root_name"))
            .select_from(joined.outerjoin(dsite, dsite.c.id == dev.c.site_id)
                         .outerjoin(site, site.c.id == func.coalesce(ev.c.site_id, dev.c.site_id))
                         .outerjoin(root, root.c.id == ev.c.root_cause_device_id))
            .where(*conds).order_by(ev.c.time.desc(), ev.c.id.desc()).limit(limit).offset(offset))
    out = []
    for r in session.execute(stmt).mappings():
        out.append(EventLogEntry(
            id=r["id"], time=r["time"], kind=r["kind"], severity=r["severity"], device_id=r["device_id"],
            device=f"{r['device_site_slug']}/{r['device_name']}" if r["device_name"] is not None else None,
            site_id=r["any_site_id"], site=r["site_slug"], site_name=r["site_name"], old_state=r["old_state"],
            new_state=r["new_state"], cause=r["cause"], root_cause_device_id=r["root_cause_device_id"],
            root_cause=r["root_name"], maintenance_window_id=r["maintenance_window_id"], message=r["message"],
            details=r["details"] or {},
        ))
    return total, out


class EventGroup(BaseModel):
    """A row of the grouped feed: one event, or the devices that became UNREACHABLE behind one root cause in
    one sweep, under that root cause's DOWN event (``event`` None when it is not on this page)."""

    event: EventLogEntry | None = None
    root_cause_device_id: int | None = None
    root_cause: str | None = None
    time: datetime
    members: list[EventLogEntry] = []


def _behind(e: EventLogEntry) -> bool:
    return (e.kind == "state_change" and e.new_state == "unreachable" and e.root_cause_device_id is not None
            and e.cause == "parent_unreachable")


def group_by_root(entries: Iterable[EventLogEntry]) -> list[EventGroup]:
    """Group a page of events: UNREACHABLE events of one sweep (same time) behind one root cause go under
    that root's DOWN event of the same sweep, which takes the place of the group's newest event; every
    other event is a row of its own. Order is kept otherwise."""
    entries = list(entries)
    heads = {(e.device_id, e.time): e for e in entries if e.kind == "state_change" and e.new_state == "down"}
    groups: dict[tuple[int | None, datetime], EventGroup] = {}
    out: list[EventGroup] = []
    for e in entries:
        key = (e.root_cause_device_id, e.time) if _behind(e) else (e.device_id, e.time)
        if _behind(e) or (key in heads and heads[key] is e):
            group = groups.get(key)
            if group is None:
                group = groups[key] = EventGroup(root_cause_device_id=key[0], time=e.time)
                out.append(group)
            if _behind(e):
                group.members.append(e)
                group.root_cause = group.root_cause or e.root_cause
            else:
                group.event = e
            continue
        out.append(EventGroup(event=e, time=e.time))
    return [g if g.members or g.event is None else EventGroup(event=g.event, time=g.time) for g in out]


EVENT_FIELDS = ("since", "until", "site", "device", "kind", "severity", "before")


def parse_event_filter(session: Session, zone: ZoneInfo, raw: Mapping[str, str | None]
                       ) -> tuple[EventFilter, dict[str, list[str]]]:
    """The event filter of text values as a form or a query string gives them (empty ones ignored), and the
    problems with them by field; the ``/events`` page's form, like the CLI's options."""
    from infra_monitor.status.engine.states import EventKind, Severity

    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for key in EVENT_FIELDS:
        text = (raw.get(key) or "").strip()
        if not text:
            continue
        try:
            if key in ("since", "until"):
                values[key] = parse_when(text, zone).astimezone(UTC)
            elif key == "site":
                values["site_id"] = resolve_site(session, text)
            elif key == "device":
                from infra_monitor.status.maintenance.manage import resolve_device

                values["device_id"] = resolve_device(session, text)
            elif key == "kind":
                values[key] = EventKind(text).value
            elif key == "severity":
                values[key] = Severity(text).value
            elif not text.isdigit() or len(text) > 18:
                raise ValueError(f"'{text}' is not an event id")
            else:
                values[key] = int(text)
        except (ValueError, OverflowError) as exc:
            allowed = {"kind": EventKind, "severity": Severity}.get(key)
            errors[key] = [f"'{text}' is not one of {', '.join(allowed)}." if allowed else f"{exc}."]
    return EventFilter(**values), errors

"""The overview: counts by state, coverage against the plan, problems, latest events and data freshness.

A constant number of queries whatever the number of sites: sites per (level, state, connected) with their
devices per state (one grouped statement), coverage targets, VC endpoints, availability (intervals and
windows), problems (one statement with a grouped sub-query counting the devices cut off behind each root
cause), events, the heartbeats with the poller groups in use, and the systems hosted in the data center
(services, their check states, their checks' state intervals).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from infra_monitor.config import Settings
from infra_monitor.readmodel.coverage import coverage_of, load_targets
from infra_monitor.readmodel.frame import (
    DEV,
    DS,
    SITE,
    SiteFilter,
    count_states,
    device_counts,
    hard_since,
    level_counts,
    monitored,
)
from infra_monitor.readmodel.probe_health import kind_health
from infra_monitor.readmodel.schemas import EventOut, Freshness, Overview, PollerFreshness, Problem
from infra_monitor.readmodel.services import hosted_summary
from infra_monitor.status.engine.states import State
from infra_monitor.status.store.listing import EventFilter, EventGroup, group_by_root, list_events
from infra_monitor.status.store.models import DeviceStatusRow, EventRow, PollerHeartbeatRow, ProblemRow
from inventory.dated import Regions
from inventory.models import Device, Site

EV = EventRow.__table__.c  # type: ignore[attr-defined]
HB = PollerHeartbeatRow.__table__.c  # type: ignore[attr-defined]
PR = ProblemRow.__table__.c  # type: ignore[attr-defined]
# Aliases built once: an alias's column collection is computed on first use and kept.
CUT = DeviceStatusRow.__table__.alias("cut")  # type: ignore[attr-defined]
ROOT = Device.__table__.alias("root")  # type: ignore[attr-defined]


class TrackedProblem(Problem):
    """A problem of the overview with the open problem record of its root cause, when there is one (a DOWN
    root cause): its id (for ``/problems/{id}``), acknowledgement and assignee."""

    problem_id: int | None = None
    acknowledged: bool = False
    ack_by: str | None = None
    assignee: str | None = None


def problems(conn: Connection, limit: int = 100, site_ids: Any = None) -> tuple[list[Problem], int]:
    """DOWN root causes (with the number of devices UNREACHABLE behind each, and their open problem record),
    then flapping devices, then devices in maintenance; at most ``limit``, plus the total count."""
    cut = CUT
    record = (select(PR.id, PR.root_device_id, PR.acknowledged, PR.ack_by, PR.assignee)
              .where(PR.resolved_at.is_(None)).subquery())
    behind = (select(cut.c.root_cause_device_id.label("rid"), func.count().label("n"))
              .where(cut.c.hard_state == State.UNREACHABLE.value, cut.c.hard.is_(True))
              .group_by(cut.c.root_cause_device_id).subquery())
    kind = case((DS.hard_state == State.DOWN.value, 0), (DS.flapping.is_(True), 1), else_=2)
    n_behind = func.coalesce(behind.c.n, 0)
    stmt = (select(DS.device_id, DS.hard_state, DS.flapping, DS.cause, hard_since().label("since"),
                   DEV.name.label("device_name"), SITE.slug, SITE.name.label("site_name"),
                   n_behind.label("behind"), kind.label("kind"), func.count().over().label("total"),
                   record.c.id.label("problem_id"), record.c.acknowledged, record.c.ack_by, record.c.assignee)
            .join(Device, DEV.id == DS.device_id).join(Site, SITE.id == DEV.site_id)
            .outerjoin(behind, behind.c.rid == DS.device_id)
            .outerjoin(record, record.c.root_device_id == DS.device_id)
            .where(monitored(), or_(DS.hard_state.in_((State.DOWN.value, State.MAINTENANCE.value)),
                                    DS.flapping.is_(True)))
            .order_by(kind, n_behind.desc(), hard_since(), DEV.name)
            .limit(limit))
    if site_ids is not None:
        stmt = stmt.where(DEV.site_id.in_(site_ids))
    out: list[Problem] = []
    total = 0
    for r in conn.execute(stmt):
        total = r.total
        out.append(TrackedProblem(
            kind=("down", "flapping", "maintenance")[r.kind], device_id=r.device_id, device_name=r.device_name,
            site_slug=r.slug, site_name=r.site_name, state=r.hard_state, since=r.since,
            cause=r.cause if r.hard_state == State.DOWN.value else None, flapping=r.flapping,
            unreachable_behind=r.behind, problem_id=r.problem_id, acknowledged=bool(r.acknowledged),
            ack_by=r.ack_by, assignee=r.assignee))
    return out, total


def events(conn: Connection, limit: int = 20, *, site_id: int | None = None, device_id: int | None = None,
           before_id: int | None = None) -> list[EventOut]:
    """Latest events, newest first, with device, site and root-cause names (one query)."""
    root = ROOT
    stmt = (select(EV.id, EV.time, EV.kind, EV.device_id, EV.severity, EV.old_state, EV.new_state, EV.cause,
                   EV.root_cause_device_id, EV.message, EV.details, DEV.name.label("device_name"), SITE.slug,
                   SITE.name.label("site_name"), root.c.name.label("root_name"))
            .outerjoin(Device, DEV.id == EV.device_id)
            .outerjoin(Site, SITE.id == func.coalesce(EV.site_id, DEV.site_id))
            .outerjoin(root, root.c.id == EV.root_cause_device_id)
            .order_by(EV.time.desc(), EV.id.desc()).limit(limit))
    if site_id is not None:
        stmt = stmt.where(or_(EV.site_id == site_id, DEV.site_id == site_id))
    if device_id is not None:
        stmt = stmt.where(or_(EV.device_id == device_id, EV.root_cause_device_id == device_id))
    if before_id is not None:
        stmt = stmt.where(EV.id < before_id)
    return [EventOut(id=r.id, at=r.time, kind=r.kind, device_id=r.device_id, device_name=r.device_name,
                     site_slug=r.slug, site_name=r.site_name, old_state=r.old_state, new_state=r.new_state,
                     cause=r.cause, root_cause_device_id=r.root_cause_device_id, root_cause_name=r.root_name,
                     severity=r.severity, message=r.message or None, details=r.details or {})
            for r in conn.execute(stmt)]


def event_feed(conn: Connection, rows: int, scan: int = 300) -> list[EventGroup]:
    """The latest ``rows`` rows of the grouped feed (devices cut off behind a root cause in one sweep are one
    row under it), from the latest ``scan`` events: one query."""
    with Session(bind=conn) as session:
        _n, entries = list_events(session, EventFilter(), scan, count=False)
    return group_by_root(entries)[:rows]


def freshness(conn: Connection, settings: Settings, now: datetime) -> Freshness:
    """Last sweep per poller group and kind; stale when older than ``web.stale_after_s``. Only groups that
    serve monitored devices and kinds enabled here decide the overall verdict."""
    limit = settings.web.stale_after_s
    groups = {r[0] for r in conn.execute(select(DEV.poller_group).where(monitored()).distinct())}
    enabled = {k for k, cfg in settings.probes if cfg.enabled}
    pollers: list[PollerFreshness] = []
    for r in conn.execute(select(HB.poller_group, HB.kind, HB.last_sweep_finished, HB.targets)
                          .order_by(HB.poller_group, HB.kind)):
        age = (now - r.last_sweep_finished).total_seconds() if r.last_sweep_finished else None
        idle = r.targets == 0 and age is not None and age <= limit
        pollers.append(PollerFreshness(poller_group=r.poller_group, kind=r.kind, finished_at=r.last_sweep_finished,
                                       age_s=age, stale=not idle and (age is None or age > limit),
                                       targets=r.targets, idle=idle))
    working = [p for p in pollers if not p.idle]
    deciding = [p for p in working if p.poller_group in groups and p.kind in enabled] or working
    last = max((p.finished_at for p in pollers if p.finished_at), default=None)
    age = (now - last).total_seconds() if last else None
    stale = not deciding or any(p.stale for p in deciding)
    return Freshness(stale_after_s=limit, last_sweep_at=last, age_s=age, stale=stale, pollers=pollers)


def overview(conn: Connection, settings: Settings, now: datetime, as_of: date, regions: Regions, *,
             problem_limit: int = 100, event_limit: int = 15) -> Overview:
    """Everything the overview page shows, in a constant number of queries."""
    everything = SiteFilter()
    counts = level_counts(conn, everything, regions)
    probs, total = problems(conn, problem_limit)
    return Overview(
        generated_at=now, as_of=as_of, province_name=settings.general.province_name,
        sites=count_states(counts, weight="sites"), devices=device_counts(counts),
        coverage=coverage_of(conn, everything, regions, now, load_targets(conn, as_of), counts=counts),
        problems=probs, problems_total=total, events=events(conn, event_limit),
        freshness=freshness(conn, settings, now), probes=kind_health(conn, settings, now),
        feed=event_feed(conn, event_limit), hosted=hosted_summary(conn, settings, now))


def heartbeat_token(conn: Connection) -> Any:
    """A cheap value that changes whenever a sweep finishes: cached aggregates are dropped when it does."""
    return conn.execute(select(func.max(HB.last_sweep_finished), func.count())).one()

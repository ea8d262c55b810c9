"""Sites with their aggregated state, computed by the database in one statement whatever their number.

:func:`site_select` joins every site to the tally of its monitored devices' *hard* (confirmed) states (one
``GROUP BY`` sub-query, so one lost ping does not turn a site red), derives the site state with the rule of
:mod:`infra_monitor.readmodel.sitestate`, and flags connected sites. :func:`load_sites` returns those rows
as they come (light, for sorting and counting 10,000 sites); :func:`to_row` makes the API model of the few
that are shown. :func:`level_counts` aggregates the same statement by level, state and connection.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, case, exists, false, func, or_, select
from sqlalchemy.engine import Connection, Row

from infra_monitor.readmodel.schemas import STATES, SiteRow, StateCounts
from infra_monitor.readmodel.sitestate import site_state_sql
from infra_monitor.status.engine.states import Cause, State
from infra_monitor.status.store.models import DeviceStatusRow
from inventory.choices import (
    CircuitStatusChoices,
    SiteCategoryChoices,
    SiteStatusChoices,
    TermSideChoices,
)
from inventory.dated import Regions
from inventory.models import Circuit, CircuitTermination, Device, Site
from inventory.monitoring import monitored_condition

DS = DeviceStatusRow.__table__.c  # type: ignore[attr-defined]
DEV = Device.__table__.c  # type: ignore[attr-defined]
SITE = Site.__table__.c  # type: ignore[attr-defined]
CIRCUIT = Circuit.__table__.c  # type: ignore[attr-defined]
TERM = CircuitTermination.__table__.c  # type: ignore[attr-defined]


def monitored(dev: Any = DEV) -> Any:
    """WHERE clause for devices the pollers check (:func:`inventory.monitoring.monitored_condition`)."""
    return monitored_condition(dev)


def hard_since() -> Any:
    """When the device's confirmed state began (a soft failure keeps the previous hard state's start)."""
    return case((DS.hard.is_(True), DS.since), else_=func.coalesce(DS.hard_since, DS.since))


def _state_conditions() -> dict[str, Any]:
    """Conditions counting a device (LEFT JOINed to its status) into each field of a ``Tally``."""
    hs = DS.hard_state
    maint_cut = and_(hs == State.UNREACHABLE.value, DS.hard.is_(True), DS.cause == Cause.MAINTENANCE.value)
    return {
        "up": hs == State.UP.value,
        "down": hs == State.DOWN.value,
        "unreachable": and_(hs == State.UNREACHABLE.value, ~maint_cut),
        "maintenance": or_(hs == State.MAINTENANCE.value, maint_cut),
        "unknown": or_(hs.is_(None), hs == State.UNKNOWN.value),
    }


@dataclass(frozen=True)
class SiteFilter:
    """Filters of the site list; ``district`` is a region code (the region and everything below it)."""

    state: str | None = None
    level: str | None = None
    district: str | None = None
    q: str | None = None
    sort: str = "state"
    include_retired: bool = False
    limit: int | None = None
    offset: int = 0
    slug: str | None = None


def site_ids(flt: SiteFilter, regions: Regions) -> Select[Any]:
    """Ids of the sites matching ``flt`` apart from its state filter."""
    from inventory.search import q_filter

    stmt = select(SITE.id)
    if not flt.include_retired:
        stmt = stmt.where(SITE.status != SiteStatusChoices.RETIRED)
    if flt.level:
        stmt = stmt.where(SITE.category == flt.level)
    if flt.district:
        region = regions.by_code(flt.district)
        region_ids = regions.under(region.id) if region is not None else set()
        stmt = stmt.where(SITE.region_id.in_(region_ids) if region_ids else false())
    if flt.q:
        stmt = stmt.where(q_filter(Site, flt.q))
    if flt.slug:
        stmt = stmt.where(SITE.slug == flt.slug)
    return stmt


def _connects(site: Any) -> Any:
    return and_(CIRCUIT.id == TERM.circuit_id, CIRCUIT.status == CircuitStatusChoices.ACTIVE,
                or_(TERM.term_side == TermSideChoices.Z, site.category == SiteCategoryChoices.DATACENTER))


def is_connected(one_site: bool = False) -> Any:
    """Condition on ``site``: the site is the Z side (served end) of an active circuit; a data center, the
    hub circuits start from, is connected when any active circuit ends there. A correlated ``EXISTS`` for
    one site; for many, membership in the set of connected sites (computed once by the database)."""
    if one_site:
        return exists().where(TERM.site_id == SITE.id, _connects(SITE))
    other = Site.__table__.alias("cs")  # type: ignore[attr-defined]
    return SITE.id.in_(select(TERM.site_id).join(other, other.c.id == TERM.site_id).where(_connects(other.c)))


def site_select(flt: SiteFilter, regions: Regions) -> Select[Any]:
    """One row per matching site: identity, device counts per state, state, since and connected."""
    ids = site_ids(flt, regions)
    conditions = _state_conditions()
    failing = DS.hard_state.in_((State.DOWN.value, State.UNREACHABLE.value))
    tally = (select(DEV.site_id, *(func.sum(case((c, 1), else_=0)).label(n) for n, c in conditions.items()),
                    func.min(case((failing, hard_since()), else_=None)).label("first_fail"),
                    func.max(hard_since()).label("last_change"))
             .select_from(Device.__table__.outerjoin(DeviceStatusRow.__table__,  # type: ignore[attr-defined]
                                                     DS.device_id == DEV.id))
             .where(monitored(), DEV.site_id.in_(ids))
             .group_by(DEV.site_id).subquery("tally"))
    counts = {n: func.coalesce(tally.c[n], 0) for n in conditions}
    is_failing = or_(counts["down"] > 0, counts["unreachable"] > 0)
    return (select(SITE.id, SITE.slug, SITE.name, SITE.category, SITE.status, SITE.region_id, SITE.latitude,
                   SITE.longitude, *(c.label(n) for n, c in counts.items()),
                   site_state_sql(counts).label("state"),
                   case((is_failing, tally.c.first_fail), else_=tally.c.last_change).label("since"),
                   is_connected(one_site=flt.slug is not None).label("connected"))
            .select_from(Site.__table__.outerjoin(tally, tally.c.site_id == SITE.id))  # type: ignore[attr-defined]
            .where(SITE.id.in_(ids)))


def load_sites(conn: Connection, flt: SiteFilter, regions: Regions) -> list[Row[Any]]:
    """Light rows of :func:`site_select` (attributes: id, slug, name, category, state, since, connected…)."""
    return list(conn.execute(site_select(flt, regions)))


def to_row(s: Any, regions: Regions) -> SiteRow:
    """The API model of one light site row, with its region and district in force on the date."""
    region = regions.info(s.region_id)
    district = regions.district_of(s.region_id)
    return SiteRow(
        id=s.id, slug=s.slug, name=s.name, category=s.category, status=s.status,
        region_code=region.code if region else None, region_name=region.name if region else None,
        district_code=district.code if district else None, district_name=district.name if district else None,
        latitude=s.latitude, longitude=s.longitude, state=s.state, since=s.since,
        devices=StateCounts(up=s.up, down=s.down, unreachable=s.unreachable, unknown=s.unknown,
                            maintenance=s.maintenance),
        connected=bool(s.connected))


def level_counts(conn: Connection, flt: SiteFilter, regions: Regions) -> list[Row[Any]]:
    """Sites per (category, state, connected) with their devices per state: a few rows for any number of
    sites (attributes: category, state, connected, sites, up, down, unreachable, maintenance, unknown)."""
    sub = site_select(flt, regions).subquery()
    return list(conn.execute(
        select(sub.c.category, sub.c.state, sub.c.connected, func.count().label("sites"),
               *(func.sum(sub.c[n]).label(n) for n in STATES))
        .group_by(sub.c.category, sub.c.state, sub.c.connected)))


def count_states(rows: Iterable[Any], weight: str | None = None) -> StateCounts:
    """Sites (or, with ``weight``, the sum of that attribute) per state."""
    counts: Counter[str] = Counter()
    for r in rows:
        counts[r.state] += getattr(r, weight) if weight else 1
    return StateCounts(**{s: counts[s] for s in STATES})


def device_counts(rows: Iterable[Any]) -> StateCounts:
    """Monitored devices per state, summed over :func:`level_counts` rows."""
    totals: Counter[str] = Counter()
    for r in rows:
        for s in STATES:
            totals[s] += getattr(r, s) or 0
    return StateCounts(**{s: totals[s] for s in STATES})


__all__ = ["DEV", "DS", "SITE", "TERM", "Regions", "SiteFilter", "count_states", "device_counts",
           "hard_since", "level_counts", "load_sites", "monitored", "site_select", "to_row"]

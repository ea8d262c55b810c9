"""Sites with their aggregated state, computed by the database in one statement whatever their number.

:func:`site_select` joins every site to the tally of its monitored devices' *hard* (confirmed) states (so one
lost ping does not turn a site red), derives the site state with the rule of
:mod:`infra_monitor.readmodel.sitestate`, and flags connected sites. The tallies are read from ``site_tally``,
which the status store keeps as sweeps write (:mod:`infra_monitor.status.store.site_tally`), whenever it
matches the inventory's generation; otherwise (an inventory change since the last sweep, no poller yet) they
are computed live by one ``GROUP BY`` sub-query — the same rows either way. :func:`load_sites` returns those
rows as they come (light, for sorting and counting 10,000 sites); :func:`to_row` makes the API model of the
few that are shown. :func:`level_counts` aggregates the same statement by level, state and connection.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, String, case, false, func, or_, select, type_coerce
from sqlalchemy.engine import Connection, Row

from infra_monitor.readmodel.schemas import STATES, SiteRow, StateCounts
from infra_monitor.readmodel.sitestate import site_state_sql
from infra_monitor.status.store.models import DeviceStatusRow
from infra_monitor.status.store.site_tally import (
    SiteTallyRow,
    hard_since,
    is_connected,
    tally_is_current,
    tally_select,
)
from inventory.choices import SiteStatusChoices
from inventory.dated import Regions
from inventory.models import Circuit, CircuitTermination, Device, Site
from inventory.models.base import UTCDateTimeType
from inventory.monitoring import monitored_condition

DS = DeviceStatusRow.__table__.c  # type: ignore[attr-defined]
DEV = Device.__table__.c  # type: ignore[attr-defined]
SITE = Site.__table__.c  # type: ignore[attr-defined]
CIRCUIT = Circuit.__table__.c  # type: ignore[attr-defined]
TERM = CircuitTermination.__table__.c  # type: ignore[attr-defined]


def monitored(dev: Any = DEV) -> Any:
    """WHERE clause for devices the pollers check (:func:`inventory.monitoring.monitored_condition`)."""
    return monitored_condition(dev)


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


def site_select(flt: SiteFilter, regions: Regions, *, stored: bool = False, raw_since: bool = False) -> Select[Any]:
    """One row per matching site: identity, device counts per state, state, since and connected. With
    ``stored`` the tallies come from ``site_tally`` (only when :func:`tally_is_current` says it matches the
    inventory), otherwise they are computed live. ``raw_since`` leaves ``since`` as the driver returns it
    (ordered, not yet an aware datetime: see :func:`as_utc`), for lists that sort 10,000 rows to show 50."""
    ids = site_ids(flt, regions)
    tally = (SiteTallyRow.__table__ if stored  # type: ignore[attr-defined]
             else tally_select(ids, one_site=flt.slug is not None).subquery("tally"))
    counts = {n: func.coalesce(tally.c[n], 0) for n in STATES}
    is_failing = or_(counts["down"] > 0, counts["unreachable"] > 0)
    since = case((is_failing, tally.c.first_fail), else_=tally.c.last_change)
    return (select(SITE.id, SITE.slug, SITE.name, SITE.category, SITE.status, SITE.region_id, SITE.latitude,
                   SITE.longitude, *(c.label(n) for n, c in counts.items()),
                   site_state_sql(counts).label("state"),
                   (type_coerce(since, String()) if raw_since else since).label("since"),
                   func.coalesce(tally.c.connected, false()).label("connected"))
            .select_from(Site.__table__.outerjoin(tally, tally.c.site_id == SITE.id))  # type: ignore[attr-defined]
            .where(SITE.id.in_(ids)))


def stored_tally(conn: Connection) -> bool:
    """Whether the pages may read the stored site tallies (see :mod:`infra_monitor.status.store.site_tally`),
    asked once per transaction: a page's statements all read the same way."""
    txn = conn.get_transaction()
    memo = conn.info.get(_TALLY_MEMO)
    if txn is not None and memo is not None and memo[0] is txn:  # the same (live) transaction object
        return bool(memo[1])
    current = tally_is_current(conn)
    txn = conn.get_transaction()  # begun by that read if none was
    if txn is not None:
        conn.info[_TALLY_MEMO] = (txn, current)
    return current


_TALLY_MEMO = "infra_monitor.site_tally_current"


def load_sites(conn: Connection, flt: SiteFilter, regions: Regions, *, raw_since: bool = False) -> list[Row[Any]]:
    """Light rows of :func:`site_select` (attributes: id, slug, name, category, state, since, connected…)."""
    return list(conn.execute(site_select(flt, regions, stored=stored_tally(conn), raw_since=raw_since)))


def as_utc(value: Any) -> datetime | None:
    """An aware UTC datetime from ``since`` as :func:`load_sites` returned it (raw: SQLite's text)."""
    if value is None or isinstance(value, datetime):
        return UTCDateTimeType().process_result_value(value, None)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


def to_row(s: Any, regions: Regions) -> SiteRow:
    """The API model of one light site row, with its region and district in force on the date."""
    region = regions.info(s.region_id)
    district = regions.district_of(s.region_id)
    return SiteRow(
        id=s.id, slug=s.slug, name=s.name, category=s.category, status=s.status,
        region_code=region.code if region else None, region_name=region.name if region else None,
        district_code=district.code if district else None, district_name=district.name if district else None,
        latitude=s.latitude, longitude=s.longitude, state=s.state, since=as_utc(s.since),
        devices=StateCounts(up=s.up, down=s.down, unreachable=s.unreachable, unknown=s.unknown,
                            maintenance=s.maintenance),
        connected=bool(s.connected))


def level_counts(conn: Connection, flt: SiteFilter, regions: Regions) -> list[Row[Any]]:
    """Sites per (category, state, connected) with their devices per state: a few rows for any number of
    sites (attributes: category, state, connected, sites, up, down, unreachable, maintenance, unknown)."""
    sub = site_select(flt, regions, stored=stored_tally(conn)).subquery()
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
           "hard_since", "is_connected", "level_counts", "load_sites", "monitored", "site_select", "stored_tally",
           "to_row"]

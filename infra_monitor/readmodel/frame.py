"""The site frame: every site with its district, connection and aggregated state, from five flat queries.

Whatever the number of sites, :func:`load_frame` runs the same queries: regions, dated parent links, sites
(filtered in SQL by level, region and text), the per-site tally of device states (one ``GROUP BY``) and the
set of connected sites. Everything else (site state, district, sorting) is computed in Python over those
rows. Aggregates use each device's *hard* (confirmed) state, so one lost ping does not turn a site red.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, case, false, func, or_, select
from sqlalchemy.engine import Connection

from infra_monitor.readmodel.schemas import STATES, SiteRow, StateCounts
from infra_monitor.readmodel.sitestate import Tally, site_state
from infra_monitor.status.models import DeviceStatusRow
from infra_monitor.status.regions import ParentLink, RegionInfo, RegionTree
from infra_monitor.status.states import Cause, State
from inventory.choices import (
    CircuitStatusChoices,
    DeviceStatusChoices,
    RegionLevelChoices,
    SiteCategoryChoices,
    SiteStatusChoices,
    TermSideChoices,
)
from inventory.models import Circuit, CircuitTermination, Device, Region, RegionParentLink, Site

DS = DeviceStatusRow.__table__.c  # type: ignore[attr-defined]
DEV = Device.__table__.c  # type: ignore[attr-defined]
SITE = Site.__table__.c  # type: ignore[attr-defined]
REGION = Region.__table__.c  # type: ignore[attr-defined]
LINK = RegionParentLink.__table__.c  # type: ignore[attr-defined]
CIRCUIT = Circuit.__table__.c  # type: ignore[attr-defined]
TERM = CircuitTermination.__table__.c  # type: ignore[attr-defined]


def monitored(dev: Any = DEV) -> Any:
    """WHERE clause for devices the pollers check (monitoring on, status active/staged/failed)."""
    return and_(dev.monitoring_enabled.is_(True), dev.status.in_(DeviceStatusChoices.MONITORED))


def hard_since() -> Any:
    """When the device's confirmed state began (a soft failure keeps the previous hard state's start)."""
    return case((DS.hard.is_(True), DS.since), else_=func.coalesce(DS.hard_since, DS.since))


def _state_case() -> dict[str, Any]:
    """Conditions counting a device (LEFT JOINed to its status) into each bucket of a :class:`Tally`."""
    hs = DS.hard_state
    maint_cut = and_(hs == State.UNREACHABLE.value, DS.hard.is_(True), DS.cause == Cause.MAINTENANCE.value)
    return {
        "up": hs == State.UP.value,
        "down": hs == State.DOWN.value,
        "unreachable": and_(hs == State.UNREACHABLE.value, ~maint_cut),
        "maintenance": or_(hs == State.MAINTENANCE.value, maint_cut),
        "unknown": or_(hs.is_(None), hs == State.UNKNOWN.value),
    }


def tally_columns() -> list[Any]:
    """``SUM(CASE …)`` columns named up/down/unreachable/maintenance/unknown plus first_fail/last_change."""
    cols = [func.sum(case((cond, 1), else_=0)).label(name) for name, cond in _state_case().items()]
    failing = DS.hard_state.in_((State.DOWN.value, State.UNREACHABLE.value))
    cols.append(func.min(case((failing, hard_since()), else_=None)).label("first_fail"))
    cols.append(func.max(hard_since()).label("last_change"))
    return cols


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


@dataclass
class Regions:
    """The administrative structure on one date: which regions exist, their parents, and the successor
    that stands for a region merged away (a site keeps its region; after a merge it counts under the
    successor in force, as in :mod:`inventory.queries`)."""

    tree: RegionTree
    on: date
    alive: set[int] = field(default_factory=set)
    successor: dict[int, int] = field(default_factory=dict)

    def resolve(self, region_id: int | None) -> int | None:
        """The region in force on the date for ``region_id`` (None if it did not exist yet or ended without
        successor)."""
        seen: set[int] = set()
        while region_id is not None and region_id not in seen:
            seen.add(region_id)
            if region_id in self.alive:
                return region_id
            region_id = self.successor.get(region_id)
        return None

    def by_code(self, code: str) -> RegionInfo | None:
        found = [r for r in self.tree.regions.values() if r.code == code or r.slug == code]
        return next((r for r in found if r.id in self.alive), found[0] if found else None)

    def districts(self) -> list[RegionInfo]:
        return sorted((r for r in self.tree.regions.values()
                       if r.level == RegionLevelChoices.DISTRICT and r.id in self.alive), key=lambda r: r.code)

    def district_of(self, region_id: int | None) -> RegionInfo | None:
        """The district-level region containing ``region_id`` (itself when it is a district) on the date."""
        current = self.resolve(region_id)
        if current is None:
            return None
        for r in self.tree.ancestors(current):
            info = self.tree.regions.get(r)
            if info is not None and info.level == RegionLevelChoices.DISTRICT:
                return info
        return None

    def under(self, region_id: int) -> set[int]:
        """Every region id (merged ones included) that resolves to ``region_id`` or a region below it."""
        return {r for r in self.tree.regions
                if (res := self.resolve(r)) is not None and region_id in self.tree.ancestors(res)}


@dataclass
class Frame:
    """Sites (already filtered in SQL) with their computed rows, plus the regions used."""

    regions: Regions
    rows: list[SiteRow] = field(default_factory=list)
    tallies: dict[int, Tally] = field(default_factory=dict)
    site_region: dict[int, int | None] = field(default_factory=dict)

    @property
    def tree(self) -> RegionTree:
        return self.regions.tree


def load_regions(conn: Connection, on: date) -> Regions:
    """Regions, their validity and successors, and the parent links valid on ``on`` (two queries)."""
    rows = conn.execute(select(REGION.id, REGION.code, REGION.slug, REGION.name, REGION.level, REGION.valid_from,
                               REGION.valid_to, REGION.successor_id)).all()
    links = [ParentLink(r.region_id, r.parent_id, r.valid_from, r.valid_to)
             for r in conn.execute(select(LINK.region_id, LINK.parent_id, LINK.valid_from, LINK.valid_to))]
    tree = RegionTree.build([RegionInfo(id=r.id, code=r.code, slug=r.slug, name=r.name, level=r.level)
                             for r in rows], links, on)
    alive = {r.id for r in rows
             if (r.valid_from is None or r.valid_from <= on) and (r.valid_to is None or on < r.valid_to)}
    successor = {r.id: r.successor_id for r in rows if r.successor_id is not None}
    return Regions(tree=tree, on=on, alive=alive, successor=successor)


def site_query(flt: SiteFilter, region_ids: Collection[int] | None) -> Select[Any]:
    from inventory.search import q_filter

    stmt = select(SITE.id, SITE.slug, SITE.name, SITE.category, SITE.status, SITE.region_id,
                  SITE.latitude, SITE.longitude)
    if not flt.include_retired:
        stmt = stmt.where(SITE.status != SiteStatusChoices.RETIRED)
    if flt.level:
        stmt = stmt.where(SITE.category == flt.level)
    if region_ids is not None:
        stmt = stmt.where(SITE.region_id.in_(region_ids) if region_ids else false())
    if flt.q:
        stmt = stmt.where(q_filter(Site, flt.q))
    if flt.slug:
        stmt = stmt.where(SITE.slug == flt.slug)
    return stmt


def connected_sites_query() -> Select[Any]:
    """Connected sites: the Z side (served end) of an active circuit; a data center, the hub circuits start
    from, is connected when any active circuit ends there."""
    return (select(TERM.site_id).distinct().join(Circuit, CIRCUIT.id == TERM.circuit_id)
            .join(Site, SITE.id == TERM.site_id)
            .where(CIRCUIT.status == CircuitStatusChoices.ACTIVE,
                   or_(TERM.term_side == TermSideChoices.Z, SITE.category == SiteCategoryChoices.DATACENTER)))


def load_frame(conn: Connection, flt: SiteFilter, on: date, regions: Regions | None = None) -> Frame:
    """Sites matching ``flt`` (state filter, sort and paging applied by the caller) with state and district."""
    regions = regions or load_regions(conn, on)
    region_ids: set[int] | None = None
    if flt.district:
        region = regions.by_code(flt.district)
        region_ids = regions.under(region.id) if region is not None else set()
    sites = site_query(flt, region_ids).subquery()
    tallies_stmt = (select(DEV.site_id, *tally_columns())
                    .select_from(Device.__table__.outerjoin(DeviceStatusRow.__table__,  # type: ignore[attr-defined]
                                                            DS.device_id == DEV.id))
                    .where(monitored(), DEV.site_id.in_(select(sites.c.id)))
                    .group_by(DEV.site_id))
    tallies: dict[int, Tally] = {}
    changes: dict[int, tuple[datetime | None, datetime | None]] = {}
    for r in conn.execute(tallies_stmt):
        tallies[r.site_id] = Tally(up=r.up or 0, down=r.down or 0, unreachable=r.unreachable or 0,
                                   maintenance=r.maintenance or 0, unknown=r.unknown or 0)
        changes[r.site_id] = (r.first_fail, r.last_change)
    connected = {r.site_id for r in conn.execute(
        connected_sites_query().where(TERM.site_id.in_(select(sites.c.id))))}
    frame = Frame(regions=regions, tallies=tallies)
    for s in conn.execute(select(sites)):
        t = tallies.get(s.id, Tally())
        state = site_state(t)
        first_fail, last_change = changes.get(s.id, (None, None))
        current = regions.resolve(s.region_id)
        frame.site_region[s.id] = current
        region = regions.tree.regions.get(current) if current is not None else None
        district = regions.district_of(current)
        frame.rows.append(SiteRow.model_construct(  # trusted values: skip validation (10,000 rows)
            id=s.id, slug=s.slug, name=s.name, category=s.category, status=s.status,
            region_code=region.code if region else None, region_name=region.name if region else None,
            district_code=district.code if district else None, district_name=district.name if district else None,
            latitude=s.latitude, longitude=s.longitude, state=state.value,
            since=first_fail if state in (State.DOWN, State.UNREACHABLE) else last_change,
            devices=StateCounts.model_construct(up=t.up, down=t.down, unreachable=t.unreachable,
                                                unknown=t.unknown, maintenance=t.maintenance),
            connected=s.id in connected))
    return frame


def count_states(rows: list[SiteRow]) -> StateCounts:
    counts = Counter(r.state for r in rows)
    return StateCounts(**{s: counts[s] for s in STATES})

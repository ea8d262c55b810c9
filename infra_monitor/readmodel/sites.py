"""Site list (filters, sort, paging) and device states: flat queries, no query per row.

The list is one statement (:func:`~infra_monitor.readmodel.frame.site_select`: sites, their device tally
and state computed by the database); sorting, the state filter and paging happen over its light rows, and
only the page shown becomes API models. Device states are one joined query for any set of sites.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import select, true
from sqlalchemy.engine import Connection

from infra_monitor.readmodel.frame import DEV, DS, SiteFilter, count_states, load_sites, to_row
from infra_monitor.readmodel.heartbeat import site_heartbeats
from infra_monitor.readmodel.schemas import DeviceState, HeartbeatRun, SiteList
from infra_monitor.readmodel.sitestate import state_rank
from infra_monitor.status.engine.states import State
from infra_monitor.status.store.models import DeviceStatusRow
from inventory.choices import SiteCategoryChoices
from inventory.dated import Regions
from inventory.models import Device, DeviceRole, IPAddress, Site
from inventory.search import fold

ROLE = DeviceRole.__table__.c  # type: ignore[attr-defined]
IP = IPAddress.__table__.c  # type: ignore[attr-defined]
LEVEL_ORDER = {c: i for i, c in enumerate(SiteCategoryChoices.values())}
SORTS = ("state", "name", "since", "level", "district")
ROOT = Device.__table__.alias("root")  # type: ignore[attr-defined]
RSITE = Site.__table__.alias("rsite")  # type: ignore[attr-defined]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@lru_cache(maxsize=65536)
def _folded(text: str) -> str:
    return fold(text)


def _since(value: Any) -> tuple[bool, Any]:
    """Orders raw ``since`` values (SQLite's text or PostgreSQL's datetimes: one kind per list), None first."""
    return (value is not None, value if value is not None else 0)


def _sort(rows: list[Any], sort: str, regions: Regions) -> None:
    if sort == "name":
        rows.sort(key=lambda r: _folded(r.name))
    elif sort == "since":  # latest first, then by name: two stable sorts (raw values cannot be negated)
        rows.sort(key=lambda r: _folded(r.name))
        rows.sort(key=lambda r: _since(r.since), reverse=True)
    elif sort == "level":
        rows.sort(key=lambda r: (LEVEL_ORDER.get(r.category, 99), _folded(r.name)))
    elif sort == "district":
        def by_district(r: Any) -> tuple[bool, str, str]:
            d = regions.district_of(r.region_id)
            return d is None, _folded(d.name if d else ""), _folded(r.name)
        rows.sort(key=by_district)
    else:
        rows.sort(key=lambda r: (state_rank(r.state), _since(r.since), _folded(r.name)))


def list_sites(conn: Connection, flt: SiteFilter, regions: Regions, now: datetime | None = None) -> SiteList:
    """Sites matching ``flt``: ``count`` matches the state filter, ``states`` counts every state (for the
    filter's buttons), ``results`` is the requested page; given ``now``, each row of the page gets its
    heartbeat bar (one more query)."""
    rows = load_sites(conn, replace(flt, state=None), regions, raw_since=True)
    states = count_states(rows)
    if flt.state:
        rows = [r for r in rows if r.state == flt.state]
    _sort(rows, flt.sort if flt.sort in SORTS else "state", regions)
    page = rows[flt.offset: flt.offset + flt.limit if flt.limit is not None else None]
    results = [to_row(r, regions) for r in page]
    if now is not None:  # one more query for the page's heartbeat bars
        beats = site_heartbeats(conn, [r.id for r in results], now)
        for row in results:
            row.heartbeat = [HeartbeatRun(first=first, cells=n, state=state, start=frm, end=to)
                             for first, n, state, frm, to in beats[row.id].runs()]
    return SiteList(count=len(rows), states=states, results=results)


def device_states(conn: Connection, where: Any) -> list[DeviceState]:
    root, rsite = ROOT, RSITE
    stmt = (select(DEV.id, DEV.name, DEV.site_id, DEV.status, DEV.monitoring_enabled, ROLE.name.label("role"),
                   IP.host, DS.state, DS.hard, DS.hard_state, DS.since, DS.hard_since, DS.cause,
                   DS.root_cause_device_id, DS.flapping, DS.attempts, DS.last_check_at,
                   root.c.name.label("root_name"), rsite.c.slug.label("root_site"))
            .outerjoin(DeviceRole, ROLE.id == DEV.role_id)
            .outerjoin(IPAddress, IP.id == DEV.primary_ip_id)
            .outerjoin(DeviceStatusRow, DS.device_id == DEV.id)
            .outerjoin(root, root.c.id == DS.root_cause_device_id)
            .outerjoin(rsite, rsite.c.id == root.c.site_id)
            .where(where).order_by(DEV.name))
    out = []
    for r in conn.execute(stmt):
        hard = r.hard if r.hard is not None else True
        out.append(DeviceState(
            id=r.id, name=r.name, site_id=r.site_id, role=r.role, status=r.status,
            monitoring_enabled=r.monitoring_enabled, address=r.host,
            state=r.hard_state or State.UNKNOWN.value, hard=hard,
            pending_state=None if hard else r.state, attempts=r.attempts or 0,
            since=(r.since if hard else (r.hard_since or r.since)),
            cause=r.cause if hard else None,
            root_cause_device_id=r.root_cause_device_id if hard else None,
            root_cause_name=r.root_name if hard else None, root_cause_site_slug=r.root_site if hard else None,
            flapping=bool(r.flapping), last_check_at=r.last_check_at))
    return out


def all_devices(conn: Connection, site_ids: set[int] | None = None) -> list[DeviceState]:
    """Every device (optionally of some sites) with its state: the CLI's device table (one query)."""
    return device_states(conn, DEV.site_id.in_(site_ids) if site_ids is not None else true())

"""Site list (filters, sort, paging), site detail and device detail: flat queries, no query per row.

The list filters level, region and text in SQL and state in Python (a site's state is computed from the
per-site tally, see :mod:`infra_monitor.readmodel.sitestate`). A detail page runs a fixed set of queries
(devices, circuits, VC endpoints, latest results, events, windows, intervals) for the one site or device.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, literal, select, true
from sqlalchemy.engine import Connection

from infra_monitor.readmodel.frame import (
    DEV,
    DS,
    SITE,
    TERM,
    Frame,
    Regions,
    SiteFilter,
    count_states,
    load_frame,
)
from infra_monitor.readmodel.overview import events
from infra_monitor.readmodel.schemas import (
    CircuitOut,
    DeviceDetail,
    DeviceState,
    InterfaceOut,
    MaintenanceOut,
    Measurement,
    SiteDetail,
    SiteList,
    SiteRow,
    VcEndpointOut,
)
from infra_monitor.readmodel.sitestate import state_rank
from infra_monitor.readmodel.uptime import availability, load_windows
from infra_monitor.status.maintenance import ScopeType, window_intervals
from infra_monitor.status.models import DeviceStatusRow
from infra_monitor.status.regions import RegionTree
from infra_monitor.status.states import State
from infra_monitor.storage.models import InterfaceRollup, LatestResult
from inventory.choices import SiteCategoryChoices
from inventory.models import (
    Circuit,
    CircuitTermination,
    CircuitType,
    Device,
    DeviceRole,
    Interface,
    IPAddress,
    Provider,
    Site,
    VideoconferenceEndpoint,
)
from inventory.search import fold

CIRCUIT = Circuit.__table__.c  # type: ignore[attr-defined]
PROV = Provider.__table__.c  # type: ignore[attr-defined]
CTYPE = CircuitType.__table__.c  # type: ignore[attr-defined]
IFACE = Interface.__table__.c  # type: ignore[attr-defined]
IR = InterfaceRollup.__table__.c  # type: ignore[attr-defined]
LR = LatestResult.__table__.c  # type: ignore[attr-defined]
ROLE = DeviceRole.__table__.c  # type: ignore[attr-defined]
IP = IPAddress.__table__.c  # type: ignore[attr-defined]
VC = VideoconferenceEndpoint.__table__.c  # type: ignore[attr-defined]
LEVEL_ORDER = {c: i for i, c in enumerate(SiteCategoryChoices.values())}
SORTS = ("state", "name", "since", "level", "district")
ROOT = Device.__table__.alias("root")  # type: ignore[attr-defined]
RSITE = Site.__table__.alias("rsite")  # type: ignore[attr-defined]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _sort_key(sort: str) -> Any:
    if sort == "name":
        return lambda r: fold(r.name)
    if sort == "since":
        return lambda r: (-(r.since or EPOCH).timestamp(), fold(r.name))
    if sort == "level":
        return lambda r: (LEVEL_ORDER.get(r.category, 99), fold(r.name))
    if sort == "district":
        return lambda r: (r.district_name is None, fold(r.district_name or ""), fold(r.name))
    return lambda r: (state_rank(r.state), (r.since or EPOCH).timestamp(), fold(r.name))


def list_sites(conn: Connection, flt: SiteFilter, as_of: date, regions: Regions | None = None) -> SiteList:
    """Sites matching ``flt``; ``count`` and ``states`` describe all matches, ``results`` one page."""
    frame = load_frame(conn, flt, as_of, regions)
    rows = [r for r in frame.rows if not flt.state or r.state == flt.state]
    rows.sort(key=_sort_key(flt.sort if flt.sort in SORTS else "state"))
    page = rows[flt.offset: flt.offset + flt.limit if flt.limit is not None else None]
    return SiteList(count=len(rows), states=count_states(frame.rows), results=page)


def _device_states(conn: Connection, where: Any) -> list[DeviceState]:
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


def _latest_util(interface_ids: Any) -> Any:
    """Latest 5-minute bucket per interface (a grouped sub-query joined back to the rollup rows)."""
    latest = (select(IR.interface_id, func.max(IR.bucket).label("bucket"))
              .where(IR.resolution == 300, IR.interface_id.in_(interface_ids))
              .group_by(IR.interface_id).subquery())
    return (select(IR.interface_id, IR.bucket, IR.n, IR.in_bps_sum, IR.out_bps_sum, IR.util_max_pct)
            .join(latest, and_(latest.c.interface_id == IR.interface_id, latest.c.bucket == IR.bucket))
            .where(IR.resolution == 300))


def _rates(r: Any) -> tuple[float | None, float | None]:
    if r is None or not r.n:
        return None, None
    return r.in_bps_sum / r.n, r.out_bps_sum / r.n


def _circuits(conn: Connection, site_id: int) -> list[CircuitOut]:
    iface_ids = select(TERM.interface_id).where(TERM.site_id == site_id, TERM.interface_id.is_not(None))
    util = {r.interface_id: r for r in conn.execute(_latest_util(iface_ids))}
    stmt = (select(CIRCUIT.id, CIRCUIT.cid, CIRCUIT.status, CIRCUIT.commit_rate_kbps, PROV.name.label("provider"),
                   CTYPE.name.label("type"), TERM.term_side, TERM.device_id, TERM.interface_id,
                   IFACE.name.label("iface"))
            .join(CircuitTermination, TERM.circuit_id == CIRCUIT.id)
            .join(Provider, PROV.id == CIRCUIT.provider_id).join(CircuitType, CTYPE.id == CIRCUIT.type_id)
            .outerjoin(Interface, IFACE.id == TERM.interface_id)
            .where(TERM.site_id == site_id).order_by(TERM.term_side.desc(), CIRCUIT.cid))
    out = []
    for r in conn.execute(stmt):
        u = util.get(r.interface_id)
        in_bps, out_bps = _rates(u)
        pct = None
        if in_bps is not None and out_bps is not None and r.commit_rate_kbps:
            pct = 100.0 * max(in_bps, out_bps) / (r.commit_rate_kbps * 1000)
        out.append(CircuitOut(
            id=r.id, cid=r.cid, side=r.term_side, provider=r.provider, type=r.type, status=r.status,
            commit_rate_kbps=r.commit_rate_kbps, device_id=r.device_id, interface_id=r.interface_id,
            interface_name=r.iface, in_bps=in_bps, out_bps=out_bps, util_pct=pct,
            measured_at=u.bucket if u is not None else None))
    return out


def _vc(conn: Connection, site_id: int) -> list[VcEndpointOut]:
    stmt = (select(VC.id, VC.device_id, VC.protocol, VC.uri, VC.e164, VC.room, DEV.name, DS.hard_state)
            .join(Device, DEV.id == VC.device_id).outerjoin(DeviceStatusRow, DS.device_id == VC.device_id)
            .where(DEV.site_id == site_id).order_by(DEV.name))
    return [VcEndpointOut(id=r.id, device_id=r.device_id, device_name=r.name, protocol=r.protocol, uri=r.uri,
                          e164=r.e164, room=r.room, state=r.hard_state or State.UNKNOWN.value)
            for r in conn.execute(stmt)]


def _measurements(conn: Connection, where: Any) -> list[Measurement]:
    stmt = (select(LR.device_id, LR.kind, LR.ts, LR.success, LR.rtt_avg_ms, LR.loss_pct, LR.error, DEV.name)
            .join(Device, DEV.id == LR.device_id).where(where).order_by(DEV.name, LR.kind))
    return [Measurement(device_id=r.device_id, device_name=r.name, kind=r.kind, at=r.ts, success=r.success,
                        rtt_avg_ms=r.rtt_avg_ms, loss_pct=r.loss_pct, error=r.error) for r in conn.execute(stmt)]


def _maintenance(conn: Connection, now: datetime, tree: RegionTree, region_id: int | None, site_id: int,
                 device_ids: set[int]) -> list[MaintenanceOut]:
    """Windows covering the site (everything, its region or one above, the site, one of its devices) that
    are active now or start within 30 days."""
    regions = set(tree.ancestors(region_id)) if region_id is not None else set()
    out = []
    for row, w in load_windows(conn):
        covers = (w.scope_type is ScopeType.ALL
                  or (w.scope_type is ScopeType.SITE and w.scope_id == site_id)
                  or (w.scope_type is ScopeType.DEVICE and w.scope_id in device_ids)
                  or (w.scope_type is ScopeType.REGION and w.scope_id in regions))
        if not covers:
            continue
        spans = window_intervals(w, now, now + timedelta(days=30))
        if not spans:
            continue
        out.append(MaintenanceOut(id=row.id, name=row.name, kind=row.kind, scope_type=row.scope_type,
                                  active_now=spans[0][0] <= now, next_start=row.active_since or spans[0][0],
                                  next_end=spans[0][1], description=row.comment or ""))
    return sorted(out, key=lambda m: (not m.active_now, m.next_start or now))


def _site_availability(conn: Connection, now: datetime, tree: RegionTree, site_id: int, region_id: int | None,
                       where: Any) -> tuple[float | None, float | None]:
    av = availability(conn, now, literal("x"), tree=tree, site_region={site_id: region_id}, where=where)
    return av["24h"].get("x"), av["30d"].get("x")


def _site_frame(conn: Connection, slug: str, as_of: date, regions: Regions | None) -> tuple[Frame, SiteRow | None]:
    frame = load_frame(conn, SiteFilter(slug=slug, include_retired=True), as_of, regions)
    return frame, (frame.rows[0] if frame.rows else None)


def site_detail(conn: Connection, slug: str, as_of: date, now: datetime, event_limit: int = 30,
                regions: Regions | None = None) -> SiteDetail | None:
    """Everything the site page shows, or None when no site has this slug."""
    frame, row = _site_frame(conn, slug, as_of, regions)
    if row is None:
        return None
    extra = conn.execute(select(SITE.address, SITE.description).where(SITE.id == row.id)).one()
    devices = _device_states(conn, DEV.site_id == row.id)
    region_id = frame.site_region.get(row.id)
    a24, a30 = _site_availability(conn, now, frame.tree, row.id, region_id, DEV.site_id == row.id)
    return SiteDetail(
        site=row, address=extra.address, description=extra.description, devices=devices,
        circuits=_circuits(conn, row.id), vc_endpoints=_vc(conn, row.id),
        measurements=_measurements(conn, DEV.site_id == row.id),
        events=events(conn, event_limit, site_id=row.id),
        maintenance=_maintenance(conn, now, frame.tree, region_id, row.id, {d.id for d in devices}),
        availability_24h=a24, availability_30d=a30)


def _interfaces(conn: Connection, device_id: int) -> list[InterfaceOut]:
    iface_ids = select(IFACE.id).where(IFACE.device_id == device_id)
    util = {r.interface_id: r for r in conn.execute(_latest_util(iface_ids))}
    out = []
    for r in conn.execute(select(IFACE).where(IFACE.device_id == device_id).order_by(IFACE.name)):
        u = util.get(r.id)
        in_bps, out_bps = _rates(u)
        out.append(InterfaceOut(id=r.id, name=r.name, type=r.type, speed_kbps=r.speed_kbps, enabled=r.enabled,
                                description=r.description, in_bps=in_bps, out_bps=out_bps,
                                util_pct=u.util_max_pct if u is not None else None,
                                measured_at=u.bucket if u is not None else None))
    return out


def device_detail(conn: Connection, device_id: int, as_of: date, now: datetime,
                  event_limit: int = 30, regions: Regions | None = None) -> DeviceDetail | None:
    """Everything the device page shows, or None when there is no such device."""
    found = _device_states(conn, DEV.id == device_id)
    if not found:
        return None
    device = found[0]
    slug = conn.execute(select(SITE.slug).where(SITE.id == device.site_id)).scalar_one()
    frame, site = _site_frame(conn, slug, as_of, regions)
    assert site is not None
    a24, a30 = _site_availability(conn, now, frame.tree, site.id, frame.site_region.get(site.id),
                                  DEV.id == device_id)
    return DeviceDetail(device=device, site=site, interfaces=_interfaces(conn, device_id),
                        measurements=_measurements(conn, DEV.id == device_id),
                        events=events(conn, event_limit, device_id=device_id),
                        availability_24h=a24, availability_30d=a30)


def all_devices(conn: Connection, site_ids: set[int] | None = None) -> list[DeviceState]:
    """Every device (optionally of some sites) with its state: the CLI's device table (one query)."""
    where = DEV.site_id.in_(site_ids) if site_ids is not None else true()
    return _device_states(conn, where)


__all__ = ["SORTS", "all_devices", "device_detail", "list_sites", "site_detail"]

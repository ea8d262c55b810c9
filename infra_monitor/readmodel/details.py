"""Site detail and device detail: a fixed set of queries for the one site or device shown.

Devices with states, circuits with committed rate and latest 5-minute traffic, videoconference endpoints,
latest results, events, maintenance windows covering the site, availability over 24 h and 30 days. The device
page also lists every check of the device (its own availability checks and its services' checks), each with
its own state, error and measurements (:mod:`infra_monitor.readmodel.checks`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import Field
from sqlalchemy import and_, func, literal, select
from sqlalchemy.engine import Connection

from infra_monitor.readmodel.checks import CheckState, latest_checks, mark_unswept
from infra_monitor.readmodel.frame import DEV, DS, SITE, TERM, SiteFilter, load_sites, to_row
from infra_monitor.readmodel.overview import events
from infra_monitor.readmodel.schemas import (
    CircuitOut,
    InterfaceOut,
    MaintenanceOut,
    Measurement,
    SiteDetail,
    SiteRow,
    VcEndpointOut,
)
from infra_monitor.readmodel.schemas import DeviceDetail as BaseDeviceDetail
from infra_monitor.readmodel.sites import device_states
from infra_monitor.readmodel.uptime import availability_figures, figure_fields, load_windows
from infra_monitor.status.engine.states import State
from infra_monitor.status.maintenance.windows import ScopeType, window_intervals
from infra_monitor.status.store.models import DeviceStatusRow
from infra_monitor.storage.models import InterfaceRollup, LatestResult
from inventory.dated import Regions
from inventory.models import (
    Circuit,
    CircuitTermination,
    CircuitType,
    Device,
    Interface,
    Provider,
    VideoconferenceEndpoint,
)

CIRCUIT = Circuit.__table__.c  # type: ignore[attr-defined]
PROV = Provider.__table__.c  # type: ignore[attr-defined]
CTYPE = CircuitType.__table__.c  # type: ignore[attr-defined]
IFACE = Interface.__table__.c  # type: ignore[attr-defined]
IR = InterfaceRollup.__table__.c  # type: ignore[attr-defined]
LR = LatestResult.__table__.c  # type: ignore[attr-defined]
VC = VideoconferenceEndpoint.__table__.c  # type: ignore[attr-defined]


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


class DeviceDetail(BaseDeviceDetail):
    """The device page (same name in the API's schema): the base detail and every check of the device."""

    checks: list[CheckState] = Field(default_factory=list, description="every check of the device, each with its "
                                                                       "own state: availability checks first")


DeviceChecksDetail = DeviceDetail


def _measurements(conn: Connection, where: Any) -> list[Measurement]:
    """The latest result of every availability check (the device's own checks) of the devices ``where``."""
    stmt = (select(LR.device_id, LR.kind, LR.ts, LR.success, LR.rtt_avg_ms, LR.loss_pct, LR.error, DEV.name)
            .join(Device, DEV.id == LR.device_id).where(where, LR.availability.is_(True))
            .order_by(DEV.name, LR.kind, LR.check_key))
    return [Measurement(device_id=r.device_id, device_name=r.name, kind=r.kind, at=r.ts, success=r.success,
                        rtt_avg_ms=r.rtt_avg_ms, loss_pct=r.loss_pct, error=r.error) for r in conn.execute(stmt)]


def _maintenance(conn: Connection, now: datetime, regions: Regions, region_id: int | None, site_id: int,
                 device_ids: set[int]) -> list[MaintenanceOut]:
    """Windows covering the site (everything, its region or one above, the site, one of its devices) that
    are active now or start within 30 days."""
    above = set(regions.tree.ancestors(region_id)) if region_id is not None else set()
    out = []
    for row, w in load_windows(conn):
        covers = (w.scope_type is ScopeType.ALL
                  or (w.scope_type is ScopeType.SITE and w.scope_id == site_id)
                  or (w.scope_type is ScopeType.DEVICE and w.scope_id in device_ids)
                  or (w.scope_type is ScopeType.REGION and w.scope_id in above))
        if not covers:
            continue
        spans = window_intervals(w, now, now + timedelta(days=30))
        if not spans:
            continue
        out.append(MaintenanceOut(id=row.id, name=row.name, kind=row.kind, scope_type=row.scope_type,
                                  active_now=spans[0][0] <= now, next_start=row.active_since or spans[0][0],
                                  next_end=spans[0][1], description=row.comment or ""))
    return sorted(out, key=lambda m: (not m.active_now, m.next_start or now))


def _availability(conn: Connection, now: datetime, regions: Regions, where: Any) -> dict[str, Any]:
    """The availability fields of a detail page (figure and the time it stands on, per period)."""
    return figure_fields(availability_figures(conn, now, literal("x"), regions=regions, where=where), "x")


def _site(conn: Connection, regions: Regions, **where: Any) -> tuple[Any, SiteRow] | tuple[None, None]:
    rows = load_sites(conn, SiteFilter(include_retired=True, **where), regions)
    return (rows[0], to_row(rows[0], regions)) if rows else (None, None)


def site_detail(conn: Connection, slug: str, now: datetime, regions: Regions,
                event_limit: int = 30) -> SiteDetail | None:
    """Everything the site page shows, or None when no site has this slug."""
    light, row = _site(conn, regions, slug=slug)
    if light is None or row is None:
        return None
    extra = conn.execute(select(SITE.address, SITE.description).where(SITE.id == row.id)).one()
    devices = device_states(conn, DEV.site_id == row.id)
    avail = _availability(conn, now, regions, DEV.site_id == row.id)
    return SiteDetail(
        site=row, address=extra.address, description=extra.description, devices=devices,
        circuits=_circuits(conn, row.id), vc_endpoints=_vc(conn, row.id),
        measurements=_measurements(conn, DEV.site_id == row.id),
        events=events(conn, event_limit, site_id=row.id),
        maintenance=_maintenance(conn, now, regions, regions.resolve(light.region_id), row.id,
                                 {d.id for d in devices}),
        **avail)


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


def device_detail(conn: Connection, device_id: int, now: datetime, regions: Regions,
                  event_limit: int = 30) -> DeviceChecksDetail | None:
    """Everything the device page shows, or None when there is no such device."""
    found = device_states(conn, DEV.id == device_id)
    if not found:
        return None
    device = found[0]
    slug = conn.execute(select(SITE.slug).where(SITE.id == device.site_id)).scalar_one()
    _light, site = _site(conn, regions, slug=slug)
    assert site is not None
    avail = _availability(conn, now, regions, DEV.id == device_id)
    return DeviceChecksDetail(device=device, site=site, interfaces=_interfaces(conn, device_id),
                              measurements=_measurements(conn, DEV.id == device_id),
                              checks=mark_unswept(conn, latest_checks(conn, device_ids=[device_id])),
                              events=events(conn, event_limit, device_id=device_id), **avail)


__all__ = ["DeviceChecksDetail", "device_detail", "site_detail"]

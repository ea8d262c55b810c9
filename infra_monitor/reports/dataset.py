"""Everything a report reads from the database, loaded once per report into plain data.

A constant number of queries whatever the size of the province: sites, devices (with role, type, rack),
videoconference endpoints, circuits with their terminations and providers, the administrative structure
on the as-of date, the plan's targets on that date, the hard-state intervals overlapping the period and the
maintenance windows. From them :func:`load` builds device and site timelines (:mod:`.timeline`). Only
monitored devices (monitoring on, status active/staged/failed) have timelines; the others are inventory.
Interface samples (capacity) are loaded separately, on demand (:mod:`.capacity`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import and_, or_, select
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from infra_monitor.readmodel.coverage import Target, load_targets
from infra_monitor.readmodel.frame import monitored
from infra_monitor.readmodel.uptime import load_windows
from infra_monitor.reports.params import ReportParams
from infra_monitor.reports.timeline import Segment, device_timelines, site_timeline
from infra_monitor.status.engine.availability import StateInterval
from infra_monitor.status.engine.states import Cause, State
from infra_monitor.status.maintenance.windows import (
    MaintenanceWindow,
    ScopeIndex,
    maintenance_by_device,
    window_intervals,
)
from infra_monitor.status.store.models import StateIntervalRow
from inventory.choices import SiteStatusChoices
from inventory.dated import Regions, load_regions
from inventory.models import (
    Circuit,
    CircuitTermination,
    CircuitType,
    Device,
    DeviceRole,
    DeviceType,
    Interface,
    Provider,
    Rack,
    Service,
    Site,
    Tenant,
    VideoconferenceEndpoint,
)

_MODELS: tuple[type[SQLModel], ...] = (Circuit, CircuitTermination, CircuitType, Device, DeviceRole, DeviceType,
                                       Interface, Provider, Rack, Site, VideoconferenceEndpoint)
C = {m.__name__: m.__table__.c for m in _MODELS}  # type: ignore[attr-defined]
SI = StateIntervalRow.__table__.c  # type: ignore[attr-defined]
T = TypeVar("T")
_STATES = {s.value: s for s in State}
_CAUSES = {c.value: c for c in Cause}


@dataclass(frozen=True)
class SiteInfo:
    id: int
    slug: str
    name: str
    category: str
    status: str
    region_id: int | None


@dataclass(frozen=True)
class DeviceInfo:
    id: int
    site_id: int
    name: str
    role: str
    role_slug: str
    device_type: str
    serial: str
    asset_tag: str | None
    rack: str | None
    status: str
    monitored: bool
    parent_id: int | None
    created: datetime


@dataclass(frozen=True)
class VCInfo:
    device_id: int
    site_id: int
    room: str
    protocol: str
    uri: str
    mcu_id: int | None


@dataclass(frozen=True)
class Termination:
    side: str
    site_id: int
    device_id: int | None
    interface_id: int | None
    interface_name: str | None


@dataclass(frozen=True)
class CircuitInfo:
    id: int
    cid: str
    provider: str
    provider_slug: str
    type: str
    status: str
    commit_rate_kbps: int | None
    terminations: tuple[Termination, ...]

    def side(self, side: str) -> Termination | None:
        return next((t for t in self.terminations if t.side == side), None)


@dataclass(frozen=True)
class HostedInfo:
    """A service counting toward the plan's systems hosted in the data center."""

    id: int
    name: str
    device_id: int
    tenant: str | None
    criticality: str
    checked: bool       # active, monitoring on, on a monitored device
    up_s: float = 0.0   # over the report's measured period, from its checks' state intervals (time all were up)
    down_s: float = 0.0  # (time any was down); the rest of the period had no data for all its checks


@dataclass
class Dataset:
    params: ReportParams
    generated_at: datetime
    stop: datetime                      # end of the measured part: min(period end, now)
    regions: Regions
    targets: dict[str, Target]
    sites: dict[int, SiteInfo]
    devices: dict[int, DeviceInfo]
    vc: dict[int, VCInfo]               # by device id
    circuits: list[CircuitInfo]
    windows: list[MaintenanceWindow]
    maintenance: dict[int, list[tuple[datetime, datetime]]]   # per device, merged, within the period
    device_tl: dict[int, list[Segment]] = field(default_factory=dict)
    hosted: list[HostedInfo] = field(default_factory=list)
    site_tl: dict[int, list[Segment]] = field(default_factory=dict)   # network devices only (codecs apart)
    # Figures derived from one timeline, computed once: id(timeline) -> (timeline, value); the timeline is
    # kept in the entry so its id cannot be reused while the dataset lives.
    memo: dict[tuple[str, int], tuple[object, object]] = field(default_factory=dict)

    def once(self, what: str, timeline: list[Segment], compute: Callable[[], T]) -> T:
        key = (what, id(timeline))
        hit = self.memo.get(key)
        if hit is None or hit[0] is not timeline:
            hit = (timeline, compute())
            self.memo[key] = hit
        return hit[1]  # type: ignore[return-value]

    @property
    def period(self) -> Any:
        return self.params.end - self.params.start

    def site_devices(self, site_id: int, *, codecs: bool | None = False) -> list[DeviceInfo]:
        """Monitored devices of a site: network devices (default), codecs only (True) or all (None)."""
        by_site = self.once_index("devices_by_site", lambda: _group(self.devices.values(), "site_id"))
        return [d for d in by_site.get(site_id, []) if d.monitored and (codecs is None or (d.id in self.vc) == codecs)]

    def site_codecs(self, site_id: int) -> list[VCInfo]:
        """Videoconference endpoints at a site."""
        return self.once_index("vc_by_site", lambda: _group(self.vc.values(), "site_id")).get(site_id, [])

    def once_index(self, name: str, build: Callable[[], dict[int, list[Any]]]) -> dict[int, list[Any]]:
        """An index over the dataset, built on first use."""
        key = ("index", hash(name))
        hit = self.memo.get(key)
        if hit is None:
            hit = (name, build())
            self.memo[key] = hit
        return hit[1]  # type: ignore[return-value]

    def connected_sites(self) -> set[int]:
        """Sites served by an active circuit (its Z side); a data center is connected by any active circuit."""
        out: set[int] = set()
        for c in self.circuits:
            if c.status != "active":
                continue
            for term in c.terminations:
                site = self.sites.get(term.site_id)
                if site is not None and (term.side == "Z" or site.category == "datacenter"):
                    out.add(term.site_id)
        return out

    def live_sites(self) -> list[SiteInfo]:
        return [s for s in self.sites.values() if s.status != SiteStatusChoices.RETIRED]


def _group(items: Any, attr: str) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = {}
    for item in items:
        out.setdefault(getattr(item, attr), []).append(item)
    return out


def _rows(conn: Connection, stmt: Any) -> list[Any]:
    return list(conn.execute(stmt))


def load(conn: Connection, params: ReportParams, now: datetime | None = None) -> Dataset:
    """Load the inventory, structure, targets, intervals and windows for ``params`` and build timelines."""
    now = now or datetime.now(UTC)
    stop = max(params.start, min(params.end, now))
    s, d, r, dt, rk = C["Site"], C["Device"], C["DeviceRole"], C["DeviceType"], C["Rack"]
    sites = {row.id: SiteInfo(row.id, row.slug, row.name, row.category, row.status, row.region_id)
             for row in _rows(conn, select(s.id, s.slug, s.name, s.category, s.status, s.region_id))}
    mon = monitored(d).label("mon")
    dev_rows = _rows(conn, select(d.id, d.site_id, d.name, r.name.label("role"), r.slug.label("role_slug"),
                                  dt.model, d.serial, d.asset_tag, rk.name.label("rack"), d.status, mon,
                                  d.parent_id, d.created)
                     .select_from(Device.__table__.join(DeviceRole, r.id == d.role_id)  # type: ignore[attr-defined]
                                  .outerjoin(DeviceType, dt.id == d.device_type_id)
                                  .outerjoin(Rack, rk.id == d.rack_id)))
    devices = {x.id: DeviceInfo(x.id, x.site_id, x.name, x.role, x.role_slug, x.model or "", x.serial or "",
                                x.asset_tag, x.rack, x.status, bool(x.mon), x.parent_id, x.created)
               for x in dev_rows}
    v = C["VideoconferenceEndpoint"]
    vc = {x.device_id: VCInfo(x.device_id, devices[x.device_id].site_id, x.room, x.protocol, x.uri, x.mcu_id)
          for x in _rows(conn, select(v.device_id, v.room, v.protocol, v.uri, v.mcu_id)) if x.device_id in devices}
    circuits = _circuits(conn)
    regions = load_regions(conn, params.as_of)
    windows = [w for _row, w in load_windows(conn) if window_intervals(w, params.start, stop)]
    maintenance: dict[int, list[tuple[datetime, datetime]]] = {}
    if windows:
        tree = regions.tree
        scope = ScopeIndex(device_site={i: x.site_id for i, x in devices.items()},
                           site_region={i: regions.resolve(x.region_id) for i, x in sites.items()},
                           region_descendants=tree.descendants())
        maintenance = maintenance_by_device(windows, params.start, stop, scope)
    ds = Dataset(params=params, generated_at=now, stop=stop, regions=regions, targets=load_targets(conn, params.as_of),
                 sites=sites, devices=devices, vc=vc, circuits=circuits, windows=windows, maintenance=maintenance)
    ds.hosted = _hosted(conn, devices, params.start, stop, now)
    ids = [i for i, x in devices.items() if x.monitored]
    ds.device_tl = device_timelines(load_intervals(conn, params.start, stop), params.start, stop, ids, maintenance)
    by_site: dict[int, list[tuple[int, list[Segment]]]] = {}
    for i in ids:
        if i not in vc:
            by_site.setdefault(devices[i].site_id, []).append((i, ds.device_tl[i]))
    ds.site_tl = {sid: site_timeline(by_site.get(sid, []), params.start, stop) for sid in sites}
    return ds


def _hosted(conn: Connection, devices: Mapping[int, DeviceInfo], start: datetime, stop: datetime,
            now: datetime) -> list[HostedInfo]:
    """The hosted systems (services with ``counts_toward = hosted_systems``) as inventoried now, with their time
    up and down in [start, stop) (:mod:`infra_monitor.readmodel.service_uptime`): two queries."""
    from infra_monitor.readmodel.service_uptime import service_times

    sv, tn = Service.__table__.c, Tenant.__table__.c  # type: ignore[attr-defined]
    rows = _rows(conn, select(sv.id, sv.name, sv.device_id, tn.name.label("tenant"), sv.criticality, sv.status,
                              sv.monitoring_enabled)
                 .select_from(Service.__table__.outerjoin(Tenant, tn.id == sv.tenant_id))  # type: ignore[attr-defined]
                 .where(sv.counts_toward == "hosted_systems").order_by(sv.name, sv.id))
    times = service_times(conn, [x.id for x in rows], start, stop, now=now) if rows else {}
    return [HostedInfo(x.id, x.name, x.device_id, x.tenant, x.criticality,
                       x.status == "active" and bool(x.monitoring_enabled) and x.device_id in devices
                       and devices[x.device_id].monitored, times[x.id].up_s, times[x.id].down_s) for x in rows]


def load_intervals(conn: Connection, start: datetime, stop: datetime) -> list[StateInterval]:
    """Hard-state intervals of monitored devices overlapping ``[start, stop)`` (one query)."""
    d = C["Device"]
    stmt = (select(SI.device_id, SI.state, SI.cause, SI.root_cause_device_id, SI.start, SI.end)
            .select_from(StateIntervalRow.__table__.join(Device, d.id == SI.device_id))  # type: ignore[attr-defined]
            .where(monitored(d), SI.start < stop, or_(SI.end.is_(None), SI.end > start))
            .order_by(SI.device_id, SI.start))
    return [StateInterval(d, _STATES[state], _CAUSES[cause], root, start, end)
            for d, state, cause, root, start, end in conn.execute(stmt)]


def _circuits(conn: Connection) -> list[CircuitInfo]:
    c, t, p, ct, i = C["Circuit"], C["CircuitTermination"], C["Provider"], C["CircuitType"], C["Interface"]
    terms: dict[int, list[Termination]] = {}
    for x in conn.execute(select(t.circuit_id, t.term_side, t.site_id, t.device_id, t.interface_id,
                                 i.name.label("ifname"))
                          .select_from(CircuitTermination.__table__  # type: ignore[attr-defined]
                                       .outerjoin(Interface, and_(i.id == t.interface_id)))):
        terms.setdefault(x.circuit_id, []).append(Termination(x.term_side, x.site_id, x.device_id, x.interface_id,
                                                              x.ifname))
    rows = conn.execute(select(c.id, c.cid, p.name.label("provider"), p.slug.label("pslug"),
                               ct.name.label("ctype"), c.status, c.commit_rate_kbps)
                        .select_from(Circuit.__table__.join(Provider, p.id == c.provider_id)  # type: ignore[attr-defined]
                                     .join(CircuitType, ct.id == c.type_id)).order_by(c.cid))
    return [CircuitInfo(x.id, x.cid, x.provider, x.pslug, x.ctype, x.status, x.commit_rate_kbps,
                        tuple(sorted(terms.get(x.id, []), key=lambda tm: tm.side))) for x in rows]


def group_sites(ds: Dataset, key: Mapping[int, Any]) -> dict[Any, list[int]]:
    out: dict[Any, list[int]] = {}
    for sid, k in key.items():
        out.setdefault(k, []).append(sid)
    return out

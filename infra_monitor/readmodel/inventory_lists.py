"""Paged, filtered, searchable inventory lists (sites, devices, circuits, videoconference endpoints) and the
global search across them (and the services of :mod:`infra_monitor.readmodel.services`).

Every list is two queries whatever the inventory's size: a ``COUNT`` and one page of rows (``LIMIT`` /
``OFFSET``, ordered by a unique key so pages never overlap). Search uses the folded ``search_text`` columns of
:mod:`inventory.search` (accent-insensitive, every word must match); devices and endpoints also match the
start of their address, circuits their provider and the sites they join.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, and_, false, func, or_, select, true
from sqlalchemy.engine import Connection

from infra_monitor.readmodel.frame import DEV, DS, SITE
from infra_monitor.readmodel.lists import CIRCUIT, CTYPE, PROV
from infra_monitor.status.store.models import DeviceStatusRow
from inventory.dated import REGION, Regions
from inventory.models import (
    Circuit,
    CircuitTermination,
    CircuitType,
    Device,
    DeviceRole,
    IPAddress,
    Provider,
    Region,
    Site,
    Tenant,
    VideoconferenceEndpoint,
)
from inventory.search import fold, q_filter

ROLE = DeviceRole.__table__.c  # type: ignore[attr-defined]
IP = IPAddress.__table__.c  # type: ignore[attr-defined]
VC = VideoconferenceEndpoint.__table__.c  # type: ignore[attr-defined]
TENANT = Tenant.__table__.c  # type: ignore[attr-defined]
TERM = CircuitTermination.__table__.c  # type: ignore[attr-defined]
MCU = Device.__table__.alias("mcu")  # type: ignore[attr-defined]
KINDS = ("sites", "devices", "circuits", "vc")
SEARCH_KINDS = (*KINDS, "services", "regions", "tenants")
PER_PAGE_CHOICES = (25, 50, 100, 250, 500)
DEFAULT_PER_PAGE = 50
STATES = ("up", "down", "unreachable", "maintenance", "unknown")


@dataclass(frozen=True)
class ListQuery:
    """What the operator asked for; every filter is optional and they combine with AND."""

    q: str | None = None
    status: str | None = None
    state: str | None = None
    level: str | None = None
    district: str | None = None
    role: str | None = None
    provider: str | None = None
    protocol: str | None = None
    monitored: bool | None = None
    sort: str = ""  # a column key of SORTS[kind], "-key" for descending
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    @property
    def offset(self) -> int:
        return (max(self.page, 1) - 1) * self.per_page


@dataclass(frozen=True)
class ListRow:
    """One row of an inventory list: display cells keyed by column, the page to open and its API object."""

    cells: dict[str, Any]
    href: str | None
    api: str


@dataclass(frozen=True)
class ListPage:
    count: int
    rows: list[ListRow] = field(default_factory=list)


def _order(lq: ListQuery, columns: dict[str, Any], default: list[Any], unique: Any) -> list[Any]:
    """ORDER BY for ``lq.sort`` among ``columns`` (unknown keys fall back to ``default``), always ending on a
    unique key so pages never overlap."""
    key = lq.sort.removeprefix("-")
    column = columns.get(key)
    if column is None:
        return [*default, unique]
    return [column.desc() if lq.sort.startswith("-") else column.asc(), unique]


def _words(q: str | None) -> str:
    return fold(q or "")


def _region_ids(regions: Regions, code: str | None) -> set[int] | None:
    """Ids of the region with ``code`` and every region under it; ``None`` when no district filter."""
    if not code:
        return None
    region = regions.by_code(code)
    return regions.under(region.id) if region is not None else set()


def _in(column: Any, ids: set[int] | None) -> ColumnElement[bool]:
    if ids is None:
        return true()
    return column.in_(ids) if ids else false()


def _state_filter(state: str | None, device_id: Any) -> ColumnElement[bool]:
    """Devices whose confirmed state is ``state`` (``unknown`` includes devices never checked)."""
    if not state:
        return true()
    known = select(DS.device_id).where(DS.hard_state == state)
    if state == "unknown":
        return or_(device_id.in_(known), device_id.not_in(select(DS.device_id)))
    return device_id.in_(known)


def _address_prefix(q: str | None) -> str | None:
    """The query as an address prefix (``10.1.`` or ``fd00:``), or None when it is not one."""
    text = (q or "").strip()
    if text and all(c in "0123456789abcdefABCDEF.:" for c in text) and any(c in ".:" for c in text):
        return text
    return None


def _count(conn: Connection, where: ColumnElement[bool], count_from: Any) -> int:
    return int(conn.execute(select(func.count()).select_from(count_from).where(where)).scalar_one())


def site_list(conn: Connection, lq: ListQuery, regions: Regions) -> ListPage:
    where = and_(
        q_filter(Site, lq.q or "") if _words(lq.q) else true(),
        SITE.status == lq.status if lq.status else true(),
        SITE.category == lq.level if lq.level else true(),
        _in(SITE.region_id, _region_ids(regions, lq.district)),
    )
    count = _count(conn, where, Site)
    stmt = (select(SITE.id, SITE.name, SITE.slug, SITE.category, SITE.status, SITE.region_id,
                   func.count(DEV.id).label("devices"))
            .outerjoin(Device, DEV.site_id == SITE.id).where(where)
            .group_by(SITE.id, SITE.name, SITE.slug, SITE.category, SITE.status, SITE.region_id)
            .order_by(*_order(lq, {"name": SITE.name, "slug": SITE.slug, "level": SITE.category,
                                   "status": SITE.status, "devices": func.count(DEV.id)}, [SITE.name], SITE.id))
            .limit(lq.per_page).offset(lq.offset))
    rows = []
    for r in conn.execute(stmt):
        region = regions.info(r.region_id)
        district = regions.district_of(r.region_id)
        rows.append(ListRow({"name": r.name, "slug": r.slug, "level": r.category, "status": r.status,
                             "region": region.name if region else "", "district": district.name if district else "",
                             "devices": r.devices}, f"/sites/{r.slug}", f"/api/dcim/sites/{r.id}/"))
    return ListPage(count, rows)


def _device_where(lq: ListQuery, regions: Regions) -> ColumnElement[bool]:
    text = q_filter(Device, lq.q or "") if _words(lq.q) else true()
    prefix = _address_prefix(lq.q)
    if prefix:
        text = or_(text, DEV.primary_ip_id.in_(select(IP.id).where(IP.host.startswith(prefix, autoescape=True))))
    site_ids = _region_ids(regions, lq.district)
    site_cond = true()
    if site_ids is not None or lq.level:
        sites = select(SITE.id).where(_in(SITE.region_id, site_ids),
                                      SITE.category == lq.level if lq.level else true())
        site_cond = DEV.site_id.in_(sites)
    return and_(
        text, site_cond,
        DEV.status == lq.status if lq.status else true(),
        DEV.role_id.in_(select(ROLE.id).where(ROLE.slug == lq.role)) if lq.role else true(),
        DEV.monitoring_enabled == lq.monitored if lq.monitored is not None else true(),
        _state_filter(lq.state, DEV.id),
    )


def device_list(conn: Connection, lq: ListQuery, regions: Regions) -> ListPage:
    where = _device_where(lq, regions)
    count = _count(conn, where, Device)
    stmt = (select(DEV.id, DEV.name, DEV.status, DEV.monitoring_enabled, SITE.name.label("site"),
                   SITE.slug.label("site_slug"), SITE.region_id, ROLE.name.label("role"), IP.host,
                   DS.hard_state)
            .join(Site, SITE.id == DEV.site_id).outerjoin(DeviceRole, ROLE.id == DEV.role_id)
            .outerjoin(IPAddress, IP.id == DEV.primary_ip_id)
            .outerjoin(DeviceStatusRow, DS.device_id == DEV.id)
            .where(where)
            .order_by(*_order(lq, {"name": DEV.name, "site": SITE.name, "role": ROLE.name, "address": IP.host,
                                   "status": DEV.status, "monitored": DEV.monitoring_enabled,
                                   "state": DS.hard_state}, [DEV.name], DEV.id))
            .limit(lq.per_page).offset(lq.offset))
    rows = []
    for r in conn.execute(stmt):
        district = regions.district_of(r.region_id)
        rows.append(ListRow({"name": r.name, "site": r.site, "site_slug": r.site_slug, "role": r.role or "",
                             "address": r.host or "", "status": r.status, "monitored": r.monitoring_enabled,
                             "district": district.name if district else "", "state": r.hard_state or "unknown"},
                            f"/devices/{r.id}", f"/api/dcim/devices/{r.id}/"))
    return ListPage(count, rows)


def circuit_list(conn: Connection, lq: ListQuery, regions: Regions) -> ListPage:
    a = CircuitTermination.__table__.alias("a")  # type: ignore[attr-defined]
    z = CircuitTermination.__table__.alias("z")  # type: ignore[attr-defined]
    sa = Site.__table__.alias("sa")  # type: ignore[attr-defined]
    sz = Site.__table__.alias("sz")  # type: ignore[attr-defined]
    text: ColumnElement[bool] = true()
    if _words(lq.q):
        providers = select(PROV.id).where(and_(*[func.lower(PROV.name).contains(w, autoescape=True)
                                                 for w in _words(lq.q).split()]))
        at_site = select(TERM.circuit_id).join(Site, SITE.id == TERM.site_id).where(q_filter(Site, lq.q or ""))
        text = or_(q_filter(Circuit, lq.q or ""), CIRCUIT.provider_id.in_(providers), CIRCUIT.id.in_(at_site))
    site_ids = _region_ids(regions, lq.district)
    ends = true()
    if site_ids is not None:
        in_district = select(TERM.circuit_id).join(Site, SITE.id == TERM.site_id).where(_in(SITE.region_id, site_ids))
        ends = CIRCUIT.id.in_(in_district)
    where = and_(text, ends, CIRCUIT.status == lq.status if lq.status else true(),
                 CIRCUIT.provider_id.in_(select(PROV.id).where(PROV.slug == lq.provider)) if lq.provider else true())
    count = _count(conn, where, Circuit)
    stmt = (select(CIRCUIT.id, CIRCUIT.cid, CIRCUIT.status, CIRCUIT.commit_rate_kbps, PROV.name.label("provider"),
                   CTYPE.name.label("type"), sa.c.name.label("a_site"), sz.c.name.label("z_site"),
                   sz.c.slug.label("z_slug"))
            .join(Provider, PROV.id == CIRCUIT.provider_id).join(CircuitType, CTYPE.id == CIRCUIT.type_id)
            .outerjoin(a, (a.c.circuit_id == CIRCUIT.id) & (a.c.term_side == "A"))
            .outerjoin(z, (z.c.circuit_id == CIRCUIT.id) & (z.c.term_side == "Z"))
            .outerjoin(sa, sa.c.id == a.c.site_id).outerjoin(sz, sz.c.id == z.c.site_id)
            .where(where)
            .order_by(*_order(lq, {"cid": CIRCUIT.cid, "provider": PROV.name, "type": CTYPE.name,
                                   "status": CIRCUIT.status, "commit_rate_kbps": CIRCUIT.commit_rate_kbps,
                                   "a_site": sa.c.name, "z_site": sz.c.name}, [CIRCUIT.cid], CIRCUIT.id))
            .limit(lq.per_page).offset(lq.offset))
    rows = [ListRow({"cid": r.cid, "provider": r.provider, "type": r.type, "status": r.status,
                     "commit_rate_kbps": r.commit_rate_kbps, "a_site": r.a_site or "", "z_site": r.z_site or ""},
                    f"/sites/{r.z_slug}" if r.z_slug else None, f"/api/circuits/circuits/{r.id}/")
            for r in conn.execute(stmt)]
    return ListPage(count, rows)


def _vc_where(lq: ListQuery, regions: Regions) -> ColumnElement[bool]:
    text: ColumnElement[bool] = true()
    words = _words(lq.q).split()
    if words:
        per_word = [or_(func.lower(VC.uri).contains(w, autoescape=True), VC.e164.contains(w, autoescape=True),
                        func.lower(VC.room).contains(w, autoescape=True),
                        VC.device_id.in_(select(DEV.id).where(DEV.search_text.contains(w, autoescape=True))),
                        VC.device_id.in_(select(DEV.id).join(Site, SITE.id == DEV.site_id)
                                         .where(SITE.search_text.contains(w, autoescape=True))))
                    for w in words]
        text = and_(*per_word)
        prefix = _address_prefix(lq.q)
        if prefix:
            by_ip = select(DEV.id).join(IPAddress, IP.id == DEV.primary_ip_id).where(
                IP.host.startswith(prefix, autoescape=True))
            text = or_(text, VC.device_id.in_(by_ip))
    site_ids = _region_ids(regions, lq.district)
    district = true()
    if site_ids is not None:
        district = VC.device_id.in_(select(DEV.id).join(Site, SITE.id == DEV.site_id)
                                    .where(_in(SITE.region_id, site_ids)))
    return and_(text, district, VC.protocol == lq.protocol if lq.protocol else true(),
                _state_filter(lq.state, VC.device_id))


def vc_list(conn: Connection, lq: ListQuery, regions: Regions) -> ListPage:
    where = _vc_where(lq, regions)
    count = _count(conn, where, VideoconferenceEndpoint)
    stmt = (select(VC.id, VC.device_id, VC.protocol, VC.uri, VC.e164, VC.room, DEV.name.label("device"),
                   SITE.name.label("site"), SITE.slug.label("site_slug"), SITE.region_id, IP.host,
                   MCU.c.name.label("mcu"), MCU.c.id.label("mcu_id"), DS.hard_state)
            .join(Device, DEV.id == VC.device_id).join(Site, SITE.id == DEV.site_id)
            .outerjoin(IPAddress, IP.id == DEV.primary_ip_id).outerjoin(MCU, MCU.c.id == VC.mcu_id)
            .outerjoin(DeviceStatusRow, DS.device_id == VC.device_id)
            .where(where)
            .order_by(*_order(lq, {"device": DEV.name, "site": SITE.name, "protocol": VC.protocol, "uri": VC.uri,
                                   "e164": VC.e164, "room": VC.room, "mcu": MCU.c.name, "state": DS.hard_state},
                              [SITE.name, DEV.name], VC.id))
            .limit(lq.per_page).offset(lq.offset))
    rows = []
    for r in conn.execute(stmt):
        district = regions.district_of(r.region_id)
        rows.append(ListRow({"device": r.device, "device_id": r.device_id, "site": r.site, "site_slug": r.site_slug,
                             "district": district.name if district else "", "protocol": r.protocol,
                             "uri": r.uri, "e164": r.e164, "room": r.room, "address": r.host or "",
                             "mcu": r.mcu or "", "mcu_id": r.mcu_id, "state": r.hard_state or "unknown"},
                            f"/devices/{r.device_id}", f"/api/vc/endpoints/{r.id}/"))
    return ListPage(count, rows)


LISTS = {"sites": site_list, "devices": device_list, "circuits": circuit_list, "vc": vc_list}


@dataclass(frozen=True)
class SearchHit:
    label: str
    detail: str
    href: str
    level: str | None = None  # a region's level (translated by the page)


@dataclass(frozen=True)
class SearchGroup:
    kind: str
    count: int
    hits: list[SearchHit]
    more_href: str | None


def _region_hits(conn: Connection, q: str, limit: int) -> SearchGroup:
    where = q_filter(Region, q)
    count = _count(conn, where, Region)
    stmt = (select(REGION.code, REGION.name, REGION.level, REGION.valid_to).where(where)
            .order_by(REGION.valid_to.is_not(None), REGION.name, REGION.code).limit(limit))
    hits = [SearchHit(r.name, r.code, f"/regions/{r.code}", r.level) for r in conn.execute(stmt)]
    return SearchGroup("regions", count, hits, None)


def _tenant_hits(conn: Connection, q: str, limit: int) -> SearchGroup:
    where = q_filter(Tenant, q)
    count = _count(conn, where, Tenant)
    stmt = select(TENANT.id, TENANT.name, TENANT.slug).where(where).order_by(TENANT.name).limit(limit)
    hits = [SearchHit(r.name, r.slug, f"/api/tenancy/tenants/{r.id}/") for r in conn.execute(stmt)]
    return SearchGroup("tenants", count, hits, None)


def _service_hits(conn: Connection, q: str, limit: int) -> SearchGroup:
    from infra_monitor.readmodel.services import ServiceQuery, service_list

    found = service_list(conn, ServiceQuery(q=q, per_page=limit))
    hits = [SearchHit(r.name, " · ".join(x for x in (r.device, r.target) if x), f"/services/{r.id}")
            for r in found.rows]
    return SearchGroup("services", found.count, hits, "/services?" + urlencode({"q": q}))


def global_search(conn: Connection, q: str, regions: Regions, limit: int = 10) -> list[SearchGroup]:
    """Matches of ``q`` in every inventory kind, ``limit`` per kind with the kind's total; empty kinds left out."""
    if not _words(q):
        return []
    lq = ListQuery(q=q, per_page=limit)
    groups: list[SearchGroup] = []
    more = "?" + urlencode({"q": q})
    sites = site_list(conn, lq, regions)
    groups.append(SearchGroup("sites", sites.count, [SearchHit(r.cells["name"], r.cells["district"], r.href or "")
                                                     for r in sites.rows], f"/inventory/sites{more}"))
    devices = device_list(conn, lq, regions)
    groups.append(SearchGroup("devices", devices.count,
                              [SearchHit(r.cells["name"], " · ".join(x for x in (r.cells["site"], r.cells["address"])
                                                                      if x), r.href or "") for r in devices.rows],
                              f"/inventory/devices{more}"))
    vcs = vc_list(conn, lq, regions)
    groups.append(SearchGroup("vc", vcs.count, [SearchHit(r.cells["device"], " · ".join(
        x for x in (r.cells["site"], r.cells["uri"] or r.cells["e164"]) if x), r.href or "") for r in vcs.rows],
        f"/inventory/vc{more}"))
    circuits = circuit_list(conn, lq, regions)
    groups.append(SearchGroup("circuits", circuits.count, [SearchHit(r.cells["cid"], " · ".join(
        x for x in (r.cells["provider"], r.cells["z_site"]) if x), r.href or "") for r in circuits.rows],
        f"/inventory/circuits{more}"))
    groups.append(_service_hits(conn, q, limit))
    groups.append(_region_hits(conn, q, limit))
    groups.append(_tenant_hits(conn, q, limit))
    return [g for g in groups if g.count]


__all__ = [
    "DEFAULT_PER_PAGE",
    "KINDS",
    "LISTS",
    "PER_PAGE_CHOICES",
    "SEARCH_KINDS",
    "STATES",
    "ListPage",
    "ListQuery",
    "ListRow",
    "SearchGroup",
    "SearchHit",
    "global_search",
]

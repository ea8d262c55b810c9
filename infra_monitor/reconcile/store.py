"""Reconciliation as the pages, the API and the CLI read it: the inventory and the latest ``discovery`` results.

Reads through SQLAlchemy selects (no SQL text), a constant number of queries whatever the inventory's size:
devices with their site, manufacturer and platform; their interfaces; active circuit terminations with the
far end of each circuit; every IP address with its device (to know who owns an address the agent reports);
the latest ``discovery`` result of each device. :func:`reconcile` then runs the pure rules of
:mod:`infra_monitor.reconcile.diff` per device.

Which devices: those with an SNMP profile (the ones discovery observes) and those with a stored discovery
result. A device whose latest discovery failed is listed with its error and no differences; one never
observed is listed as not observed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, or_, select
from sqlalchemy.orm import Session

from infra_monitor.reconcile.diff import (
    AddressSnapshot,
    DeviceSnapshot,
    Difference,
    InterfaceSnapshot,
    diff_device,
)
from infra_monitor.storage.models import LatestResult
from inventory.choices import CircuitStatusChoices
from inventory.models import (
    Circuit,
    CircuitTermination,
    Device,
    DeviceType,
    Interface,
    IPAddress,
    Manufacturer,
    Platform,
    Site,
)

CHECK = "discovery"


@dataclass
class DeviceReconcile:
    """One device's reconciliation. ``status``: ``ok``, ``differences``, ``failed`` (latest discovery
    failed: ``error``), ``not_observed``."""

    device_id: int
    device: str
    site: str
    site_name: str
    status: str
    observed_at: datetime | None = None
    error: str | None = None
    sys_name: str | None = None
    differences: list[Difference] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"device_id": self.device_id, "device": self.device, "site": self.site, "site_name": self.site_name,
                "status": self.status, "observed_at": self.observed_at.isoformat() if self.observed_at else None,
                "error": self.error, "sys_name": self.sys_name,
                "differences": [d.as_dict() for d in self.differences]}


@dataclass
class Observation:
    ts: datetime
    success: bool
    error: str | None
    data: dict[str, Any] | None


@dataclass
class Inventory:
    devices: dict[int, DeviceSnapshot]
    site_names: dict[int, str]
    owners: dict[str, AddressSnapshot]


def _t(model: Any) -> Table:
    return cast(Table, model.__table__)


def load_inventory(session: Session, *, device_id: int | None = None, site: str | None = None) -> Inventory:
    """The devices to reconcile (with an SNMP profile or a discovery result) as snapshots; five queries."""
    dev, st, dt, mf, pf = _t(Device), _t(Site), _t(DeviceType), _t(Manufacturer), _t(Platform)
    lr, itf, ct, cir, ip = _t(LatestResult), _t(Interface), _t(CircuitTermination), _t(Circuit), _t(IPAddress)
    observed = select(lr.c.device_id).where(lr.c.check_key == CHECK)
    q = (select(dev.c.id, dev.c.name, st.c.slug, st.c.name, mf.c.name, pf.c.name)
         .join(st, st.c.id == dev.c.site_id)
         .outerjoin(dt, dt.c.id == dev.c.device_type_id)
         .outerjoin(mf, mf.c.id == dt.c.manufacturer_id)
         .outerjoin(pf, pf.c.id == dev.c.platform_id)
         .where(or_(dev.c.snmp_profile_id.is_not(None), dev.c.id.in_(observed))))
    if device_id is not None:
        q = q.where(dev.c.id == device_id)
    if site is not None:
        q = q.where(st.c.slug == site)
    rows = session.execute(q.order_by(st.c.slug, dev.c.name)).all()
    ids = [r[0] for r in rows]
    ifaces: dict[int, list[Any]] = {}
    for row in session.execute(select(itf.c.id, itf.c.device_id, itf.c.name, itf.c.speed_kbps, itf.c.enabled)
                               .where(itf.c.device_id.in_(ids))):
        ifaces.setdefault(row.device_id, []).append(row)
    near, far, far_dev = ct.alias("near"), ct.alias("far"), dev.alias("far_device")
    circuits: dict[int, tuple[str, int | None, str | None]] = {}
    for if_id, cid, rate, far_name in session.execute(
            select(near.c.interface_id, cir.c.cid, cir.c.commit_rate_kbps, far_dev.c.name)
            .join(cir, cir.c.id == near.c.circuit_id)
            .outerjoin(far, (far.c.circuit_id == near.c.circuit_id) & (far.c.term_side != near.c.term_side))
            .outerjoin(far_dev, far_dev.c.id == far.c.device_id)
            .where(near.c.device_id.in_(ids), cir.c.status == CircuitStatusChoices.ACTIVE)):
        if if_id is not None:
            circuits[if_id] = (cid, rate, far_name)
    owners: dict[str, AddressSnapshot] = {}
    own: dict[int, list[AddressSnapshot]] = {}
    for ip_id, address, host, if_name, dev_id, dev_name in session.execute(
            select(ip.c.id, ip.c.address, ip.c.host, itf.c.name, dev.c.id, dev.c.name)
            .outerjoin(itf, itf.c.id == ip.c.interface_id)
            .outerjoin(dev, dev.c.id == itf.c.device_id)):
        snap = AddressSnapshot(ip_id, address, host, dev_id, dev_name or "", if_name or "")
        owners[host] = snap
        if dev_id is not None:
            own.setdefault(dev_id, []).append(snap)
    devices: dict[int, DeviceSnapshot] = {}
    site_names: dict[int, str] = {}
    for dev_id, name, slug, site_name, manufacturer, platform in rows:
        snaps = []
        for i in sorted(ifaces.get(dev_id, []), key=lambda i: i.name):
            cid, rate, far_name = circuits.get(i.id, (None, None, None))
            snaps.append(InterfaceSnapshot(i.id, i.name, i.speed_kbps, bool(i.enabled), rate, cid, far_name))
        devices[dev_id] = DeviceSnapshot(dev_id, name, slug, manufacturer, platform, tuple(snaps),
                                         tuple(own.get(dev_id, [])))
        site_names[dev_id] = site_name
    return Inventory(devices, site_names, owners)


def load_observations(session: Session, device_ids: list[int]) -> dict[int, Observation]:
    """The latest ``discovery`` result of each device, its observation parsed (None when absent/unreadable)."""
    lr = _t(LatestResult)
    out: dict[int, Observation] = {}
    for dev_id, ts, success, error, info in session.execute(
            select(lr.c.device_id, lr.c.ts, lr.c.success, lr.c.error, lr.c.info)
            .where(lr.c.check_key == CHECK, lr.c.device_id.in_(device_ids))):
        data = None
        text = (info or {}).get("observation")
        if success and text:
            try:
                parsed = json.loads(text)
                data = parsed if isinstance(parsed, dict) else None
            except ValueError:
                data = None
        out[dev_id] = Observation(ts, bool(success), error, data)
    return out


def reconcile(session: Session, *, device_id: int | None = None, site: str | None = None,
              kinds: frozenset[str] | None = None) -> list[DeviceReconcile]:
    """Per device (by site, then name): its status and differences (only of ``kinds`` when given)."""
    inv = load_inventory(session, device_id=device_id, site=site)
    observations = load_observations(session, list(inv.devices))
    return [device_reconcile(dev, inv.site_names[dev.id], observations.get(dev.id), inv.owners, kinds)
            for dev in inv.devices.values()]


def device_reconcile(dev: DeviceSnapshot, site_name: str, obs: Observation | None,
                     owners: Mapping[str, AddressSnapshot], kinds: frozenset[str] | None = None) -> DeviceReconcile:
    out = DeviceReconcile(dev.id, dev.name, dev.site, site_name, "not_observed")
    if obs is None:
        return out
    out.observed_at = obs.ts
    if obs.data is None:
        out.status = "failed"
        out.error = obs.error or ("the observation could not be read" if obs.success else "no answer")
        return out
    out.sys_name = str(obs.data.get("sys_name") or "")
    out.differences = [d for d in diff_device(dev, obs.data, owners) if kinds is None or d.kind in kinds]
    out.status = "differences" if out.differences else "ok"
    return out


def counts(items: list[DeviceReconcile]) -> dict[str, int]:
    """Number of differences per kind, over ``items``."""
    out: dict[str, int] = {}
    for item in items:
        for d in item.differences:
            out[d.kind] = out.get(d.kind, 0) + 1
    return out

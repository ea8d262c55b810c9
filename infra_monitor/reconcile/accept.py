"""An operator accepts an observed value into the inventory: one difference, one action, one change record.

:func:`accept` finds the difference (device, kind, obj) again in the *current* inventory and latest
observation, refuses it when it is gone or not acceptable, or when the observation is stale (the inventory
object changed after the observation was made: the message says when, by whom and which fields; or the
inventory value differs from the one the operator was shown), then applies it through the models'
validation (``full_clean``), inside ``change_context(actor, request_id, source=...)`` so the ObjectChange
records the operator as actor and the observation as source (``snmp discovery 2026-12-07T14:03Z``):

- ``name``: the device is renamed to the sysName's first label;
- ``interface_missing_in_inventory``: the interface is created (name, speed, ifAlias as description, enabled
  when admin up, a type from ifType and speed);
- ``speed``: the interface's speed takes the observed value (kbps);
- ``address_other_device``: the address is assigned to this device's interface that carries it (the
  interface must be in the inventory; an address that is another device's primary address is refused);
- ``address_missing_in_inventory``: the address is created on that interface.

Errors are :class:`AcceptError` with an HTTP-like status (404 nothing to accept, 409 stale or refused, 400
invalid) and ``{field: [message]}``; nothing is written then.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session
from sqlmodel import col, select

from infra_monitor.reconcile.diff import Difference, short_name
from infra_monitor.reconcile.store import Observation, device_reconcile, load_inventory, load_observations
from inventory.changelog import change_context, object_type
from inventory.models import Device, Interface, InventoryModel, IPAddress, ObjectChange
from inventory.validation import InventoryValidationError, full_clean

log = logging.getLogger(__name__)
UNSET: Any = object()


class AcceptError(Exception):
    def __init__(self, status: int, errors: dict[str, list[str]]) -> None:
        self.status = status
        self.errors = errors
        super().__init__("; ".join(m for msgs in errors.values() for m in msgs))


@dataclass(frozen=True)
class Accepted:
    difference: Difference
    object_type: str
    object_id: int | None
    source: str
    request_id: str

    def as_dict(self) -> dict[str, Any]:
        return {"difference": self.difference.as_dict(), "object_type": self.object_type,
                "object_id": self.object_id, "source": self.source, "request_id": self.request_id}


def source_of(observed_at: datetime) -> str:
    return f"snmp discovery {observed_at:%Y-%m-%dT%H:%MZ}"


def accept(session: Session, device_id: int, kind: str, obj: str, *, actor: str, request_id: str,
           expected_inventory: Any = UNSET) -> Accepted:
    """Apply one difference and commit; ``expected_inventory`` is the inventory value the operator saw."""
    inv = load_inventory(session, device_id=device_id)
    dev = inv.devices.get(device_id)
    if dev is None:
        raise AcceptError(404, {"device": [f"device #{device_id} is not one reconciliation observes"]})
    obs = load_observations(session, [device_id]).get(device_id)
    if obs is None or obs.data is None:
        raise AcceptError(404, {"device": [f"device {dev.name!r} has no usable discovery observation"]})
    target = _target(session, dev.id, obj)
    changed = _changed_since(session, target, obs.ts)
    if changed:
        raise AcceptError(409, {"non_field_errors": [
            f"the observation of {dev.name!r} at {obs.ts:%Y-%m-%dT%H:%MZ} is stale: {changed}; "
            "run discovery again before accepting"]})
    found = [d for d in device_reconcile(dev, inv.site_names[dev.id], obs, inv.owners).differences
             if d.kind == kind and d.obj == obj]
    if not found:
        raise AcceptError(404, {"non_field_errors": [
            f"device {dev.name!r} has no {kind!r} difference for {obj!r} now (already accepted, or the "
            "inventory or the observation changed)"]})
    diff = found[0]
    if expected_inventory is not UNSET and expected_inventory != diff.inventory:
        raise AcceptError(409, {"inventory": [
            f"the inventory changed since it was shown: {diff.field} of {obj} is now {diff.inventory!r}, "
            f"was {expected_inventory!r}"]})
    if not diff.acceptable:
        raise AcceptError(409, {"kind": [f"a {kind!r} difference cannot be accepted automatically: "
                                         "it needs a person's decision in the inventory"]})
    source = source_of(obs.ts)
    try:
        with change_context(actor, request_id, source=source):
            written = _apply(session, diff, obs)
            full_clean(session, written)
            session.add(written)
            session.flush()
        session.commit()
    except InventoryValidationError as exc:
        session.rollback()
        raise AcceptError(400, exc.errors) from None
    except AcceptError:
        session.rollback()
        raise
    log.info("event=reconcile_accept device_id=%d kind=%s obj=%s actor=%s request_id=%s", device_id, kind,
             obj, actor, request_id)
    return Accepted(diff, object_type(written), written.id, source, request_id)


def _target(session: Session, device_id: int, obj: str) -> InventoryModel | None:
    """The existing inventory object a difference is about (None for one to create)."""
    what, _, name = obj.partition(":")
    if what == "device":
        return session.get(Device, device_id)
    if what == "interface":
        return _interface(session, device_id, name)
    if what == "address":
        return session.scalars(select(IPAddress).where(col(IPAddress.host) == name)).first()
    return None


def _interface(session: Session, device_id: int, name: str) -> Interface | None:
    rows = list(session.scalars(select(Interface).where(col(Interface.device_id) == device_id)))
    exact = [i for i in rows if i.name == name]
    folded = [i for i in rows if i.name.strip().casefold() == name.strip().casefold()]
    return (exact or folded)[0] if exact or folded else None


def _changed_since(session: Session, target: InventoryModel | None, since: datetime) -> str:
    """What changed on ``target`` after ``since`` ("" when nothing), from the change log."""
    if target is None or target.id is None or target.last_updated <= since:
        return ""
    change = session.scalars(
        select(ObjectChange).where(col(ObjectChange.object_type) == object_type(target),
                                   col(ObjectChange.object_id) == target.id, col(ObjectChange.time) > since)
        .order_by(col(ObjectChange.time).desc())).first()
    what = f"{object_type(target).replace('_', ' ')} {target.display()!r} changed"
    if change is None:
        return f"{what} at {target.last_updated:%Y-%m-%dT%H:%MZ}"
    before, after = change.prechange_data or {}, change.postchange_data or {}
    fields = [f"{k} {before.get(k)!r} → {after.get(k)!r}" for k in sorted(after)
              if k not in ("last_updated", "created") and before.get(k) != after.get(k)]
    said = ", ".join(fields) or change.action
    return f"{what} at {change.time:%Y-%m-%dT%H:%MZ} by {change.actor or 'system'} ({said})"


def _observed_iface(obs: Observation, label: str) -> Mapping[str, Any] | None:
    for oi in (obs.data or {}).get("interfaces") or []:
        if label in (oi.get("name"), oi.get("descr")):
            return dict(oi)
    return None


def _iface_type(oi: Mapping[str, Any]) -> str:
    if_type, speed = oi.get("type"), oi.get("speed_kbps")
    if if_type == 161:
        return "lag"
    if if_type in (53, 131, 135, 136):
        return "virtual"
    if if_type == 6:
        return {100_000: "100base-tx", 1_000_000: "1000base-t", 10_000_000: "10gbase-x-sfpp",
                25_000_000: "25gbase-x-sfp28", 40_000_000: "40gbase-x-qsfpp",
                100_000_000: "100gbase-x-qsfp28"}.get(speed if isinstance(speed, int) else 0, "other")
    return "other"


def _carrier(session: Session, diff: Difference, obs: Observation) -> tuple[str, Interface]:
    """The observed address (with prefix) and this device's inventory interface that carries it."""
    host = diff.obj.partition(":")[2]
    data = obs.data or {}
    found = next((a for a in data.get("addresses") or [] if str(a.get("address", "")).split("/")[0] == host), None)
    if found is None:
        raise AcceptError(404, {"address": [f"the observation has no address {host}"]})
    names = {int(oi["index"]): oi for oi in data.get("interfaces") or []}
    oi = names.get(int(found.get("if_index") or 0))
    label = str(oi.get("name") or oi.get("descr") or "") if oi else ""
    iface = _interface(session, diff.device_id, label) if label else None
    if iface is None and oi is not None and oi.get("descr"):
        iface = _interface(session, diff.device_id, str(oi["descr"]))
    if iface is None:
        raise AcceptError(409, {"address": [
            f"{host} is on interface {label or found.get('if_index')!r} of the device, which is not in the "
            f"inventory: accept that interface first"]})
    return str(found["address"]), iface


def _apply(session: Session, diff: Difference, obs: Observation) -> InventoryModel:
    name = diff.obj.partition(":")[2]
    if diff.kind == "name":
        device = session.get(Device, diff.device_id)
        assert device is not None
        device.name = short_name(diff.observed or "")
        return device
    if diff.kind == "speed":
        iface = _interface(session, diff.device_id, name)
        if iface is None:
            raise AcceptError(404, {"interface": [f"interface {name!r} is no longer in the inventory"]})
        iface.speed_kbps = int(diff.observed or 0)
        return iface
    if diff.kind == "interface_missing_in_inventory":
        oi = _observed_iface(obs, name)
        if oi is None:
            raise AcceptError(404, {"interface": [f"the observation has no interface {name!r}"]})
        speed = oi.get("speed_kbps")
        return Interface(device_id=diff.device_id, name=name, type=_iface_type(oi),
                         speed_kbps=speed if isinstance(speed, int) else None, enabled=oi.get("admin") != "down",
                         description=str(oi.get("alias") or "")[:200])
    if diff.kind == "address_other_device":
        _address, iface = _carrier(session, diff, obs)
        ip = session.scalars(select(IPAddress).where(col(IPAddress.host) == name)).first()
        if ip is None:
            raise AcceptError(404, {"address": [f"{name} is no longer in the inventory"]})
        primary_of = session.scalars(select(Device).where(col(Device.primary_ip_id) == ip.id)).first()
        if primary_of is not None and primary_of.id != diff.device_id:
            raise AcceptError(409, {"address": [
                f"{ip.address} is the primary address of device {primary_of.name!r}: give that device another "
                "primary address first"]})
        ip.interface_id = iface.id
        return ip
    if diff.kind == "address_missing_in_inventory":
        address, iface = _carrier(session, diff, obs)
        return IPAddress(address=address, host=name, interface_id=iface.id)
    raise AcceptError(409, {"kind": [f"a {diff.kind!r} difference cannot be accepted automatically"]})

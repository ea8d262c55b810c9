"""The path to each room as the monitor already knows it: the site's uplink router state from the status
engine (and the failed device upstream it is UNREACHABLE behind), and the latest utilisation of the site's
uplink circuits against their committed rate (the latest 5-minute interface rollup). A constant number of
queries whatever the number of rooms.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from infra_monitor.meetings.readiness import LinkLoad, Mcu, Uplink
from infra_monitor.status.store.models import DeviceStatusRow
from infra_monitor.storage.models import InterfaceRollup
from inventory.choices import CircuitStatusChoices, TermSideChoices
from inventory.models import Circuit, CircuitTermination, Device

ROLLUP_5MIN = 300


def _z_side(session: Session, site_ids: set[int]) -> list[tuple[int, int | None, int | None, str, int | None]]:
    """(site, device, interface, cid, commit kbps) of the active circuits served at the sites (Z side)."""
    if not site_ids:
        return []
    term = CircuitTermination
    stmt = (select(col(term.site_id), col(term.device_id), col(term.interface_id),
                   col(Circuit.cid), col(Circuit.commit_rate_kbps))
            .join(Circuit, col(Circuit.id) == col(CircuitTermination.circuit_id))
            .where(col(CircuitTermination.site_id).in_(site_ids),
                   col(CircuitTermination.term_side) == TermSideChoices.Z,
                   col(Circuit.status) == CircuitStatusChoices.ACTIVE)
            .order_by(col(Circuit.cid)))
    return [(r[0], r[1], r[2], r[3], r[4]) for r in session.execute(stmt)]


def device_states(session: Session, device_ids: Iterable[int]) -> dict[int, tuple[str, str | None]]:
    """Device id → (engine state, name of its root-cause device or None)."""
    ids = set(device_ids)
    if not ids:
        return {}
    root = Device.__table__.alias("root")  # type: ignore[attr-defined]
    stmt = (select(col(DeviceStatusRow.device_id), col(DeviceStatusRow.state), root.c.name)
            .outerjoin(root, root.c.id == col(DeviceStatusRow.root_cause_device_id))
            .where(col(DeviceStatusRow.device_id).in_(ids)))
    return {r[0]: (r[1], r[2]) for r in session.execute(stmt)}


def uplinks_and_loads(session: Session, rooms: Iterable[tuple[int, int, int | None]], now: datetime,
                      window: timedelta) -> tuple[dict[int, Uplink], dict[int, list[LinkLoad]]]:
    """Per site: its uplink router (the Z-side device of an active circuit, else the codec's parent device)
    with its state, and each uplink circuit's latest utilisation. ``rooms``: (site, codec device, parent)."""
    rooms = list(rooms)
    circuits = _z_side(session, {s for s, _d, _p in rooms})
    router_of: dict[int, int] = {}
    for site_id, device_id, _if, _cid, _rate in circuits:
        if device_id is not None:
            router_of.setdefault(site_id, device_id)
    for site_id, _codec, parent in rooms:
        if parent is not None:
            router_of.setdefault(site_id, parent)
    names: dict[int, str] = {}
    if router_of:
        named = select(col(Device.id), col(Device.name)).where(col(Device.id).in_(set(router_of.values())))
        names = {int(r[0] or 0): r[1] for r in session.execute(named)}
    states = device_states(session, router_of.values())
    uplinks = {}
    for site_id, dev in router_of.items():
        state, root = states.get(dev, ("unknown", None))
        uplinks[site_id] = Uplink(names.get(dev, f"#{dev}"), state, root)
    loads: dict[int, list[LinkLoad]] = {}
    measured = [c for c in circuits if c[2] is not None and c[4]]
    if measured:
        if_ids = {c[2] for c in measured}
        latest = (select(col(InterfaceRollup.interface_id), func.max(col(InterfaceRollup.bucket)).label("b"))
                  .where(col(InterfaceRollup.resolution) == ROLLUP_5MIN, col(InterfaceRollup.interface_id).in_(if_ids),
                         col(InterfaceRollup.bucket) >= now - window)
                  .group_by(col(InterfaceRollup.interface_id)).subquery())
        stmt = (select(col(InterfaceRollup.interface_id), col(InterfaceRollup.n), col(InterfaceRollup.in_bps_sum),
                       col(InterfaceRollup.out_bps_sum))
                .join(latest, (latest.c.interface_id == col(InterfaceRollup.interface_id))
                      & (latest.c.b == col(InterfaceRollup.bucket)))
                .where(col(InterfaceRollup.resolution) == ROLLUP_5MIN))
        rates = {r[0]: max(r[2], r[3]) / r[1] for r in session.execute(stmt) if r[1]}
        for site_id, _dev, if_id, cid, commit in measured:
            if if_id in rates and commit:
                loads.setdefault(site_id, []).append(LinkLoad(cid, rates[if_id] / (commit * 1000) * 100, commit))
    return uplinks, loads


def mcu_state(session: Session, mcu_device_id: int, answered: bool | None) -> Mcu:
    name = session.execute(select(col(Device.name)).where(col(Device.id) == mcu_device_id)).scalar_one_or_none()
    state = device_states(session, [mcu_device_id]).get(mcu_device_id, (None, None))[0]
    return Mcu(name or f"#{mcu_device_id}", state, answered)

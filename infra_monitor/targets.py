"""Inventory → probe targets: which devices this poller group checks, with what, and where results go.

Reads the inventory with a constant number of queries (one per table) and builds, per probe kind, the
list of :class:`probes.base.Target` plus the index the pipeline needs to map results back to devices,
interfaces and committed rates. tcp/http targets come from a device's custom fields ``tcp_ports``
(list of ports) and ``http_urls`` (list of URLs).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from sqlalchemy.orm import Session
from sqlmodel import col, select

from inventory.choices import CircuitStatusChoices, DeviceStatusChoices
from inventory.models import (
    Circuit,
    CircuitTermination,
    Device,
    Interface,
    IPAddress,
    Site,
    SnmpProfile,
)
from probes.base import SnmpCredentials, Target


@dataclass
class TargetIndex:
    """Everything needed to turn a sweep's results into stored records."""

    targets: dict[str, list[Target]] = field(default_factory=dict)  # kind -> targets
    device_of: dict[str, int] = field(default_factory=dict)  # target key -> device id
    interface_ids: dict[tuple[int, str], int] = field(default_factory=dict)  # (device id, ifname) -> interface id
    commit_kbps: dict[int, int] = field(default_factory=dict)  # interface id -> committed rate
    speed_kbps: dict[int, int] = field(default_factory=dict)  # interface id -> physical speed

    def count(self) -> int:
        return sum(len(v) for v in self.targets.values())


def _credentials(p: SnmpProfile) -> SnmpCredentials:
    return SnmpCredentials(
        version=p.version, community=p.community, user=p.user, auth_protocol=p.auth_protocol,
        auth_key=p.auth_key, priv_protocol=p.priv_protocol, priv_key=p.priv_key, port=p.port,
    )


def load_targets(
    session: Session,
    *,
    poller_group: str | None = "default",
    site_slug: str | None = None,
    kinds: tuple[str, ...] = ("icmp", "snmp", "tcp", "http"),
) -> TargetIndex:
    """Targets of the monitored, active devices of ``poller_group`` (all groups when None)."""
    q = (
        select(Device, Site.slug, IPAddress.host)
        .join(Site, col(Site.id) == col(Device.site_id))
        .outerjoin(IPAddress, col(IPAddress.id) == col(Device.primary_ip_id))
        .where(col(Device.monitoring_enabled).is_(True), col(Device.status).in_(DeviceStatusChoices.MONITORED))
    )
    if poller_group is not None:
        q = q.where(Device.poller_group == poller_group)
    if site_slug is not None:
        q = q.where(Site.slug == site_slug)
    rows = session.execute(q.order_by(col(Device.id))).all()
    device_ids = [d.id for d, _, _ in rows if d.id is not None]
    idx = TargetIndex(targets={k: [] for k in kinds})
    if not rows:
        return idx
    profiles = {p.id: p for p in session.execute(select(SnmpProfile)).scalars() if p.id is not None}
    ifaces: dict[int, list[Interface]] = {}
    for iface in session.execute(
        select(Interface).where(col(Interface.device_id).in_(device_ids), col(Interface.enabled).is_(True))
    ).scalars():
        if iface.id is None:
            continue
        ifaces.setdefault(iface.device_id, []).append(iface)
        idx.interface_ids[(iface.device_id, iface.name)] = iface.id
        if iface.speed_kbps:
            idx.speed_kbps[iface.id] = iface.speed_kbps
    for if_id, rate in session.execute(
        select(col(CircuitTermination.interface_id), col(Circuit.commit_rate_kbps))
        .join(Circuit, col(Circuit.id) == col(CircuitTermination.circuit_id))
        .where(col(CircuitTermination.device_id).in_(device_ids), col(Circuit.status) == CircuitStatusChoices.ACTIVE)
    ).all():
        if if_id is not None and rate:
            idx.commit_kbps[if_id] = max(rate, idx.commit_kbps.get(if_id, 0))
    for device, site_slug_, host in rows:
        if not host:
            continue
        base = Target(key="", device_id=device.id, device=device.name, site=site_slug_, address=host)
        if "icmp" in kinds:
            _add(idx, "icmp", replace(base, key=f"icmp:{device.id}"))
        profile = profiles.get(device.snmp_profile_id) if device.snmp_profile_id is not None else None
        if "snmp" in kinds and profile is not None:
            names = tuple(sorted(i.name for i in ifaces.get(device.id or 0, []) if not i.mgmt_only))
            _add(idx, "snmp", replace(base, key=f"snmp:{device.id}", snmp=_credentials(profile), interfaces=names))
        cf = device.custom_fields or {}
        if "tcp" in kinds:
            for port in cf.get("tcp_ports", []) or []:
                _add(idx, "tcp", replace(base, key=f"tcp:{device.id}:{port}", port=int(port)))
        if "http" in kinds:
            for url in cf.get("http_urls", []) or []:
                _add(idx, "http", replace(base, key=f"http:{device.id}:{url}", url=str(url)))
    return idx


def _add(idx: TargetIndex, kind: str, target: Target) -> None:
    idx.targets[kind].append(target)
    if target.device_id is not None:
        idx.device_of[target.key] = target.device_id

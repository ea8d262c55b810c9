"""Inventory → probe targets: which devices this poller group checks, with what, and where results go.

Reads the inventory with a constant number of queries (one per table) into plain records
(:class:`probes.plugin.DeviceRecord`, :class:`probes.plugin.ServiceRecord`) and lets each registered probe
kind build its check targets from them (``ProbeKind.build_targets``), plus the index the pipeline needs to map
results back to devices, interfaces and committed rates. Services (active, monitored, of monitored devices)
are checked at their device's primary address; the device custom fields ``tcp_ports``/``http_urls`` still
work until migration 0006 has moved every entry into services.

One bad record never silences the others: a target that cannot be built (an SNMP profile written before the
model rules refused it, an SNMP secret encrypted with a key no longer configured, a custom field that is not
a list of ports/URLs, a service the kind cannot check) is left out, reported once per device and load as a
``event=target_skipped`` warning, and listed in :attr:`TargetIndex.skipped`; every other target is built.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy.orm import Session
from sqlmodel import col, select

from inventory.choices import CircuitStatusChoices
from inventory.models import (
    Circuit,
    CircuitTermination,
    Device,
    Interface,
    IPAddress,
    Service,
    Site,
    SnmpProfile,
    VideoconferenceEndpoint,
)
from inventory.monitoring import also_polled_by, monitored_condition, watched_by
from inventory.rules import snmp_profile_errors
from inventory.secretbox import undecryptable
from probes.base import SnmpCredentials, Target
from probes.plugin import DeviceRecord, InventoryRecords, KindSettings, ServiceRecord, VcEndpointRecord
from probes.registry import KINDS

log = logging.getLogger(__name__)

ACTIVE_SERVICE = "active"


class SkippedTarget(NamedTuple):
    """A target that could not be built: which device, which probe kind, and why (never a secret)."""

    device_id: int
    kind: str
    reason: str


@dataclass
class TargetIndex:
    """Everything needed to turn a sweep's results into stored records."""

    targets: dict[str, list[Target]] = field(default_factory=dict)  # kind -> targets
    device_of: dict[str, int] = field(default_factory=dict)  # target key -> device id
    interface_ids: dict[tuple[int, str], int] = field(default_factory=dict)  # (device id, ifname) -> interface id
    commit_kbps: dict[int, int] = field(default_factory=dict)  # interface id -> committed rate
    speed_kbps: dict[int, int] = field(default_factory=dict)  # interface id -> physical speed
    skipped: list[SkippedTarget] = field(default_factory=list)  # targets left out, in device order
    # devices of another group this group watches as a second vantage point (their ``also_polled_by``)
    watched_only: set[int] = field(default_factory=set)
    multi_vantage: set[int] = field(default_factory=set)  # devices watched from more than one vantage point

    def count(self) -> int:
        return sum(len(v) for v in self.targets.values())


def _credentials(p: SnmpProfile) -> SnmpCredentials | str:
    """The credentials of a profile, or why it has none (a profile the model rules refuse, a secret that
    cannot be decrypted with the configured keys)."""
    sealed = undecryptable(p)
    if sealed:
        return "; ".join(sealed)
    errors = snmp_profile_errors(p)
    if errors:
        return "; ".join(m for msgs in errors.values() for m in msgs)
    try:
        return SnmpCredentials(
            version=p.version, community=p.community, user=p.user, auth_protocol=p.auth_protocol,
            auth_key=p.auth_key, priv_protocol=p.priv_protocol, priv_key=p.priv_key, port=p.port,
        )
    except (TypeError, ValueError) as exc:  # messages of SnmpCredentials never carry a secret
        return f"snmp profile {p.name!r}: {exc}"


def _quoted(text: str) -> str:
    return text if text and not any(c.isspace() or c in "\"=" for c in text) else json.dumps(text, ensure_ascii=False)


def load_targets(
    session: Session,
    *,
    poller_group: str | None = "default",
    site_slug: str | None = None,
    kinds: Sequence[str] | None = None,
    device_id: int | None = None,
    log_skipped: bool = True,
    settings: dict[str, KindSettings] | None = None,
    shards: tuple[int, frozenset[int]] | None = None,
) -> TargetIndex:
    """Check targets of the monitored, active devices of ``poller_group`` (all groups when None), for ``kinds``
    (every registered kind when None); ``settings`` per kind (the kinds' defaults when absent)."""
    chosen = tuple(KINDS) if kinds is None else tuple(k for k in kinds if k in KINDS)
    idx = TargetIndex(targets={k: [] for k in chosen})
    records = load_records(session, idx, poller_group=poller_group, site_slug=site_slug, device_id=device_id,
                           shards=shards)
    if not records.devices:
        return idx
    problems: dict[int, list[tuple[str, str, str]]] = {}
    for name in chosen:
        kind = KINDS[name]
        cfg = (settings or {}).get(name) or kind.settings()
        try:
            built = kind.build_targets(records, cfg)
        except Exception as exc:  # a kind's bug must not stop the other kinds
            log.exception("event=build_targets_failed kind=%s", name)
            for d in records.devices:
                problems.setdefault(d.id, []).append((name, f"internal error building {name} targets: {exc!r}", ""))
            continue
        for target in built.targets:
            _add(idx, name, target)
        for p in built.problems:
            problems.setdefault(p.device_id, []).append((name, p.reason, p.check))
    names = {d.id: d.name for d in records.devices}
    for dev_id in sorted(problems):
        _skip(idx, dev_id, names.get(dev_id, ""), problems[dev_id], log_skipped)
    return idx


def load_records(session: Session, idx: TargetIndex, *, poller_group: str | None = "default",
                 site_slug: str | None = None, device_id: int | None = None,
                 shards: tuple[int, frozenset[int]] | None = None) -> InventoryRecords:
    """The monitored devices (with an address), their active, monitored services and their videoconference
    endpoints as plain records; fills the interface and committed-rate maps of ``idx``. Six queries whatever
    the inventory's size. A group also loads the devices that list it in ``also_polled_by``
    (:func:`inventory.monitoring.also_polled_by`); ``shards`` = (count, held) keeps the devices whose
    ``id % count`` is held (:mod:`infra_monitor.shards`)."""
    q = (
        select(Device, Site.slug, IPAddress.host)
        .join(Site, col(Site.id) == col(Device.site_id))
        .outerjoin(IPAddress, col(IPAddress.id) == col(Device.primary_ip_id))
        .where(monitored_condition(Device))
    )
    if poller_group is not None:
        q = q.where(watched_by(poller_group))
    if shards is not None:
        q = q.where((col(Device.id) % shards[0]).in_(sorted(shards[1]) or [-1]))
    if site_slug is not None:
        q = q.where(Site.slug == site_slug)
    if device_id is not None:
        q = q.where(col(Device.id) == device_id)
    rows = [r for r in session.execute(q.order_by(col(Device.id))).all() if r[2] and r[0].id is not None]
    if poller_group is not None:
        rows = [r for r in rows if r[0].poller_group == poller_group or poller_group in also_polled_by(r[0])]
        idx.watched_only.update(r[0].id for r in rows if r[0].poller_group != poller_group and r[0].id is not None)
        idx.multi_vantage.update(r[0].id for r in rows if r[0].id is not None
                                 and (r[0].poller_group != poller_group or also_polled_by(r[0])))
    device_ids = [d.id for d, _, _ in rows]
    if not rows:
        return InventoryRecords()
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
    credentials: dict[int, SnmpCredentials | str] = {}
    devices: list[DeviceRecord] = []
    address: dict[int, str] = {}
    for device, slug, host in rows:
        assert device.id is not None
        address[device.id] = host
        profile = profiles.get(device.snmp_profile_id) if device.snmp_profile_id is not None else None
        creds: SnmpCredentials | str | None = None
        if profile is not None and profile.id is not None:
            creds = credentials.get(profile.id)
            if creds is None:
                creds = credentials[profile.id] = _credentials(profile)
        names = tuple(sorted(i.name for i in ifaces.get(device.id, []) if not i.mgmt_only))
        cf = device.custom_fields if device.custom_fields is not None else {}
        devices.append(DeviceRecord(id=device.id, name=device.name, site=slug, address=host, snmp=creds,
                                    interfaces=names, custom_fields=cf))
    services = [
        _service_record(svc, address[svc.device_id])
        for svc in session.execute(
            select(Service).where(col(Service.device_id).in_(device_ids), col(Service.status) == ACTIVE_SERVICE,
                                  col(Service.monitoring_enabled).is_(True)).order_by(col(Service.id))
        ).scalars()
        if svc.id is not None
    ]
    vc_endpoints = [
        VcEndpointRecord(id=ep.id, device_id=ep.device_id, protocol=ep.protocol, address=address[ep.device_id],
                         uri=ep.uri or "", e164=ep.e164 or "", mcu_id=ep.mcu_id, room=ep.room or "")
        for ep in session.execute(
            select(VideoconferenceEndpoint).where(col(VideoconferenceEndpoint.device_id).in_(device_ids))
            .order_by(col(VideoconferenceEndpoint.id))
        ).scalars()
        if ep.id is not None
    ]
    return InventoryRecords(devices=devices, services=services, vc_endpoints=vc_endpoints)


def _ints(value: Any) -> tuple[int, ...]:
    return tuple(v for v in value if isinstance(v, int) and not isinstance(v, bool)) if isinstance(value, list) else ()


def _service_record(svc: Service, address: str) -> ServiceRecord:
    assert svc.id is not None
    expected = svc.dns_expected if isinstance(svc.dns_expected, list) else []
    return ServiceRecord(
        id=svc.id, name=svc.name, device_id=svc.device_id, kind=svc.kind, address=address, protocol=svc.protocol,
        ports=_ints(svc.ports), url=svc.http_url or "", expected_status=_ints(svc.expected_status),
        expected_content=svc.expected_content or "", dns_name=svc.dns_name or "",
        dns_record_type=svc.dns_record_type or "A", dns_expected=tuple(str(e) for e in expected),
        tls_expiry_warning_days=svc.tls_expiry_warning_days)


def _skip(idx: TargetIndex, device_id: int, device: str, problems: list[tuple[str, str, str]], warn: bool) -> None:
    """Record the targets of one device left out, with one warning line for the device."""
    idx.skipped.extend(SkippedTarget(device_id, kind, reason) for kind, reason, _check in problems)
    if not warn:
        return
    reason = problems[0][1] if len(problems) == 1 else "; ".join(f"{k}: {r}" for k, r, _ in problems)
    log.warning("event=target_skipped device=%s device_id=%d kind=%s reason=%s", _quoted(device), device_id,
                ",".join(dict.fromkeys(k for k, _, _ in problems)), _quoted(reason))


def _add(idx: TargetIndex, kind: str, target: Target) -> None:
    idx.targets.setdefault(kind, []).append(target)
    if target.device_id is not None:
        idx.device_of[target.key] = target.device_id

"""Inventory → probe targets: which devices this poller group checks, with what, and where results go.

Reads the inventory with a constant number of queries (one per table) and builds, per probe kind, the
list of :class:`probes.base.Target` plus the index the pipeline needs to map results back to devices,
interfaces and committed rates. tcp/http targets come from a device's custom fields ``tcp_ports``
(list of ports) and ``http_urls`` (list of http(s) URLs).

One bad record never silences the others: a target that cannot be built (an SNMP profile written before the
model rules refused it, an SNMP secret encrypted with a key no longer configured, a custom field that is not
a list of ports/URLs) is left out, reported once per device and load as a ``event=target_skipped`` warning,
and listed in :attr:`TargetIndex.skipped`; every other target is built.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from sqlalchemy.orm import Session
from sqlmodel import col, select

from inventory.choices import CircuitStatusChoices
from inventory.models import (
    Circuit,
    CircuitTermination,
    Device,
    Interface,
    IPAddress,
    Site,
    SnmpProfile,
)
from inventory.monitoring import monitored_condition
from inventory.rules import snmp_profile_errors
from inventory.secretbox import undecryptable
from probes.base import SnmpCredentials, Target

log = logging.getLogger(__name__)

SHOWN_VALUE_CHARS = 60  # a bad custom-field value is quoted in the reason, cut to this length


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


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= SHOWN_VALUE_CHARS else text[: SHOWN_VALUE_CHARS - 3] + "..."


def _port(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        port = value
    elif isinstance(value, str) and value.strip().isdigit():
        port = int(value)
    else:
        return None
    return port if 1 <= port <= 65535 else None


def _url(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return None
    return value.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def _entries(cf: Any, name: str, parse: Any, what: str) -> tuple[list[Any], str | None]:
    """The valid entries of list custom field ``name`` (duplicates dropped) and why the others were left out."""
    if not isinstance(cf, dict):
        return [], f"custom_fields must be a mapping, not {type(cf).__name__}"
    value = cf.get(name)
    if value is None:
        return [], None
    if not isinstance(value, list):
        return [], f"{name} must be a list of {what}, not {type(value).__name__} {_show(value)}"
    good: list[Any] = []
    bad: list[str] = []
    for item in value:
        parsed = parse(item)
        if parsed is None:
            bad.append(_show(item))
        elif parsed not in good:
            good.append(parsed)
    return good, (f"{name}: not {what}: {', '.join(bad)}" if bad else None)


def _quoted(text: str) -> str:
    return text if text and not any(c.isspace() or c in "\"=" for c in text) else json.dumps(text, ensure_ascii=False)


def load_targets(
    session: Session,
    *,
    poller_group: str | None = "default",
    site_slug: str | None = None,
    kinds: tuple[str, ...] = ("icmp", "snmp", "tcp", "http"),
    device_id: int | None = None,
    log_skipped: bool = True,
) -> TargetIndex:
    """Targets of the monitored, active devices of ``poller_group`` (all groups when None)."""
    q = (
        select(Device, Site.slug, IPAddress.host)
        .join(Site, col(Site.id) == col(Device.site_id))
        .outerjoin(IPAddress, col(IPAddress.id) == col(Device.primary_ip_id))
        .where(monitored_condition(Device))
    )
    if poller_group is not None:
        q = q.where(Device.poller_group == poller_group)
    if site_slug is not None:
        q = q.where(Site.slug == site_slug)
    if device_id is not None:
        q = q.where(col(Device.id) == device_id)
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
    credentials: dict[int, SnmpCredentials | str] = {}
    for device, site_slug_, host in rows:
        if not host or device.id is None:
            continue
        problems: list[tuple[str, str]] = []
        base = Target(key="", device_id=device.id, device=device.name, site=site_slug_, address=host)
        if "icmp" in kinds:
            _add(idx, "icmp", replace(base, key=f"icmp:{device.id}"))
        profile = profiles.get(device.snmp_profile_id) if device.snmp_profile_id is not None else None
        if "snmp" in kinds and profile is not None and profile.id is not None:
            creds = credentials.get(profile.id)
            if creds is None:
                creds = credentials[profile.id] = _credentials(profile)
            if isinstance(creds, str):
                problems.append(("snmp", creds))
            else:
                names = tuple(sorted(i.name for i in ifaces.get(device.id, []) if not i.mgmt_only))
                _add(idx, "snmp", replace(base, key=f"snmp:{device.id}", snmp=creds, interfaces=names))
        cf = device.custom_fields if device.custom_fields is not None else {}
        if "tcp" in kinds:
            ports, why = _entries(cf, "tcp_ports", _port, "ports (1..65535)")
            for port in ports:
                _add(idx, "tcp", replace(base, key=f"tcp:{device.id}:{port}", port=port))
            if why:
                problems.append(("tcp", why))
        if "http" in kinds:
            urls, why = _entries(cf, "http_urls", _url, "http(s) URLs")
            for url in urls:
                _add(idx, "http", replace(base, key=f"http:{device.id}:{url}", url=url))
            if why:
                problems.append(("http", why))
        if problems:
            _skip(idx, device.id, device.name, problems, log_skipped)
    return idx


def _skip(idx: TargetIndex, device_id: int, device: str, problems: list[tuple[str, str]], warn: bool) -> None:
    """Record the targets of one device left out, with one warning line for the device."""
    idx.skipped.extend(SkippedTarget(device_id, kind, reason) for kind, reason in problems)
    if not warn:
        return
    reason = problems[0][1] if len(problems) == 1 else "; ".join(f"{k}: {r}" for k, r in problems)
    log.warning("event=target_skipped device=%s device_id=%d kind=%s reason=%s", _quoted(device), device_id,
                ",".join(k for k, _ in problems), _quoted(reason))


def _add(idx: TargetIndex, kind: str, target: Target) -> None:
    idx.targets[kind].append(target)
    if target.device_id is not None:
        idx.device_of[target.key] = target.device_id

"""From a sweep's transitions to notification messages per channel: grouping, filtering, payloads.

Pure (no I/O). Only transitions the engine marked ``notify`` are considered (so nothing is sent for
maintenance or while a device flaps). They are grouped so that one failure makes one message:

* a device's own change and every change whose ``group_root`` is that device (devices newly unreachable
  behind it, or reachable again) form one group: "DOWN: district router — 20 devices unreachable behind it";
* devices whose poller went silent (UNKNOWN) form one "no data" group per sweep, their return one more;
* flap start/stop is one message per device.

Each channel gets the groups that pass its filter: severity (the group's highest) at least
``min_severity``, and when set, a level or region matching any device of the group. The retry policy
(exponential backoff) used by the outbox worker lives here too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from infra_monitor.status.engine.config import ChannelSpec
from infra_monitor.status.engine.states import SEVERITY_RANK, DeviceStatus, EventKind, Severity, State, Transition

MAX_LISTED = 50


@dataclass(frozen=True)
class DeviceInfo:
    """How a device is named and placed, for messages and channel filters."""

    device_id: int
    name: str = ""
    site_id: int | None = None
    site_name: str = ""
    region_name: str = ""
    level: str = ""
    region_keys: frozenset[str] = frozenset()

    @property
    def label(self) -> str:
        name = self.name or f"device #{self.device_id}"
        return f"{name} ({self.site_name})" if self.site_name else name


@dataclass
class NotifyContext:
    devices: Mapping[int, DeviceInfo] = field(default_factory=dict)
    statuses: Mapping[int, DeviceStatus] = field(default_factory=dict)

    def info(self, device_id: int) -> DeviceInfo:
        return self.devices.get(device_id) or DeviceInfo(device_id)


@dataclass
class Group:
    """Transitions that make one message. ``head`` is the root device's own transition, if any."""

    key: tuple[Any, ...]
    kind: str
    root_id: int | None
    head: Transition | None = None
    members: list[Transition] = field(default_factory=list)

    @property
    def transitions(self) -> list[Transition]:
        return ([self.head] if self.head else []) + self.members

    @property
    def severity(self) -> Severity:
        return max((t.severity for t in self.transitions), key=SEVERITY_RANK.__getitem__)

    def device_ids(self) -> set[int]:
        ids = {t.device_id for t in self.transitions}
        if self.root_id is not None:
            ids.add(self.root_id)
        return ids


def group_transitions(transitions: Iterable[Transition]) -> list[Group]:
    """Group the notifiable transitions of one sweep (order of first appearance is kept)."""
    groups: dict[tuple[Any, ...], Group] = {}
    for t in transitions:
        if not t.notify:
            continue
        if t.kind in (EventKind.FLAP_START, EventKind.FLAP_STOP):
            key: tuple[Any, ...] = ("flap", t.device_id, t.kind.value)
            g = groups.setdefault(key, Group(key, t.kind.value, t.device_id))
            g.head = t
            continue
        if t.new_state is State.UNKNOWN or (t.old_state is State.UNKNOWN and t.new_state is State.UP):
            kind = "no_data" if t.new_state is State.UNKNOWN else "data_back"
            key = (kind,)
            groups.setdefault(key, Group(key, kind, None)).members.append(t)
            continue
        root = t.group_root
        key = ("root", root if root is not None else t.device_id)
        g = groups.setdefault(key, Group(key, EventKind.STATE_CHANGE.value, key[1]))
        if root is None and g.head is None:
            g.head = t
        else:
            g.members.append(t)
    return list(groups.values())


def accepts(channel: ChannelSpec, group: Group, ctx: NotifyContext) -> bool:
    """Whether ``channel`` wants ``group``."""
    if SEVERITY_RANK[group.severity] < SEVERITY_RANK[Severity(channel.min_severity)]:
        return False
    infos = [ctx.info(d) for d in group.device_ids()]
    if channel.levels and not any(i.level in channel.levels for i in infos):
        return False
    return not (channel.regions and not any(i.region_keys & channel.regions for i in infos))


def _device(ctx: NotifyContext, device_id: int, state: State | None = None) -> dict[str, Any]:
    info = ctx.info(device_id)
    status = ctx.statuses.get(device_id)
    current = state or (status.state if status else None)
    return {"device_id": device_id, "name": info.name, "site_id": info.site_id, "site": info.site_name,
            "region": info.region_name, "level": info.level, "state": current.value if current else None}


def _upper(state: State | None) -> str:
    return state.value.upper() if state else "?"


def _title(group: Group, ctx: NotifyContext) -> str:
    head, members = group.head, group.members
    if group.kind == "no_data":
        return f"NO DATA: {len(members)} device(s) stopped reporting"
    if group.kind == "data_back":
        return f"DATA BACK: {len(members)} device(s) reporting again"
    if group.kind == EventKind.FLAP_START.value and head is not None:
        return f"FLAPPING: {ctx.info(head.device_id).label} ({head.percent_state_change}% state change)"
    if group.kind == EventKind.FLAP_STOP.value and head is not None:
        return f"FLAPPING STOPPED: {ctx.info(head.device_id).label}, now {_upper(head.new_state)}"
    recovered = sum(1 for t in members if t.new_state is State.UP)
    cut = len(members) - recovered
    tail = []
    if cut:
        tail.append(f"{cut} device(s) unreachable behind it")
    if recovered:
        tail.append(f"{recovered} device(s) reachable again")
    if head is not None:
        base = f"{_upper(head.new_state)}: {ctx.info(head.device_id).label}"
        return base + (" — " + ", ".join(tail) if tail else "")
    assert group.root_id is not None
    root_status = ctx.statuses.get(group.root_id)
    root = f"{ctx.info(group.root_id).label}, {_upper(root_status.state if root_status else None)}"
    return f"{', '.join(tail).capitalize()} (root cause: {root})"


def build_payload(group: Group, ctx: NotifyContext, now: datetime) -> dict[str, Any]:
    """The JSON document sent to a webhook (and rendered as an e-mail)."""
    head = group.head
    title = _title(group, ctx)
    affected = [
        {**_device(ctx, t.device_id, t.new_state), "old_state": t.old_state.value if t.old_state else None}
        for t in group.members
    ]
    lines = [title]
    lines += [f"- {a['name'] or a['device_id']} ({a['site']}): {a['old_state']} → {a['state']}"
              for a in affected[:MAX_LISTED]]
    if len(affected) > MAX_LISTED:
        lines.append(f"… and {len(affected) - MAX_LISTED} more")
    return {
        "kind": group.kind,
        "severity": group.severity.value,
        "time": now.isoformat(),
        "title": title,
        "device": (
            {**_device(ctx, head.device_id, head.new_state), "old_state": head.old_state.value if head.old_state
             else None, "cause": head.cause.value, "since": head.since.isoformat()}
            if head is not None else None
        ),
        "root_cause": _device(ctx, group.root_id) if group.root_id is not None and group.kind == "state_change"
        else None,
        "affected_count": len(affected),
        "affected": affected[:MAX_LISTED],
        "text": "\n".join(lines),
    }


def plan_notifications(
    transitions: Iterable[Transition], ctx: NotifyContext, channels: Sequence[ChannelSpec], now: datetime
) -> list[tuple[str, dict[str, Any]]]:
    """(channel name, payload) for every group each channel accepts."""
    groups = group_transitions(transitions)
    out: list[tuple[str, dict[str, Any]]] = []
    for g in groups:
        payload: dict[str, Any] | None = None
        for ch in channels:
            if accepts(ch, g, ctx):
                payload = payload or build_payload(g, ctx, now)
                out.append((ch.name, payload))
    return out


def backoff_delay(attempts: int, initial_s: float, max_s: float) -> timedelta:
    """Delay before the next try after ``attempts`` failed tries: initial, 2×, 4×… capped at ``max_s``."""
    return timedelta(seconds=min(max_s, initial_s * 2 ** max(0, attempts - 1)))

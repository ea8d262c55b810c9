"""Problems, the pure rules: a device hard DOWN as root cause, with the devices UNREACHABLE behind it.

:func:`plan`: the open problems before a sweep and the statuses after it → what to open, which members join
or leave, what to resolve and why. It reads states, not transitions, so a sweep that finds a device DOWN
without an open problem (a database upgraded during an outage) opens one, starting when the hard DOWN began.
Persistence and the operators' actions are :mod:`infra_monitor.status.store.problems`.

Rules: a problem opens when a device is hard DOWN (own failure; never UNREACHABLE, and a device in
maintenance is MAINTENANCE, not DOWN). Its members are the devices hard UNREACHABLE with it as root cause
(not those cut off by planned maintenance). It resolves when the root device is hard UP (``recovered``),
removed or no longer monitored (``removed``), now cut off behind another root cause (``cut_off``) or in a
maintenance window (``maintenance``); while its data is missing (UNKNOWN) it stays open. A root going DOWN
again later opens a new problem; a member whose parent recovered while it did not becomes a root itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from infra_monitor.status.engine.states import Cause, DeviceStatus, State, hard_view

SYSTEM = "system"
COMMENT_MAX = 1000
NAME_MAX = 100


class Action(StrEnum):
    """Entries of a problem's history."""

    OPENED = "opened"
    ACKNOWLEDGED = "acknowledged"
    UNACKNOWLEDGED = "unacknowledged"
    ASSIGNED = "assigned"
    COMMENTED = "commented"
    RESOLVED = "resolved"


class ResolveReason(StrEnum):
    RECOVERED = "recovered"
    REMOVED = "removed"
    CUT_OFF = "cut_off"
    MAINTENANCE = "maintenance"


_REASON = {State.UP: ResolveReason.RECOVERED, State.UNREACHABLE: ResolveReason.CUT_OFF,
           State.MAINTENANCE: ResolveReason.MAINTENANCE}

# ---------------------------------------------------------------- pure planning ------------------------------


@dataclass(frozen=True)
class OpenProblem:
    """An unresolved problem as stored: its root device, the devices behind it now, its peak so far."""

    id: int
    root_device_id: int | None
    members: frozenset[int] = frozenset()
    peak: int = 0


@dataclass(frozen=True)
class Opening:
    root_device_id: int
    opened_at: datetime
    members: tuple[int, ...]


@dataclass(frozen=True)
class Resolution:
    problem_id: int
    reason: ResolveReason


@dataclass(frozen=True)
class MemberChange:
    problem_id: int
    joined: tuple[int, ...]
    left: tuple[int, ...]
    peak: int


@dataclass
class ProblemPlan:
    opens: list[Opening] = field(default_factory=list)
    resolves: list[Resolution] = field(default_factory=list)
    changes: list[MemberChange] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.opens or self.resolves or self.changes)


def is_root_cause(status: DeviceStatus) -> bool:
    """Hard DOWN by its own failure."""
    hv = hard_view(status)
    return hv.state is State.DOWN and hv.cause is Cause.OWN_FAILURE


def members_by_root(statuses: Mapping[int, DeviceStatus]) -> dict[int, set[int]]:
    """Root device → the devices hard UNREACHABLE behind it (not behind planned maintenance)."""
    out: dict[int, set[int]] = {}
    for d, st in statuses.items():
        hv = hard_view(st)
        if (hv.state is State.UNREACHABLE and hv.cause is Cause.PARENT_UNREACHABLE
                and hv.root_cause_device_id is not None):
            out.setdefault(hv.root_cause_device_id, set()).add(d)
    return out


def plan(open_problems: Iterable[OpenProblem], statuses: Mapping[int, DeviceStatus]) -> ProblemPlan:
    """What a sweep whose resulting ``statuses`` are given does to the problems (``statuses`` holds every
    monitored device; one missing was removed or is no longer monitored)."""
    out = ProblemPlan()
    behind = members_by_root(statuses)
    tracked: set[int] = set()
    for p in sorted(open_problems, key=lambda p: p.id):
        root = p.root_device_id
        st = statuses.get(root) if root is not None else None
        if root is None or st is None:
            out.resolves.append(Resolution(p.id, ResolveReason.REMOVED))
            continue
        state = hard_view(st).state
        if root in tracked or (state is not State.UNKNOWN and not is_root_cause(st)):
            out.resolves.append(Resolution(p.id, _REASON.get(state, ResolveReason.RECOVERED)))
            continue
        tracked.add(root)
        now_members = behind.get(root, set())
        joined, left = now_members - p.members, p.members - now_members
        peak = max(p.peak, len(now_members))
        if joined or left or peak != p.peak:
            out.changes.append(MemberChange(p.id, tuple(sorted(joined)), tuple(sorted(left)), peak))
    for d, st in statuses.items():
        if d not in tracked and is_root_cause(st):
            out.opens.append(Opening(d, hard_view(st).since, tuple(sorted(behind.get(d, ())))))
    return out


# ---------------------------------------------------------------- in the sweep's transaction -----------------

"""Problems: a device hard DOWN as root cause, with the devices UNREACHABLE behind it, until it recovers.

Three parts:

* :func:`plan` (pure): the open problems before a sweep and the statuses after it → what to open, which
  members join or leave, what to resolve and why. It reads states, not transitions, so a sweep that finds a
  device DOWN without an open problem (a database upgraded during an outage) opens one, starting when the
  hard DOWN began.
* :func:`record` (database): runs inside :func:`infra_monitor.status.store.apply_sweep`, in the sweep's
  transaction, in a constant number of queries.
* the operators' actions (:func:`acknowledge`, :func:`unacknowledge`, :func:`assign`, :func:`add_comment`),
  each one history row with the real actor, shared by the API, the CLI and the pages.

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
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from infra_monitor.status.models import ProblemActionRow, ProblemMemberRow, ProblemRow
from infra_monitor.status.states import Cause, DeviceStatus, State, hard_view
from infra_monitor.status.topology import Topology

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

PROBLEM = ProblemRow.__table__  # type: ignore[attr-defined]
MEMBER = ProblemMemberRow.__table__  # type: ignore[attr-defined]
ACTION = ProblemActionRow.__table__  # type: ignore[attr-defined]


def load_open(session: Session) -> list[OpenProblem]:
    """Unresolved problems with their current members (2 queries)."""
    rows = session.execute(select(PROBLEM.c.id, PROBLEM.c.root_device_id, PROBLEM.c.peak_members)
                           .where(PROBLEM.c.resolved_at.is_(None))).all()
    members: dict[int, set[int]] = {}
    if rows:
        for pid, device_id in session.execute(
                select(MEMBER.c.problem_id, MEMBER.c.device_id)
                .join(PROBLEM, PROBLEM.c.id == MEMBER.c.problem_id)
                .where(PROBLEM.c.resolved_at.is_(None), MEMBER.c.until.is_(None))):
            if device_id is not None:
                members.setdefault(pid, set()).add(device_id)
    return [OpenProblem(r.id, r.root_device_id, frozenset(members.get(r.id, ())), r.peak_members) for r in rows]


def record(session: Session, statuses: Mapping[int, DeviceStatus], topo: Topology, now: datetime) -> ProblemPlan:
    """Open, update and resolve problems after a sweep (at most 8 queries; nothing when nothing changed)."""
    open_now = load_open(session)
    todo = plan(open_now, statuses)
    if not todo:
        return todo
    member_rows: list[dict[str, Any]] = []
    actions: list[dict[str, Any]] = []

    def member(pid: int, d: int) -> dict[str, Any]:
        return {"problem_id": pid, "device_id": d, "device_name": topo.device_name.get(d, "")[:200], "since": now,
                "until": None}

    if todo.opens:
        values = [{"root_device_id": o.root_device_id, "device_name": topo.device_name.get(o.root_device_id, "")[:200],
                   "site_id": topo.device_site.get(o.root_device_id), "opened_at": o.opened_at, "resolved_at": None,
                   "resolve_reason": None, "peak_members": len(o.members), "acknowledged": False, "ack_by": None,
                   "ack_at": None, "ack_comment": "", "assignee": None, "updated_at": now} for o in todo.opens]
        ids = session.execute(insert(PROBLEM).returning(PROBLEM.c.id, sort_by_parameter_order=True), values).scalars()
        for o, pid in zip(todo.opens, ids, strict=True):
            member_rows += [member(pid, d) for d in o.members]
            actions.append({"problem_id": pid, "at": now, "action": Action.OPENED.value, "actor": SYSTEM,
                            "comment": "", "details": {"since": o.opened_at.isoformat(), "members": len(o.members)}})
    leaving: list[dict[str, Any]] = []
    peaks: list[dict[str, Any]] = []
    for c in todo.changes:
        member_rows += [member(c.problem_id, d) for d in c.joined]
        leaving += [{"_pid": c.problem_id, "_device": d} for d in c.left]
        peaks.append({"_pid": c.problem_id, "_peak": c.peak})
    if member_rows:
        session.execute(insert(MEMBER), member_rows)
    if leaving:
        session.execute(update(MEMBER).where(MEMBER.c.problem_id == bindparam("_pid"),
                                             MEMBER.c.device_id == bindparam("_device"), MEMBER.c.until.is_(None))
                        .values(until=now), leaving)
    if peaks:
        session.execute(update(PROBLEM).where(PROBLEM.c.id == bindparam("_pid"))
                        .values(peak_members=bindparam("_peak"), updated_at=now), peaks)
    if todo.resolves:
        gone = [r.problem_id for r in todo.resolves]
        session.execute(update(MEMBER).where(MEMBER.c.problem_id.in_(gone), MEMBER.c.until.is_(None))
                        .values(until=now))
        session.execute(update(PROBLEM).where(PROBLEM.c.id == bindparam("_pid"))
                        .values(resolved_at=now, resolve_reason=bindparam("_reason"), updated_at=now),
                        [{"_pid": r.problem_id, "_reason": r.reason.value} for r in todo.resolves])
        actions += [{"problem_id": r.problem_id, "at": now, "action": Action.RESOLVED.value, "actor": SYSTEM,
                     "comment": "", "details": {"reason": r.reason.value}} for r in todo.resolves]
    if actions:
        session.execute(insert(ACTION), actions)
    return todo


# ---------------------------------------------------------------- operators' actions --------------------------


class ProblemNotFound(LookupError):
    """No problem with that id."""


class ProblemInputError(ValueError):
    """Bad input, as {field: [message]}."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


def _problem(session: Session, problem_id: int) -> ProblemRow:
    row = session.get(ProblemRow, problem_id)
    if row is None:
        raise ProblemNotFound(problem_id)
    return row


def _text(value: Any, key: str, *, required: bool, limit: int = COMMENT_MAX) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ProblemInputError({key: ["Must be a string."]})
    value = value.strip()
    if "\x00" in value:
        raise ProblemInputError({key: ["Contains a NUL character (\\0), which no text can hold."]})
    if required and not value:
        raise ProblemInputError({key: ["This field is required."]})
    if len(value) > limit:
        raise ProblemInputError({key: [f"At most {limit} characters (got {len(value)})."]})
    return value


def _open(session: Session, problem_id: int) -> ProblemRow:
    """The problem, refused when already resolved: acknowledging or assigning it would tell nobody anything
    (a comment stays possible, for the post-mortem)."""
    row = _problem(session, problem_id)
    if row.resolved_at is not None:
        raise ProblemInputError({"problem": [f"Problem {problem_id} was resolved at "
                                             f"{row.resolved_at:%Y-%m-%d %H:%M} UTC; only comments are taken."]})
    return row


def _log(session: Session, row: ProblemRow, action: Action, actor: str, now: datetime, comment: str = "",
         **details: Any) -> None:
    assert row.id is not None
    row.updated_at = now
    session.add(row)
    session.add(ProblemActionRow(problem_id=row.id, at=now, action=action.value, actor=actor[:NAME_MAX],
                                 comment=comment, details=details))
    session.flush()


def acknowledge(session: Session, problem_id: int, user: str, now: datetime, comment: Any = "",
                actor: str | None = None) -> None:
    """Mark the problem acknowledged by ``user`` (again: the latest acknowledgement is kept); the history
    records ``actor`` (the user, with the token used if any)."""
    text = _text(comment, "comment", required=False)
    row = _open(session, problem_id)
    row.acknowledged, row.ack_by, row.ack_at, row.ack_comment = True, user[:NAME_MAX], now, text
    _log(session, row, Action.ACKNOWLEDGED, actor or user, now, text)


def unacknowledge(session: Session, problem_id: int, actor: str, now: datetime, comment: Any = "") -> None:
    text = _text(comment, "comment", required=False)
    row = _open(session, problem_id)
    row.acknowledged, row.ack_by, row.ack_at, row.ack_comment = False, None, None, ""
    _log(session, row, Action.UNACKNOWLEDGED, actor, now, text)


def assign(session: Session, problem_id: int, assignee: Any, actor: str, now: datetime) -> None:
    """Assign to an existing user name (None or "" clears the assignment)."""
    from infra_monitor.accounts.users import AccountError, get_user

    name = _text(assignee, "assignee", required=False, limit=NAME_MAX).lower()
    row = _open(session, problem_id)
    if name:
        try:
            get_user(session, name)
        except AccountError:
            raise ProblemInputError({"assignee": [f"No user named {name!r}."]}) from None
    row.assignee = name or None
    _log(session, row, Action.ASSIGNED, actor, now, assignee=row.assignee)


def add_comment(session: Session, problem_id: int, comment: Any, actor: str, now: datetime) -> None:
    text = _text(comment, "comment", required=True)
    row = _problem(session, problem_id)
    _log(session, row, Action.COMMENTED, actor, now, text)

"""Problems in the database: :func:`record` runs inside :func:`infra_monitor.status.store.sweeps.apply_sweep`, in
the sweep's transaction, in a constant number of queries; the operators' actions (:func:`acknowledge`,
:func:`unacknowledge`, :func:`assign`, :func:`add_comment`) are each one history row with the real actor, shared
by the API, the CLI and the pages. The rules are :mod:`infra_monitor.status.engine.problems`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from infra_monitor.status.engine.problems import (
    COMMENT_MAX,
    NAME_MAX,
    SYSTEM,
    Action,
    OpenProblem,
    ProblemPlan,
    plan,
)
from infra_monitor.status.engine.states import DeviceStatus
from infra_monitor.status.engine.topology import Topology
from infra_monitor.status.store.models import ProblemActionRow, ProblemMemberRow, ProblemRow

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

"""Problems as operators list them: filters, members and history; shared by the CLI (``infra-monitor
problems``), the REST API (``/api/status/problems``) and the ``/problems`` pages, so all show the same thing.
Times come out in UTC (aware); callers render them locally. A list costs a constant number of queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from infra_monitor.status.maintenance.manage import SITE, parse_when, resolve_site


class ProblemMemberOut(BaseModel):
    device_id: int | None
    device: str
    since: datetime
    until: datetime | None


class ProblemActionOut(BaseModel):
    at: datetime
    action: str
    actor: str
    comment: str
    details: dict[str, Any]


class ProblemOut(BaseModel):
    """A problem as listed (times in UTC); ``members`` and ``history`` only for one problem."""

    id: int
    state: str
    root_device_id: int | None
    device: str
    site_id: int | None
    site: str | None
    site_name: str | None
    level: str | None
    district_id: int | None
    district: str | None
    opened_at: datetime
    resolved_at: datetime | None
    resolve_reason: str | None
    duration_s: float
    members_now: int
    peak_members: int
    acknowledged: bool
    ack_by: str | None
    ack_at: datetime | None
    ack_comment: str
    assignee: str | None
    members: list[ProblemMemberOut] | None = None
    history: list[ProblemActionOut] | None = None


@dataclass(frozen=True)
class ProblemFilter:
    """``state`` open, resolved or all; ``level`` a site category; ``district`` a region id, code or slug (the
    region and everything below it); problems overlapping [since, until); ``acknowledged`` True/False."""

    state: str = "open"
    level: str | None = None
    district: str | None = None
    site_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    acknowledged: bool | None = None
    problem_id: int | None = None


PROBLEM_STATES = ("open", "resolved", "all")
_BOOL = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def regions_now(session: Session, now: datetime) -> Any:
    """The regions in force on ``now``'s date (3 queries)."""
    from inventory.dated import load_regions

    return load_regions(session.connection(), now.date())


def district_ids(regions: Any, ref: str) -> set[int] | None:
    """Region ids under the region ``ref`` (code or slug, else id); None when no region matches."""
    ref = ref.strip()
    region = regions.by_code(ref)
    if region is None and ref.isascii() and ref.isdigit() and len(ref) < 19:
        region = regions.info(int(ref))
    return None if region is None else set(regions.under(region.id))


def list_problems(session: Session, f: ProblemFilter, limit: int, offset: int, now: datetime
                  ) -> tuple[int, list[ProblemOut]]:
    """(how many match, one page: open first, newest first); constant queries (regions, count, page)."""
    from infra_monitor.status.store.models import ProblemMemberRow, ProblemRow

    pr: Any = ProblemRow.__table__  # type: ignore[attr-defined]
    mem: Any = ProblemMemberRow.__table__  # type: ignore[attr-defined]
    regions = regions_now(session, now)
    conds: list[Any] = []
    if f.state == "open":
        conds.append(pr.c.resolved_at.is_(None))
    elif f.state == "resolved":
        conds.append(pr.c.resolved_at.is_not(None))
    if f.level is not None:
        conds.append(SITE.c.category == f.level)
    if f.district is not None:
        ids = district_ids(regions, f.district) or set()
        conds.append(SITE.c.region_id.in_(ids))
    if f.site_id is not None:
        conds.append(pr.c.site_id == f.site_id)
    if f.since is not None:
        conds.append(or_(pr.c.resolved_at.is_(None), pr.c.resolved_at >= f.since))
    if f.until is not None:
        conds.append(pr.c.opened_at < f.until)
    if f.acknowledged is not None:
        conds.append(pr.c.acknowledged.is_(f.acknowledged))
    if f.problem_id is not None:
        conds.append(pr.c.id == f.problem_id)
    joined = pr.outerjoin(SITE, SITE.c.id == pr.c.site_id)
    count = session.scalar(select(func.count()).select_from(joined).where(*conds)) or 0
    now_members = (select(mem.c.problem_id, func.count().label("n")).where(mem.c.until.is_(None))
                   .group_by(mem.c.problem_id).subquery())
    is_open = pr.c.resolved_at.is_(None)
    stmt = (select(pr, SITE.c.slug, SITE.c.name.label("site_name"), SITE.c.category, SITE.c.region_id,
                   func.coalesce(now_members.c.n, 0).label("members_now"))
            .select_from(joined.outerjoin(now_members, now_members.c.problem_id == pr.c.id)).where(*conds)
            .order_by(is_open.desc(), pr.c.opened_at.desc(), pr.c.id.desc()).limit(limit).offset(offset))
    out = []
    for r in session.execute(stmt).mappings():
        district = regions.district_of(r["region_id"]) if r["region_id"] is not None else None
        end = r["resolved_at"] or now
        out.append(ProblemOut(
            id=r["id"], state="open" if r["resolved_at"] is None else "resolved", root_device_id=r["root_device_id"],
            device=r["device_name"], site_id=r["site_id"], site=r["slug"], site_name=r["site_name"],
            level=r["category"], district_id=district.id if district else None,
            district=district.name if district else None, opened_at=r["opened_at"], resolved_at=r["resolved_at"],
            resolve_reason=r["resolve_reason"], duration_s=max(0.0, (end - r["opened_at"]).total_seconds()),
            members_now=r["members_now"], peak_members=r["peak_members"], acknowledged=bool(r["acknowledged"]),
            ack_by=r["ack_by"], ack_at=r["ack_at"], ack_comment=r["ack_comment"] or "", assignee=r["assignee"]))
    return count, out


def get_problem(session: Session, problem_id: int, now: datetime) -> ProblemOut | None:
    """One problem with its members (every membership, oldest first) and its history (5 queries)."""
    from infra_monitor.status.store.models import ProblemActionRow, ProblemMemberRow

    _, rows = list_problems(session, ProblemFilter(state="all", problem_id=problem_id), 1, 0, now)
    if not rows:
        return None
    problem = rows[0]
    mem: Any = ProblemMemberRow.__table__  # type: ignore[attr-defined]
    act: Any = ProblemActionRow.__table__  # type: ignore[attr-defined]
    problem.members = [ProblemMemberOut(device_id=r.device_id, device=r.device_name, since=r.since, until=r.until)
                       for r in session.execute(select(mem).where(mem.c.problem_id == problem_id)
                                                .order_by(mem.c.since, mem.c.device_name))]
    problem.history = [ProblemActionOut(at=r.at, action=r.action, actor=r.actor, comment=r.comment,
                                        details=r.details or {})
                       for r in session.execute(select(act).where(act.c.problem_id == problem_id)
                                                .order_by(act.c.at, act.c.id))]
    return problem


def parse_problem_filter(session: Session, zone: ZoneInfo, raw: dict[str, str | None], now: datetime
                         ) -> tuple[ProblemFilter, dict[str, list[str]]]:
    """The filter of query parameters (empty ones ignored) and the problems with them, by parameter; shared
    by the API, the CLI and the ``/problems`` page."""
    from infra_monitor.readmodel.schemas import LEVELS

    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    state = (raw.get("state") or "open").strip().lower()
    if state not in PROBLEM_STATES:
        errors["state"] = [f"'{state}' is not one of {', '.join(PROBLEM_STATES)}."]
    values["state"] = state
    if level := (raw.get("level") or "").strip():
        if level not in LEVELS:
            errors["level"] = [f"'{level}' is not one of {', '.join(LEVELS)}."]
        values["level"] = level
    if district := (raw.get("district") or "").strip():
        if district_ids(regions_now(session, now), district) is None:
            errors["district"] = [f"no region with id, code or slug '{district}'."]
        values["district"] = district
    if site := (raw.get("site") or "").strip():
        try:
            values["site_id"] = resolve_site(session, site)
        except ValueError as exc:
            errors["site"] = [f"{exc}."]
    for key in ("since", "until"):
        if text := (raw.get(key) or "").strip():
            try:
                values[key] = parse_when(text, zone).astimezone(UTC)
            except (ValueError, OverflowError) as exc:
                errors[key] = [f"{exc}."]
    if ack := (raw.get("acknowledged") or "").strip().lower():
        if ack not in _BOOL:
            errors["acknowledged"] = [f"'{ack}' is not a boolean (true or false)."]
        values["acknowledged"] = _BOOL.get(ack)
    return ProblemFilter(**values), errors



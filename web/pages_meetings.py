"""The meeting pages: ``/meetings`` (upcoming and past meetings; for operators the create form) and
``/meetings/{id}``, the readiness board: counters, rooms not ready first with their reasons, the changes
since the previous check, a live countdown to the start (``/static/countdown.js``) and, for operators, "check
now" (recorded for the poller, or refused with a message when no poller runs: the web never probes).

Rules, lists and boards are :mod:`infra_monitor.meetings` (the same as the API and the CLI). Forms post with the
session's CSRF token (checked by :class:`web.auth.AuthGate`) and are answered with a redirect (303); a refused
input re-renders the page with the messages.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col
from starlette.concurrency import run_in_threadpool

from infra_monitor.accounts.principal import Principal
from infra_monitor.accounts.roles import OPERATOR
from infra_monitor.meetings.manage import MeetingIn, MeetingInputError, create, list_meetings
from infra_monitor.meetings.models import Meeting
from infra_monitor.meetings.schedule import poller_running, request_check
from infra_monitor.meetings.texts import change_text, reason_text
from infra_monitor.meetings.views import board, summaries
from infra_monitor.status.maintenance.manage import parse_when
from inventory.models import Region
from web.api.inventory.crud import DbId
from web.auth import require_role
from web.deps import get_session, get_write_session
from web.templating import Page, page, readmodel, render

router = APIRouter(include_in_schema=False)
MAX_FORM = 16 * 1024
PageDep = Annotated[Page, Depends(page)]
require_operator = require_role(OPERATOR)


async def _form(request: Request) -> dict[str, list[str]]:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM:
            raise HTTPException(413, detail=f"The form is larger than {MAX_FORM} bytes.")
    return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)


def _list(p: Page, session: Session, status_code: int = 200, errors: dict[str, list[str]] | None = None,
          form: dict[str, str] | None = None) -> HTMLResponse:
    now = datetime.now(UTC)
    _n, upcoming = list_meetings(session, 200, 0, now)
    _m, recent = list_meetings(session, 50, 0)
    past = [m for m in recent if m.id not in {u.id for u in upcoming}]
    boards = summaries(session, [*upcoming, *past])
    districts = list(session.execute(select(Region).where(col(Region.level) == "district")
                                     .order_by(col(Region.code))).scalars())
    who = p.principal
    return render(p, "meetings.html", status_code=status_code, active="nav_meetings", upcoming=upcoming, past=past,
                  boards=boards, districts=districts, can_act=bool(who and who.can(OPERATOR)), errors=errors or {},
                  form=form or {}, freshness=readmodel(p.request).freshness())


@router.get("/meetings", response_class=HTMLResponse)
def meetings_page(p: PageDep, session: Session = Depends(get_session)) -> HTMLResponse:
    return _list(p, session)


def _create(p: Page, session: Session, form: dict[str, list[str]], who: Principal) -> Response:
    one = {k: (v[-1] if v else "") for k, v in form.items()}
    errors: dict[str, list[str]] = {}
    start = None
    try:
        start = parse_when(one.get("start", ""), ZoneInfo(p.settings.general.timezone))
    except ValueError as exc:
        errors["start"] = [str(exc)]
    try:
        duration: int | None = int(one.get("duration_min", ""))
    except ValueError:
        duration = None
    parts: list[dict[str, Any]] = [{"endpoint": e.strip()} for e in form.get("endpoint", []) if e.strip()]
    parts += [{"site": s.strip()} for s in form.get("site", []) if s.strip()]
    if one.get("level"):
        parts.append({"level": one["level"], "district": one.get("district") or None})
    data = MeetingIn(title=one.get("title", ""), start=start, duration_min=duration, mcu=one.get("mcu") or None,
                     participants=parts, notes=one.get("notes", ""))
    try:
        if errors:
            raise MeetingInputError(errors)
        m = create(session, data, who.username, datetime.now(UTC))
    except MeetingInputError as exc:
        session.rollback()
        return _list(p, session, 422, {**exc.errors, **errors}, one)
    session.commit()
    return RedirectResponse(f"/meetings/{m.id}", status_code=303)


@router.post("/meetings")
async def meetings_create_form(request: Request, p: PageDep, session: Session = Depends(get_write_session),
                               who: Principal = Depends(require_operator)) -> Response:
    form = await _form(request)
    return await run_in_threadpool(_create, p, session, form, who)


def _detail(p: Page, session: Session, meeting_id: int, status_code: int = 200, notice: str = "") -> HTMLResponse:
    m = session.get(Meeting, meeting_id)
    rm = readmodel(p.request)
    if m is None:
        return render(p, "error.html", status_code=404, active="", freshness=rm.freshness())
    b = board(session, m)
    now = datetime.now(UTC)
    who = p.principal
    return render(p, "meeting.html", status_code=status_code, active="nav_meetings", b=b, now=now,
                  seconds_left=max(0, int((m.start - now).total_seconds())),
                  over=(now - m.start).total_seconds() > m.duration_min * 60,
                  reason=lambda r: reason_text(p.t, r, p.lang), change=lambda c: change_text(p.t, c),
                  can_act=bool(who and who.can(OPERATOR)), notice=notice, freshness=rm.freshness())


@router.get("/meetings/{meeting_id}", response_class=HTMLResponse)
def meeting_page(meeting_id: DbId, p: PageDep, session: Session = Depends(get_session)) -> HTMLResponse:
    return _detail(p, session, meeting_id, notice=p.request.query_params.get("notice", ""))


def _check(p: Page, session: Session, meeting_id: int, who: Principal) -> Response:
    if session.get(Meeting, meeting_id) is None:
        return _detail(p, session, meeting_id)
    now = datetime.now(UTC)
    if not poller_running(session, now):
        return _detail(p, session, meeting_id, 409, "no_poller")
    request_check(session, meeting_id, who.username, now)
    session.commit()
    return RedirectResponse(f"/meetings/{meeting_id}?notice=requested", status_code=303)


@router.post("/meetings/{meeting_id}/check")
async def meeting_check_form(meeting_id: DbId, request: Request, p: PageDep,
                             session: Session = Depends(get_write_session),
                             who: Principal = Depends(require_operator)) -> Response:
    await _form(request)
    return await run_in_threadpool(_check, p, session, meeting_id, who)

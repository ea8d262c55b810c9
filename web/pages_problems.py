"""The problems pages: ``/problems`` (open ones first, filters, the history of resolved ones) and
``/problems/{id}`` (members, history, and for operators the forms to acknowledge, assign and comment).

Lists and actions are :mod:`infra_monitor.status.store.listing` and :mod:`infra_monitor.status.store.problems`, the same
as the API and the CLI. The forms post with the session's CSRF token (checked by :class:`web.auth.AuthGate`)
and are answered with a redirect back to the problem (303); a refused input re-renders it with the message.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from infra_monitor.accounts.principal import Principal
from infra_monitor.accounts.roles import OPERATOR
from infra_monitor.readmodel.schemas import LEVELS
from infra_monitor.status.store import problems as actions
from infra_monitor.status.store.problem_listing import get_problem, list_problems, parse_problem_filter
from web.api.inventory.crud import DbId
from web.auth import require_role
from web.deps import get_session, get_write_session
from web.templating import Page, page, readmodel, render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
MAX_FORM = 16 * 1024
PageDep = Annotated[Page, Depends(page)]
Str = Annotated[str | None, Query()]
require_operator = require_role(OPERATOR)


@router.get("/problems", response_class=HTMLResponse)
def problems_page(p: PageDep, session: Session = Depends(get_session), state: Str = None, level: Str = None,
                  district: Str = None, since: Str = None, until: Str = None,
                  page_no: Annotated[int, Query(alias="page", ge=1, le=10_000)] = 1) -> HTMLResponse:
    now = datetime.now(UTC)
    raw = {"state": state, "level": level, "district": district, "since": since, "until": until}
    flt, errors = parse_problem_filter(session, ZoneInfo(p.settings.general.timezone), raw, now)
    if errors:   # a hand-edited address: show what is wrong and everything open
        flt, _ = parse_problem_filter(session, ZoneInfo(p.settings.general.timezone), {}, now)
    count, items = list_problems(session, flt, PAGE_SIZE, (page_no - 1) * PAGE_SIZE, now)
    pages = max(1, -(-count // PAGE_SIZE))

    def page_url(n: int) -> str:
        return p.url("/problems", state=flt.state, level=level, district=district, since=since, until=until, page=n)

    rm = readmodel(p.request)
    return render(p, "problems.html", active="nav_problems", items=items, count=count, flt=flt, raw=raw,
                  errors=errors, levels=LEVELS, districts=rm.regions().districts(), pages=pages, page_no=page_no,
                  page_url=page_url, freshness=rm.freshness())


def _detail(p: Page, session: Session, problem_id: int, status_code: int = 200,
            errors: dict[str, list[str]] | None = None) -> HTMLResponse:
    found = get_problem(session, problem_id, datetime.now(UTC))
    rm = readmodel(p.request)
    if found is None:
        return render(p, "error.html", status_code=404, active="", freshness=rm.freshness())
    who = p.principal
    return render(p, "problem.html", status_code=status_code, active="nav_problems", pr=found,
                  can_act=bool(who and who.can(OPERATOR)), errors=errors or {}, freshness=rm.freshness())


@router.get("/problems/{problem_id}", response_class=HTMLResponse)
def problem_page(problem_id: DbId, p: PageDep, session: Session = Depends(get_session)) -> HTMLResponse:
    return _detail(p, session, problem_id)


async def _form(request: Request) -> dict[str, str]:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM:
            raise HTTPException(413, detail=f"The form is larger than {MAX_FORM} bytes.")
    return {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}


def _act(p: Page, session: Session, problem_id: int, act: Callable[[datetime], None]) -> Response:
    try:
        act(datetime.now(UTC))
    except actions.ProblemNotFound:
        session.rollback()
        return _detail(p, session, problem_id)
    except actions.ProblemInputError as exc:
        session.rollback()
        return _detail(p, session, problem_id, 422, exc.errors)
    session.commit()
    return RedirectResponse(f"/problems/{problem_id}", status_code=303)


@router.post("/problems/{problem_id}/acknowledge")
async def acknowledge_form(problem_id: DbId, request: Request, p: PageDep,
                           session: Session = Depends(get_write_session),
                           who: Principal = Depends(require_operator)) -> Response:
    form = await _form(request)
    return await run_in_threadpool(_act, p, session, problem_id, lambda now: actions.acknowledge(
        session, problem_id, who.username, now, form.get("comment", ""), actor=who.actor))


@router.post("/problems/{problem_id}/unacknowledge")
async def unacknowledge_form(problem_id: DbId, request: Request, p: PageDep,
                             session: Session = Depends(get_write_session),
                             who: Principal = Depends(require_operator)) -> Response:
    await _form(request)
    return await run_in_threadpool(_act, p, session, problem_id,
                                   lambda now: actions.unacknowledge(session, problem_id, who.actor, now))


@router.post("/problems/{problem_id}/assign")
async def assign_form(problem_id: DbId, request: Request, p: PageDep, session: Session = Depends(get_write_session),
                      who: Principal = Depends(require_operator)) -> Response:
    form = await _form(request)
    return await run_in_threadpool(_act, p, session, problem_id, lambda now: actions.assign(
        session, problem_id, form.get("assignee", ""), who.actor, now))


@router.post("/problems/{problem_id}/comment")
async def comment_form(problem_id: DbId, request: Request, p: PageDep, session: Session = Depends(get_write_session),
                       who: Principal = Depends(require_operator)) -> Response:
    form = await _form(request)
    return await run_in_threadpool(_act, p, session, problem_id, lambda now: actions.add_comment(
        session, problem_id, form.get("comment", ""), who.actor, now))

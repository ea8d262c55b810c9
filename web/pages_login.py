"""Sign-in and sign-out pages and the optional anonymous public summary (``web.public_summary``).

The sign-in form is protected against cross-site submission by a double-submit token (``im_login_csrf``
cookie = form field); attempts are rate-limited per client address and accounts lock after
``web.login_max_failures`` wrong passwords. The session cookie is HttpOnly, SameSite=Lax, and Secure when
the app is reached over TLS (``web.base_url`` https or an https request).
"""

from __future__ import annotations

import hmac
import logging
import secrets
from datetime import datetime, timedelta
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel

from infra_monitor.accounts.signin import RateLimiter, attempt_login, close_session, open_session
from infra_monitor.config import Settings
from infra_monitor.db import write_session
from infra_monitor.readmodel.schemas import CoverageRow, StateCounts
from infra_monitor.readmodel.service import ReadModel
from web.api.inventory.crud import Detail
from web.auth import SESSION_COOKIE, current_principal
from web.templating import Page, page, readmodel, render

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
api_router = APIRouter(tags=["public"])
LOGIN_CSRF_COOKIE = "im_login_csrf"
MAX_LOGIN_BODY = 8 * 1024

PageDep = Annotated[Page, Depends(page)]


def _secure(request: Request, settings: Settings) -> bool:
    return settings.web.base_url.startswith("https://") or request.url.scheme == "https"


def _safe_next(target: str | None) -> str:
    """Only a path of this site: never ``//host`` or ``https://elsewhere`` (open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target[:2000]


def _limiter(request: Request) -> RateLimiter:
    state = request.app.state
    limiter = getattr(state, "login_limiter", None)
    if limiter is None:
        limiter = state.login_limiter = RateLimiter(state.settings.web.login_rate_per_minute)
    return limiter


def _form_page(p: Page, *, next_url: str, message: str | None = None, username: str = "",
               status_code: int = 200) -> HTMLResponse:
    csrf = secrets.token_urlsafe(24)
    resp = render(p, "login.html", status_code=status_code, csrf=csrf, next_url=next_url, message=message,
                  username=username)
    resp.set_cookie(LOGIN_CSRF_COOKIE, csrf, max_age=3600, httponly=True, samesite="lax", path="/login",
                    secure=_secure(p.request, p.settings))
    resp.headers["cache-control"] = "no-store"
    return resp


@router.get("/login", response_class=HTMLResponse)
def login_page(p: PageDep, next: str | None = None) -> Response:
    if current_principal(p.request) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return _form_page(p, next_url=_safe_next(next))


@router.post("/login", response_class=HTMLResponse)
async def login_submit(request: Request, p: PageDep) -> Response:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_LOGIN_BODY:
            raise HTTPException(413, detail=f"The sign-in form is larger than {MAX_LOGIN_BODY} bytes.")
    form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
    next_url = _safe_next(form.get("next"))
    username = form.get("username", "").strip().lower()[:64]
    cookie_csrf = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie_csrf or not hmac.compare_digest(cookie_csrf.encode(), form.get("csrf_token", "").encode()):
        return _form_page(p, next_url=next_url, message=p.t("login_expired_form"), username=username,
                          status_code=403)
    client = request.client.host if request.client else "?"
    wait = _limiter(request).hit(client)
    if wait:
        resp = _form_page(p, next_url=next_url, message=p.t("login_rate", seconds=int(wait) + 1),
                          username=username, status_code=429)
        resp.headers["retry-after"] = str(int(wait) + 1)
        return resp
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(_finish_login, request, p, username, form.get("password", ""), next_url,
                                   client)


def _finish_login(request: Request, p: Page, username: str, password: str, next_url: str,
                  client: str) -> Response:
    web = p.settings.web
    with write_session(request.app.state.engine, expire_on_commit=False) as session:
        outcome = attempt_login(session, username, password, max_failures=web.login_max_failures,
                                lockout=timedelta(minutes=web.lockout_minutes))
        cookie = None
        if outcome.user is not None:
            cookie, _row = open_session(session, outcome.user, hours=web.session_hours, client=client)
        session.commit()
    if outcome.user is None or cookie is None:
        log.warning("event=login_failed user=%s client=%s reason=%s", username or "-", client, outcome.problem)
        if outcome.problem == "locked" and outcome.locked_until is not None:
            message = p.t("login_locked", until=p.fmt.dt(outcome.locked_until))
        elif outcome.problem == "disabled":
            message = p.t("login_disabled")
        else:
            message = p.t("login_wrong")
        return _form_page(p, next_url=next_url, message=message, username=username, status_code=401)
    log.info("event=login user=%s client=%s", username, client)
    resp = RedirectResponse(next_url, status_code=303)
    resp.set_cookie(SESSION_COOKIE, cookie, max_age=int(web.session_hours * 3600), httponly=True, samesite="lax",
                    path="/", secure=_secure(request, p.settings))
    resp.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return resp


@router.post("/logout")
def logout(request: Request) -> Response:
    """Ends the session (the CSRF check was made by the gate)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        with write_session(request.app.state.engine) as session:
            close_session(session, cookie)
            session.commit()
    principal = current_principal(request)
    log.info("event=logout user=%s", principal.username if principal else "-")
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


class PublicSummary(BaseModel):
    """What anyone may see when ``web.public_summary`` is on: counts and coverage, nothing that locates a site."""

    generated_at: datetime
    province_name: str
    sites: StateCounts
    devices: StateCounts
    coverage: list[CoverageRow]
    last_sweep_at: datetime | None
    stale: bool


def _summary(rm: ReadModel) -> PublicSummary:
    ov = rm.overview()
    return PublicSummary(generated_at=ov.generated_at, province_name=ov.province_name, sites=ov.sites,
                         devices=ov.devices, coverage=ov.coverage, last_sweep_at=ov.freshness.last_sweep_at,
                         stale=ov.freshness.stale)


def _no_public(settings: Settings) -> None:
    if not settings.web.public_summary:
        raise HTTPException(404, detail="Not Found")


@router.get("/public", response_class=HTMLResponse)
def public_page(p: PageDep, rm: Annotated[ReadModel, Depends(readmodel)]) -> HTMLResponse:
    _no_public(p.settings)
    return render(p, "public.html", s=_summary(rm))


@api_router.get("/public/summary", response_model=PublicSummary, operation_id="public_summary",
                summary="Anonymous summary: coverage and counts, when web.public_summary is on",
                responses={404: {"model": Detail, "description": "web.public_summary is off"}},
                openapi_extra={"security": [{}, {"token": []}]})  # anonymous when on; 401 for it when off
def public_summary(request: Request) -> PublicSummary:
    _no_public(request.app.state.settings)
    return _summary(readmodel(request))

"""Who may see and do what: every request is tied to a user (session cookie or API token) before it
reaches a route, except the sign-in page, static assets, ``/healthz`` and, when enabled, the public summary.

- ``Authorization: Token <t>`` or ``Bearer <t>``: the configured ``web.admin_token`` (role admin, for
  automation) or a user's API token (hashed in ``account_token``). A token that is presented but wrong,
  expired or whose user is disabled is refused with 401: it never falls back to anonymous.
- otherwise the ``im_session`` cookie of a web sign-in; its unsafe requests must carry the session's CSRF
  token (``X-CSRF-Token`` header or a ``csrf_token`` form field).
- nothing: the API answers 401, a page redirects to ``/login?next=…``.

Read-only tokens are refused on unsafe methods (403). Routes ask for a role with :func:`require_role`.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any
from urllib.parse import parse_qs, quote

import anyio
from fastapi import HTTPException, Request, status
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infra_monitor.accounts.principal import Principal
from infra_monitor.accounts.roles import Role, check_role
from infra_monitor.accounts.signin import find_session, record_seen_at, seen_is_stale
from infra_monitor.accounts.tokens import check_token, record_use, use_is_stale
from infra_monitor.config import Settings
from infra_monitor.db import transient_reason, write_session

log = logging.getLogger(__name__)

SESSION_COOKIE = "im_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SCHEMES = ("token", "bearer")
MAX_FORM_BYTES = 64 * 1024


def public_path(path: str, settings: Settings) -> bool:
    if path in ("/login", "/healthz", "/favicon.ico") or path.startswith("/static/"):
        return True
    return settings.web.public_summary and path in ("/public", "/api/public/summary")


def presented_token(headers: Headers) -> str | None:
    scheme, _, value = headers.get("authorization", "").partition(" ")
    if scheme.lower() not in SCHEMES or not value.strip():
        return None
    return value.strip()


class Refusal(Exception):
    def __init__(self, code: int, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


def resolve(engine: Any, settings: Settings, token: str | None, cookie: str | None) -> Principal | None:
    """The principal of a request (blocking: runs in a worker thread). Raises Refusal for a bad token."""
    now = datetime.now(UTC)
    if token is not None:
        admin = settings.web.admin_token
        if admin and hmac.compare_digest(token.encode(), admin.encode()):
            return Principal(username="admin", role="admin", via="admin_token")
        with Session(engine, expire_on_commit=False) as session:   # a read: never waits for the write lock
            found = check_token(session, token, now, record_use=False)
        if found.problem == "expired":
            raise Refusal(401, "The API token has expired; create a new one with 'infra-monitor token create'.")
        if found.problem == "disabled":
            raise Refusal(401, "The API token belongs to a disabled user.")
        if found.problem or found.token is None or found.user is None:
            raise Refusal(401, "The API token is not valid (wrong, revoked or mistyped).")
        if found.token.id is not None and use_is_stale(found.token, now):
            _best_effort(engine, partial(record_use, token_id=found.token.id, now=now))
        return Principal(username=found.user.username, role=check_role(found.user.role), via="token",
                         user_id=found.user.id, token_id=found.token.id,
                         write_enabled=found.token.write_enabled)
    if cookie:
        with Session(engine, expire_on_commit=False) as session:
            hit = find_session(session, cookie, now, record_seen=False)
        if hit is not None:
            row, user = hit
            if row.id is not None and seen_is_stale(row, now):
                _best_effort(engine, partial(record_seen_at, session_id=row.id, now=now))
            return Principal(username=user.username, role=check_role(user.role), via="session", user_id=user.id,
                             csrf_token=row.csrf_token, session_expires=row.expires)
    return None


def _best_effort(engine: Any, write: Callable[[Session], None]) -> None:
    """A bookkeeping write (last use, last seen): its own short transaction; a busy database skips it."""
    try:
        with write_session(engine) as session:
            write(session)
            session.commit()
    except DBAPIError as exc:
        if transient_reason(exc) is None:
            raise
        log.debug("event=auth_bookkeeping_skipped reason=%s", transient_reason(exc))


async def _json(send: Send, code: int, detail: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": code,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"cache-control", b"no-store"), *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


async def _redirect(send: Send, location: str) -> None:
    await send({"type": "http.response.start", "status": 303,
                "headers": [(b"location", location.encode("latin-1")), (b"content-length", b"0"),
                            (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": b""})


def login_location(scope: Scope) -> str:
    target = scope.get("path", "/")
    qs = scope.get("query_string", b"").decode("latin-1")
    if qs:
        target += "?" + qs
    return "/login" + ("" if target == "/" else "?next=" + quote(target, safe=""))


class AuthGate:
    """ASGI middleware putting the request's :class:`Principal` in ``request.state.principal``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        settings: Settings = state.settings
        path: str = scope.get("path", "")
        headers = Headers(scope=scope)
        token = presented_token(headers)
        cookie = cookie_parser(headers.get("cookie", "")).get(SESSION_COOKIE)
        is_api = path.startswith("/api/") or path == "/metrics"  # machines get 401, never the sign-in page
        try:
            principal = await anyio.to_thread.run_sync(resolve, state.engine, settings, token, cookie)
        except Refusal as refusal:
            log.warning("event=auth_refused path=%s reason=%s", path[:200], refusal.detail[:60])
            await _json(send, refusal.code, refusal.detail, [(b"www-authenticate", b"Token")])
            return
        scope.setdefault("state", {})["principal"] = principal
        if principal is None:
            if public_path(path, settings):
                await self.app(scope, receive, send)
            elif is_api or token is not None or scope["method"] not in SAFE_METHODS:
                await _json(send, 401, "Sign in or send 'Authorization: Token <API token>'.",
                            [(b"www-authenticate", b"Token")])
            else:
                await _redirect(send, login_location(scope))
            return
        if scope["method"] not in SAFE_METHODS:
            if not principal.write_enabled:
                await _json(send, 403, "This API token is read-only; create a token without --read-only to write.")
                return
            if principal.via == "session":
                ok, receive = await _csrf_ok(scope, receive, headers, principal.csrf_token or "")
                if not ok:
                    log.warning("event=csrf_refused path=%s user=%s", path[:200], principal.username)
                    await _json(send, 403, "The form has expired or did not come from this site (CSRF check); "
                                           "reload the page and try again.")
                    return
        await self.app(scope, receive, send)


async def _csrf_ok(scope: Scope, receive: Receive, headers: Headers, expected: str) -> tuple[bool, Receive]:
    """Whether the request carries ``expected``; a form body is read (bounded) and replayed."""
    given = headers.get(CSRF_HEADER)
    if given is not None:
        return bool(expected) and hmac.compare_digest(given.encode(), expected.encode()), receive
    if not headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return False, receive
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            return False, receive
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            return False, receive
        chunks.append(chunk)
        more = message.get("more_body", False)
    body = b"".join(chunks)
    values = parse_qs(body.decode("utf-8", "replace")).get(CSRF_FIELD, [""])
    ok = bool(expected) and hmac.compare_digest(values[-1].encode(), expected.encode())
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return ok, replay


def current_principal(request: Request) -> Principal | None:
    return getattr(request.state, "principal", None)


def require_role(needed: Role) -> Callable[[Request], Principal]:
    """A FastAPI dependency: the request's principal if its role allows ``needed``, else 401/403."""

    def dependency(request: Request) -> Principal:
        principal = current_principal(request)
        if principal is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="Sign in or send an API token.",
                                headers={"WWW-Authenticate": "Token"})
        if not principal.can(needed):
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                detail=f"This needs the {needed} role; {principal.username} is {principal.role}.")
        return principal

    dependency.__name__ = f"require_{needed}"
    return dependency

"""Last line of defence for the HTTP layer: an unexpected exception becomes one short log line and a short
answer (JSON under /api, plain text elsewhere) with a request id, never a traceback in the response and
never a 7 KB traceback per request in the log (the full traceback is logged at DEBUG).

A database that is only busy or briefly gone (SQLite locked beyond the busy timeout, PostgreSQL lock timeout,
serialization failure, lost connection, server down: :func:`infra_monitor.db.transient_reason`) answers
**503 with Retry-After** instead of 500: the transaction was rolled back, nothing changed, the client may
retry. A request whose database connection was lost before it committed anything (PostgreSQL restarted, the
backend terminated) is first run once more on a fresh connection, with the same body, before answering.
"""

from __future__ import annotations

import json
import logging
import uuid

from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infra_monitor.db import short_reason, transient_reason
from web.deps import COMMITTED

log = logging.getLogger(__name__)
MAX_MESSAGE = 200
RETRY_AFTER_S = {"conflict": 1, "locked": 5, "connection lost": 5, "unavailable": 10}
BUSY_DETAIL = {
    "locked": "The database is busy (locked by another writer); nothing was changed. Retry in {s} s.",
    "conflict": "The change conflicted with a concurrent one; nothing was changed. Retry in {s} s.",
    "connection lost": "The connection to the database was lost; nothing was changed. Retry in {s} s.",
    "unavailable": "The database is unavailable; nothing was changed. Retry in {s} s.",
}


METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


async def method_not_allowed(request: Request, exc: Exception) -> Response:
    """405 naming in ``Allow`` every method the path answers: Starlette names only those of the first route
    matching the path, and a list and its create (or a read and its writes) are separate routes."""
    routes = request.app.router.routes
    allowed = [m for m in METHODS
               if any(route.matches({**request.scope, "method": m})[0] is Match.FULL for route in routes)]
    detail = exc.detail if isinstance(exc, HTTPException) else "Method Not Allowed"
    return JSONResponse({"detail": detail}, status_code=405, headers={"Allow": ", ".join(allowed)})


class _Replayable:
    """Records the request body messages the app reads, so the request can be run once more."""

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self.recorded: list[Message] = []

    async def first(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            self.recorded.append(message)
        return message

    def again(self) -> Receive:
        queue = list(self.recorded)

        async def receive() -> Message:
            return queue.pop(0) if queue else await self._receive()

        return receive


class CatchAll:
    """ASGI middleware: answers 500 (503 for a busy database) for an exception raised before the response
    started."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        pristine = dict(scope)  # routing rewrites the scope in place: a replay starts from a copy
        state = scope.setdefault("state", {})
        base_state = dict(state)
        body = _Replayable(receive)
        try:
            try:
                await self.app(scope, body.first, tracking)
            except Exception as exc:
                if started or state.get(COMMITTED) or transient_reason(exc) != "connection lost":
                    raise
                log.warning("event=db_request_retry method=%s path=%s reason=%r", scope.get("method"),
                            str(scope.get("path", ""))[:MAX_MESSAGE], short_reason(exc))
                await self.app(dict(pristine, state=dict(base_state)), body.again(), tracking)
        except Exception as exc:
            if started:
                raise
            await self._answer(scope, send, exc)

    async def _answer(self, scope: Scope, send: Send, exc: Exception) -> None:
        request_id = str(uuid.uuid4())
        path = str(scope.get("path", ""))[:MAX_MESSAGE]
        reason = transient_reason(exc)
        headers: list[tuple[bytes, bytes]] = []
        if reason is not None:
            wait = RETRY_AFTER_S.get(reason, 5)
            code, detail = 503, BUSY_DETAIL.get(reason, BUSY_DETAIL["unavailable"]).format(s=wait)
            headers.append((b"retry-after", str(wait).encode()))
            log.warning("event=db_busy request_id=%s method=%s path=%s reason=%s error=%r retry_after_s=%d",
                        request_id, scope.get("method"), path, reason, short_reason(exc), wait)
        else:
            code, detail = 500, "internal error; the server log has the details"
            # a database error names the database's reason, never the statement or its parameters (secrets)
            shown = short_reason(exc) if isinstance(exc, DBAPIError) else str(exc).replace("\n", " ")
            log.error("event=unhandled_error request_id=%s method=%s path=%s error=%s: %s", request_id,
                      scope.get("method"), path, type(exc).__name__, shown[:MAX_MESSAGE])
        log.debug("traceback of request %s", request_id, exc_info=exc)
        if path.startswith("/api/"):
            body = json.dumps({"detail": detail, "request_id": request_id}).encode()
            ctype = b"application/json"
        elif reason is not None:
            body = f"{detail} (request {request_id})\n".encode()
            ctype = b"text/plain; charset=utf-8"
        else:
            body = f"Internal error (request {request_id}); the server log has the details.\n".encode()
            ctype = b"text/plain; charset=utf-8"
        await send({"type": "http.response.start", "status": code,
                    "headers": [(b"content-type", ctype), (b"content-length", str(len(body)).encode()),
                                (b"x-request-id", request_id.encode()), *headers]})
        await send({"type": "http.response.body", "body": body})


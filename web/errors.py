"""Last line of defence for the HTTP layer: an unexpected exception becomes one short log line and a short
answer (JSON under /api, plain text elsewhere) with a request id, never a traceback in the response and
never a 7 KB traceback per request in the log (the full traceback is logged at DEBUG)."""

from __future__ import annotations

import json
import logging
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)
MAX_MESSAGE = 200


class CatchAll:
    """ASGI middleware: answers 500 for an exception raised before the response started."""

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

        try:
            await self.app(scope, receive, tracking)
        except Exception as exc:
            if started:
                raise
            request_id = str(uuid.uuid4())
            path = str(scope.get("path", ""))[:MAX_MESSAGE]
            log.error("event=unhandled_error request_id=%s method=%s path=%s error=%s: %s", request_id,
                      scope.get("method"), path, type(exc).__name__, str(exc).replace("\n", " ")[:MAX_MESSAGE])
            log.debug("traceback of request %s", request_id, exc_info=exc)
            if path.startswith("/api/"):
                body = json.dumps({"detail": "internal error; the server log has the details",
                                   "request_id": request_id}).encode()
                ctype = b"application/json"
            else:
                body = f"Internal error (request {request_id}); the server log has the details.\n".encode()
                ctype = b"text/plain; charset=utf-8"
            await send({"type": "http.response.start", "status": 500,
                        "headers": [(b"content-type", ctype), (b"content-length", str(len(body)).encode()),
                                    (b"x-request-id", request_id.encode())]})
            await send({"type": "http.response.body", "body": body})

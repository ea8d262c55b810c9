"""Oversized requests refused before they cost anything (issue 10).

* :class:`RequestLimits` (ASGI middleware): a body larger than ``web.max_body_bytes`` is answered **413**
  ``{"detail": …}`` naming the limit, from ``Content-Length`` before a byte is read, and while a body without
  one (chunked) streams in, as soon as the running total passes the limit; a query parameter given more than
  ``web.max_list_items`` times (``?id=1&id=2…``), or holding a NUL character (``%00``: no text column can
  store one), is answered **400** ``{"<parameter>": [message]}``.
* :func:`check_items`: a parsed JSON body whose lists or objects hold more than ``web.max_list_items`` entries
  raises :class:`TooManyItems`, answered **400** ``{"<field>": [message]}`` by :func:`too_many_items_response`
  before any per-item work (validation, one lookup per tag…) starts.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

NON_FIELD = "non_field_errors"


def too_large_detail(limit: int) -> str:
    size = f"{limit / 1024 / 1024:g} MiB = {limit} bytes" if limit >= 1024 * 1024 else f"{limit} bytes"
    return f"The request body is larger than the limit of {size} (web.max_body_bytes); nothing was changed."


class BodyTooLarge(HTTPException):
    """Raised by the limited ``receive`` when the body passes the limit. An HTTPException, so that a route
    reading the body through FastAPI also answers 413 (FastAPI re-raises HTTPException from body parsing)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, detail=too_large_detail(limit))


class TooManyItems(ValueError):
    """A JSON list or object longer than the limit: ``errors`` is the 400 body ``{field: [message]}``."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


def check_items(value: Any, limit: int) -> None:
    """Raise :class:`TooManyItems` naming the first list or object of ``value`` (a parsed JSON document)
    holding more than ``limit`` entries. Costs one ``len()`` per container: a long list is refused without
    looking at its items."""
    stack: list[tuple[tuple[str, ...], Any]] = [((), value)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, list):
            children: list[tuple[str, Any]] = [(f"[{i}]", v) for i, v in enumerate(node)] if len(node) <= limit \
                else []
            kind = "items"
        elif isinstance(node, dict):
            children = [(str(k), v) for k, v in node.items()] if len(node) <= limit else []
            kind = "fields" if not path else "entries"
        else:
            continue
        if len(node) > limit:
            field = path[0] if path else NON_FIELD
            where = f" (at {_dotted(path)})" if len(path) > 1 else ""
            raise TooManyItems({field: [f"At most {limit} {kind} are accepted (web.max_list_items); "
                                        f"got {len(node)}{where}."]})
        stack.extend(((*path, key), child) for key, child in reversed(children)
                     if isinstance(child, list | dict))


def _dotted(path: tuple[str, ...]) -> str:
    out = ""
    for part in path:
        out += part if part.startswith("[") else (f".{part}" if out else part)
    return out


async def too_many_items_response(_request: Request, exc: Exception) -> JSONResponse:
    """The exception handler of :class:`TooManyItems` (registered on the app by :func:`web.app.create_app`)."""
    errors = exc.errors if isinstance(exc, TooManyItems) else {NON_FIELD: [str(exc)]}
    return JSONResponse(errors, status_code=400)


def repeated_parameters(query_string: bytes, limit: int) -> dict[str, list[str]]:
    """``{parameter: [message]}`` for each query parameter given more than ``limit`` times."""
    counts = Counter(name for name, _ in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))
    return {name: [f"Given {n} times; at most {limit} values are accepted (web.max_list_items)."]
            for name, n in sorted(counts.items()) if n > limit}


def nul_parameters(query_string: bytes) -> dict[str, list[str]]:
    """``{parameter: [message]}`` for each query parameter whose name or value holds a NUL character: no
    text column can store one (PostgreSQL refuses it), so it is refused here, before any query."""
    if b"%00" not in query_string.lower() and b"\x00" not in query_string:
        return {}
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    return {name.replace("\x00", "\\0"): ["Contains a NUL character (\\0), which no text can hold."]
            for name, value in pairs if "\x00" in name or "\x00" in value}


async def _answer(send: Send, code: int, body: Any) -> None:
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": code,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": data})


class RequestLimits:
    """ASGI middleware enforcing ``web.max_body_bytes`` and, on the query string, ``web.max_list_items``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        web = scope["app"].state.settings.web
        limit: int = web.max_body_bytes
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > limit:
            await _answer(send, 413, {"detail": too_large_detail(limit)})
            return
        query = scope.get("query_string", b"")
        refused = repeated_parameters(query, web.max_list_items) or nul_parameters(query)
        if refused:
            await _answer(send, 400, refused)
            return
        received = 0
        started = False

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited, tracking)
        except BodyTooLarge as exc:
            if started:
                raise
            await _answer(send, 413, {"detail": exc.detail})

"""Absolute URLs from the configuration, never from the request's ``Host`` header (issue 10).

:class:`PublicOrigin` (ASGI middleware, innermost) rewrites what Starlette builds URLs from (``Host`` header,
``server``, ``scheme``, ``root_path``) to ``web.public_base()`` before any route runs, so every absolute URL
the app emits (``url`` fields, pagination ``next``/``previous``, ``request.url_for``, the trailing-slash
redirect) starts with the configured base whatever ``Host: evil.example`` a client sends.

With ``web.base_url`` set, its scheme, host, port and path prefix are used (``https://giamsat.example.vn/im``:
links ``https://giamsat.example.vn/im/api/…``; a proxy may strip the prefix or pass it on). Without it the
base is ``http://<web.host>:<web.port>`` and the request's own scheme is kept (a TLS proxy's
``X-Forwarded-Proto``, as uvicorn reads it, still marks the request secure).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from infra_monitor.config import WebConfig


@dataclass(frozen=True)
class Origin:
    scheme: str | None        # None: keep the request's
    host: str                 # host[:port] as in a Host header
    server: tuple[str, int]
    prefix: str               # "" or "/im"


def origin_of(web: WebConfig) -> Origin:
    parts = urlsplit(web.public_base())
    default_port = 443 if parts.scheme == "https" else 80
    port = parts.port or default_port
    hostname = parts.hostname or web.host
    if not hostname.isascii():
        hostname = hostname.encode("idna").decode("ascii")   # a Host header is ASCII: xn--… labels
    shown = f"[{hostname}]" if ":" in hostname else hostname
    host = shown if port == default_port and web.base_url else f"{shown}:{port}"
    return Origin(scheme=parts.scheme if web.base_url else None, host=host, server=(hostname, port),
                  prefix=parts.path.rstrip("/"))


class PublicOrigin:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._origin: tuple[WebConfig, Origin] | None = None

    def _for(self, web: WebConfig) -> Origin:
        if self._origin is None or self._origin[0] is not web:
            self._origin = (web, origin_of(web))
        return self._origin[1]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        origin = self._for(scope["app"].state.settings.web)
        headers = [(k, v) for k, v in scope.get("headers", []) if k != b"host"]
        headers.append((b"host", origin.host.encode("ascii")))
        scope = dict(scope, headers=headers, server=origin.server)
        if origin.scheme is not None:
            scope["scheme"] = origin.scheme if scope["type"] == "http" else origin.scheme.replace("http", "ws")
        if origin.prefix:
            path: str = scope["path"]
            if path != origin.prefix and not path.startswith(origin.prefix + "/"):
                scope["path"] = origin.prefix + path
                raw = scope.get("raw_path")
                if raw is not None:
                    scope["raw_path"] = origin.prefix.encode() + raw
            scope["root_path"] = origin.prefix
        await self.app(scope, receive, send)

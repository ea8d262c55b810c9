"""What NetBox clients (pynetbox, Ansible's netbox modules) read besides the endpoints themselves.

* ``API-Version`` on every answer of the inventory API: pynetbox's ``api.version`` reads it from ``GET /api/``
  (NetBox sends its REST API version, ``major.minor``). We answer with the NetBox API level whose conventions
  this API follows, :data:`NETBOX_API_VERSION`; :class:`NetBoxRoute` adds it to every route of the router.
* ``GET /api/status/`` with NetBox's keys (``netbox-version``, ``python-version``, ``installed_apps``…), which
  pynetbox's ``api.status()`` returns as it is; ``infra-monitor-version`` names the real program.

See docs/netbox.md for what works with pynetbox and what does not.
"""

from __future__ import annotations

import platform
import socket
from collections.abc import Callable, Coroutine
from importlib import metadata
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute

from infra_monitor import __version__

NETBOX_API_VERSION = "4.2"          # the NetBox REST API level followed: /api/core/object-changes/, brief, ...
NETBOX_RELEASE = f"{NETBOX_API_VERSION}.0"
API_VERSION_HEADER = "API-Version"
_APPS = ("fastapi", "starlette", "pydantic", "sqlalchemy", "sqlmodel", "alembic", "uvicorn")


class NetBoxRoute(APIRoute):
    """An API route whose answers carry NetBox's ``API-Version`` header."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def with_version(request: Request) -> Response:
            response = await handler(request)
            response.headers[API_VERSION_HEADER] = NETBOX_API_VERSION
            return response

        return with_version


def _installed_apps() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in _APPS:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def status_body() -> dict[str, Any]:
    """NetBox's ``/api/status/`` keys; there is no Django nor RQ here, so those are null and 0."""
    return {
        "django-version": None,
        "hostname": socket.gethostname(),
        "installed_apps": _installed_apps(),
        "netbox-version": NETBOX_RELEASE,
        "netbox-full-version": f"{NETBOX_RELEASE} (infra-monitor {__version__})",
        "infra-monitor-version": __version__,
        "plugins": {},
        "python-version": platform.python_version(),
        "rq-workers-running": 0,
    }


def add_status(router: APIRouter) -> None:
    """``GET /status/`` on ``router`` (mounted at ``/api``: ``/api/status/``)."""

    @router.get("/status/", operation_id="api_status", summary="Version and status, NetBox's /api/status/",
                tags=["api"])
    def api_status() -> dict[str, Any]:
        return status_body()


__all__ = ["API_VERSION_HEADER", "NETBOX_API_VERSION", "NetBoxRoute", "add_status", "status_body"]

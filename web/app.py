"""The FastAPI application: REST API under /api, operator pages, static assets (all served locally)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from sqlalchemy.engine import Engine

from infra_monitor import __version__
from infra_monitor.config import Settings

STATIC_DIR = Path(__file__).with_name("static")


def create_app(settings: Settings, engine: Engine | None = None) -> FastAPI:
    from infra_monitor.db import import_all_models, make_engine
    from inventory.secretbox import install_for as install_keyring

    import_all_models()
    app = FastAPI(
        title="infra-monitor",
        version=__version__,
        docs_url=None,  # /api/docs is web.docs: Swagger UI served from /static/swagger, no CDN, no inline script
        openapi_url="/api/openapi.json",
        redoc_url=None,
    )
    app.state.settings = settings
    install_keyring(settings)  # secret columns are encrypted with the configured keys (docs/secrets.md)
    app.state.engine = engine or make_engine(settings.database)

    @app.get("/healthz", response_class=PlainTextResponse, include_in_schema=False)
    def healthz() -> str:
        return "ok"

    _mount_optional(app)
    _declare_middleware_answers(app)
    from web.auth import AuthGate
    from web.errors import CatchAll, method_not_allowed
    from web.headers import SecurityHeaders
    from web.limits import RequestLimits, TooManyItems, too_many_items_response
    from web.origin import PublicOrigin

    app.add_exception_handler(TooManyItems, too_many_items_response)
    app.add_exception_handler(405, method_not_allowed)  # Allow: every method of the path, not the first route's
    app.add_middleware(PublicOrigin)  # innermost: every absolute URL starts with web.public_base(), not Host
    app.add_middleware(AuthGate)     # inside CatchAll: a failure while resolving a user is a short JSON 500
    app.add_middleware(RequestLimits)  # before any auth or route work: 413 for big bodies, 400 for long lists
    app.add_middleware(CatchAll)
    app.add_middleware(SecurityHeaders)   # outermost: also on the 500 answers of CatchAll
    return app


UNSAFE = ("post", "put", "patch", "delete")
_DETAIL = {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}
_FIELD_ERRORS = {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}


def _declare_middleware_answers(app: FastAPI) -> None:
    """Add to the OpenAPI spec what the middleware answers around every route: the token scheme and, on every
    ``/api`` operation, 401 (:class:`web.auth.AuthGate`: no valid session or token; the public summary only
    when it is off), 403 on writes (a read-only token, a failed CSRF check), 400 and 413 (``web.limits``: a
    query parameter repeated too often, a body too large) and 503 (``web.errors``: the database is busy)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        spec = build()
        spec.setdefault("components", {})["securitySchemes"] = {"token": {
            "type": "apiKey", "in": "header", "name": "Authorization",
            "description": "`Token <API token>` (or `Bearer <API token>`): web.admin_token or a user's token"}}
        spec["security"] = [{"token": []}]
        detail = {"application/json": {"schema": _DETAIL}}
        for path, operations in spec.get("paths", {}).items():
            if not path.startswith("/api/"):
                continue
            for method, op in operations.items():
                responses = op.setdefault("responses", {})
                unauthorized = responses.setdefault("401", {"description": "No valid session or API token "
                                                                           "(missing, wrong, expired or revoked)",
                                                            "content": detail})
                unauthorized.setdefault("headers", {"WWW-Authenticate": {"schema": {"type": "string"},
                                                                         "description": "Token"}})
                if method in UNSAFE:
                    responses.setdefault("403", {"description": "The role or the token scope does not allow this",
                                                 "content": detail})
                responses.setdefault("400", {"description": "A query parameter given more often than "
                                                            "web.max_list_items: {parameter: [message]}",
                                             "content": {"application/json": {"schema": _FIELD_ERRORS}}})
                if "requestBody" in op:
                    responses.setdefault("413", {"description": "The body is larger than web.max_body_bytes",
                                                 "content": detail})
                responses.setdefault("503", {
                    "description": "The database is busy or unavailable; nothing was changed; retry later",
                    "content": detail, "headers": {"Retry-After": {"schema": {"type": "integer"},
                                                                   "description": "seconds"}}})
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


def _mount_optional(app: FastAPI) -> None:
    """Routers of the API and of the pages."""
    from fastapi.staticfiles import StaticFiles

    from web.api.events import router as status_router
    from web.api.inventory import router as inventory_router
    from web.api.meetings import router as meetings_router
    from web.api.problems import router as problems_router
    from web.api.reconcile import router as reconcile_router
    from web.api.reports import router as reports_router
    from web.docs import router as docs_router
    from web.metrics import router as metrics_router
    from web.pages import install as install_pages
    from web.pages_login import api_router as public_api_router
    from web.pages_login import router as login_router
    from web.pages_meetings import router as meetings_page_router
    from web.pages_problems import router as problems_page_router
    from web.pages_reconcile import router as reconcile_page_router
    from web.pages_reports import router as reports_page_router
    from web.pages_services import router as services_page_router
    from web.pages_wall import router as wall_router

    app.include_router(inventory_router, prefix="/api")
    app.include_router(status_router, prefix="/api")
    app.include_router(reports_router, prefix="/api")
    app.include_router(problems_router, prefix="/api")
    app.include_router(meetings_router, prefix="/api")
    app.include_router(reconcile_router, prefix="/api")
    app.include_router(public_api_router, prefix="/api")
    app.include_router(docs_router)
    app.include_router(metrics_router)
    app.include_router(login_router)
    install_pages(app)
    app.include_router(reports_page_router)
    app.include_router(problems_page_router)
    app.include_router(meetings_page_router)
    app.include_router(reconcile_page_router)
    app.include_router(services_page_router)
    app.include_router(wall_router)
    if STATIC_DIR.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

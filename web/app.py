"""The FastAPI application: REST API under /api, operator pages, static assets (all served locally)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from sqlalchemy.engine import Engine

from infra_monitor import __version__
from infra_monitor.config import Settings

STATIC_DIR = Path(__file__).with_name("static")


def create_app(settings: Settings, engine: Engine | None = None) -> FastAPI:
    from infra_monitor.db import import_all_models, make_engine

    import_all_models()
    app = FastAPI(
        title="infra-monitor",
        version=__version__,
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine or make_engine(settings.database)

    @app.get("/healthz", response_class=PlainTextResponse, include_in_schema=False)
    def healthz() -> str:
        return "ok"

    _mount_optional(app)
    from web.errors import CatchAll
    from web.headers import SecurityHeaders

    app.add_middleware(CatchAll)
    app.add_middleware(SecurityHeaders)   # outermost: also on the 500 answers of CatchAll
    return app


def _mount_optional(app: FastAPI) -> None:
    """Routers of the API and of the pages."""
    from fastapi.staticfiles import StaticFiles

    from infra_monitor.status.api import router as status_router
    from inventory.api import router as inventory_router
    from web.api_reports import router as reports_router
    from web.pages import install as install_pages
    from web.pages_reports import router as reports_page_router

    app.include_router(inventory_router, prefix="/api")
    app.include_router(status_router, prefix="/api")
    app.include_router(reports_router, prefix="/api")
    install_pages(app)
    app.include_router(reports_page_router)
    if STATIC_DIR.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

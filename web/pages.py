"""Operator pages: overview (with its self-refreshing fragment), site tables, district drill-down, map, events.

Server-rendered with Jinja2 from the read model; a little plain JS refreshes the overview and draws graphs.
Detail pages (site, device, inventory lists) live in :mod:`web.pages_detail`; :func:`install` wires both,
the JSON API of :mod:`web.api.status`, the language cookie and the read model into the app.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from markupsafe import Markup
from starlette.exceptions import HTTPException as StarletteHTTPException

from infra_monitor.readmodel import ReadModel, SiteFilter
from infra_monitor.readmodel.schemas import LEVELS
from inventory.dated import RegionInfo
from web.mapview import project
from web.templating import Page, RememberLanguage, live_interval, page, readmodel, render, render_text, respond

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 100

PageDep = Annotated[Page, Depends(page)]
ReadDep = Annotated[ReadModel, Depends(readmodel)]
Str = Annotated[str | None, Query()]


def refresh_interval(p: Page) -> int:
    """Seconds between live refreshes (every page: :func:`web.templating.live_interval`)."""
    return live_interval(p.settings)


def site_filter(state: str | None, level: str | None, district: str | None, q: str | None, sort: str | None,
                page_no: int = 1) -> SiteFilter:
    return SiteFilter(state=state or None, level=level or None, district=district or None,
                      q=(q or "").strip() or None, sort=sort or "state",
                      limit=PAGE_SIZE, offset=(max(page_no, 1) - 1) * PAGE_SIZE)


def districts(rm: ReadModel) -> list[RegionInfo]:
    return rm.regions().districts()


def _pager(p: Page, path: str, flt: SiteFilter, count: int, page_no: int) -> dict[str, Any]:
    def page_url(n: int) -> str:
        return p.url(path, state=flt.state, level=flt.level, district=flt.district, q=flt.q, sort=flt.sort, page=n)
    return {"pages": max(1, math.ceil(count / PAGE_SIZE)), "page_no": page_no, "page_url": page_url}


def _overview_html(p: Page, rm: ReadModel, template: str) -> HTMLResponse:
    """The overview's body rendered once per computed overview (per language and query string): under load
    the page costs a token query, a dictionary look-up and the page's frame. The frame (``base.html``: who
    is signed in, the menu for their role, the session's CSRF token) is rendered for each request, never
    cached: one user's page must not reach another. Relative ages lag by at most the cache TTL."""
    ov = rm.overview()
    refresh_s = refresh_interval(p)

    def draw() -> str:
        return render_text(p, "_overview_body.html", active="nav_overview", ov=ov, freshness=ov.freshness,
                           refresh_s=refresh_s)

    # Markup: the output of our own autoescaped template, not text from outside
    body = Markup(rm.cache.get(("html", p.lang, str(p.request.url.query)), ov.generated_at, draw))
    if template == "_overview_body.html":
        return respond(p, str(body))
    return respond(p, render_text(p, template, active="nav_overview", ov=ov, freshness=ov.freshness,
                                  refresh_s=refresh_s, body=body))


@router.get("/", response_class=HTMLResponse)
def overview_page(p: PageDep, rm: ReadDep) -> HTMLResponse:
    return _overview_html(p, rm, "overview.html")


@router.get("/fragments/overview", response_class=HTMLResponse)
def overview_fragment(p: PageDep, rm: ReadDep) -> HTMLResponse:
    """The overview's body alone: what the page's script swaps in every few seconds."""
    return _overview_html(p, rm, "_overview_body.html")


@router.get("/sites", response_class=HTMLResponse)
def sites_page(p: PageDep, rm: ReadDep, state: Str = None, level: Str = None, district: Str = None,
               q: Str = None, sort: Str = None, page_no: Annotated[int, Query(alias="page", ge=1)] = 1) -> HTMLResponse:
    flt = site_filter(state, level, district, q, sort, page_no)
    result = rm.sites(flt, heartbeat=True)
    api_url = p.url("/api/status/sites", state=flt.state, level=flt.level, district=flt.district, q=flt.q,
                    sort=flt.sort)
    return render(p, "sites.html", active="nav_sites", result=result, flt=flt, levels=LEVELS,
                  districts=districts(rm), action="/sites", api_url=api_url, freshness=rm.freshness(),
                  **_pager(p, "/sites", flt, result.count, page_no))


@router.get("/regions/{code}", response_class=HTMLResponse)
def region_page(code: str, p: PageDep, rm: ReadDep, state: Str = None, level: Str = None, q: Str = None,
                sort: Str = None, page_no: Annotated[int, Query(alias="page", ge=1)] = 1) -> HTMLResponse:
    region = rm.regions().by_code(code)
    if region is None:
        return not_found(p, rm)
    flt = site_filter(state, level, region.code, q, sort, page_no)
    result = rm.sites(flt, heartbeat=True)
    problems, total = rm.problems(SiteFilter(district=region.code))
    cov = rm.region_coverage(region.code, ("district", "commune", "unit", "vc"))
    return render(p, "region.html", active="nav_sites", region=region, result=result, flt=flt,
                  levels=LEVELS, districts=[], action=f"/regions/{region.code}", problems=problems,
                  problems_total=total, coverage=[c for c in cov if c.inventoried], freshness=rm.freshness(),
                  **_pager(p, f"/regions/{region.code}", flt, result.count, page_no))


@router.get("/map", response_class=HTMLResponse)
def map_page(p: PageDep, rm: ReadDep, state: Str = None, level: Str = None, district: Str = None,
             q: Str = None) -> HTMLResponse:
    flt = SiteFilter(state=state or None, level=level or None, district=district or None, q=q or None)
    mp = project(rm.site_points(flt), rm.district_points())
    return render(p, "map.html", active="nav_map", mp=mp, flt=flt, levels=LEVELS, districts=districts(rm),
                  action="/map", freshness=rm.freshness())


@router.get("/events", response_class=HTMLResponse)
def events_page(p: PageDep, rm: ReadDep, group: Str = None,
                limit: Annotated[int, Query(ge=1, le=1000)] = PAGE_SIZE) -> HTMLResponse:
    """The event log with the CLI's filters (device, site, severity, kind, since, until) in the URL, older
    pages by ``before=`` id, unreachable devices grouped under their root cause unless ``group=none``."""
    from zoneinfo import ZoneInfo

    from sqlalchemy.orm import Session

    from infra_monitor.status.engine.states import EventKind, Severity
    from infra_monitor.status.store.listing import (
        EVENT_FIELDS,
        EventGroup,
        group_by_root,
        list_events,
        parse_event_filter,
    )

    raw = {k: p.request.query_params.get(k) for k in EVENT_FIELDS}
    with Session(rm.engine) as session:
        flt, errors = parse_event_filter(session, ZoneInfo(p.settings.general.timezone), raw)
        total, items = list_events(session, flt, limit)
    grouped = group != "none"
    rows = group_by_root(items) if grouped else [EventGroup(event=e, time=e.time) for e in items]
    keep = {k: v for k, v in raw.items() if v and k != "before"}
    next_url = p.url("/events", **keep, group=group, limit=limit if limit != PAGE_SIZE else None,
                     before=items[-1].id) if total > len(items) else None
    return render(p, "events.html", active="nav_events", rows=rows, total=total, raw=raw, errors=errors,
                  grouped=grouped, kinds=[k.value for k in EventKind], severities=[s.value for s in Severity],
                  next_url=next_url, freshness=rm.freshness())


def not_found(p: Page, rm: ReadModel) -> HTMLResponse:
    return render(p, "error.html", status_code=404, active="", freshness=rm.freshness())


async def page_not_found(request: Request, exc: Exception) -> Response:
    """An unknown address: the operator's 404 page for a browser, the usual JSON for the API and assets."""
    path = request.url.path
    accept = request.headers.get("accept", "")
    if path.startswith(("/api/", "/static/")) or ("json" in accept and "html" not in accept):
        detail = exc.detail if isinstance(exc, StarletteHTTPException) else "Not Found"
        return JSONResponse({"detail": detail}, status_code=404)
    return not_found(page(request), readmodel(request))


def install(app: FastAPI, cache_ttl_s: float = 5.0) -> None:
    """Add the read model, the pages, ``/api/status`` and the language cookie to ``app``."""
    from web import pages_detail, pages_inventory
    from web.api import status as api_status

    app.state.readmodel = ReadModel(app.state.engine, app.state.settings, cache_ttl_s=cache_ttl_s)
    app.add_middleware(RememberLanguage)
    app.add_exception_handler(404, page_not_found)
    app.include_router(api_status.router)
    app.include_router(router)
    app.include_router(pages_detail.router)
    app.include_router(pages_inventory.router)
    app.include_router(pages_inventory.api_router)

"""Operator pages: overview (with its self-refreshing fragment), site tables, district drill-down, map, events.

Server-rendered with Jinja2 from the read model; a little plain JS refreshes the overview and draws graphs.
Detail pages (site, device, inventory lists) live in :mod:`web.pages_detail`; :func:`install` wires both,
the JSON API of :mod:`web.api_status`, the language cookie and the read model into the app.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query
from fastapi.responses import HTMLResponse

from infra_monitor.readmodel import ReadModel, SiteFilter
from infra_monitor.readmodel.schemas import LEVELS
from infra_monitor.status.regions import RegionInfo
from web.mapview import project
from web.templating import Page, RememberLanguage, page, readmodel, render, render_text

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 100
MAX_REFRESH_S = 15.0
MIN_REFRESH_S = 1.0

PageDep = Annotated[Page, Depends(page)]
ReadDep = Annotated[ReadModel, Depends(readmodel)]
Str = Annotated[str | None, Query()]


def refresh_interval(p: Page) -> int:
    """Seconds between overview refreshes: a quarter of the shortest enabled probe interval, 1–15 s, so a
    change shows up well within one probe interval."""
    intervals = [cfg.interval_s for _k, cfg in p.settings.probes if cfg.enabled]
    quarter = min(intervals) / 4 if intervals else MAX_REFRESH_S
    return int(max(MIN_REFRESH_S, min(MAX_REFRESH_S, quarter)))


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
    """The overview rendered once per computed overview (per language and query string): under load the
    page costs a token query and a dictionary look-up; relative ages in it lag by at most the cache TTL."""
    ov = rm.overview()

    def draw() -> str:
        return render_text(p, template, active="nav_overview", ov=ov, freshness=ov.freshness,
                           refresh_s=refresh_interval(p))

    key = ("html", template, p.lang, str(p.request.url.query))
    response = HTMLResponse(rm.cache.get(key, ov.generated_at, draw))
    response.headers["Cache-Control"] = "no-store"
    return response


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
    result = rm.sites(flt)
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
    result = rm.sites(flt)
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
def events_page(p: PageDep, rm: ReadDep, before: Annotated[int | None, Query(ge=1)] = None) -> HTMLResponse:
    items = rm.events(PAGE_SIZE, before_id=before)
    next_before = items[-1].id if len(items) == PAGE_SIZE else None
    return render(p, "events.html", active="nav_events", items=items, next_before=next_before,
                  freshness=rm.freshness())


def not_found(p: Page, rm: ReadModel) -> HTMLResponse:
    return render(p, "error.html", status_code=404, active="", freshness=rm.freshness())


def install(app: FastAPI, cache_ttl_s: float = 5.0) -> None:
    """Add the read model, the pages, ``/api/status`` and the language cookie to ``app``."""
    from web import api_status, pages_detail

    app.state.readmodel = ReadModel(app.state.engine, app.state.settings, cache_ttl_s=cache_ttl_s)
    app.add_middleware(RememberLanguage)
    app.include_router(api_status.router)
    app.include_router(router)
    app.include_router(pages_detail.router)

"""Hosted services: the list (``/services``: paged, sortable, filtered, in the URL) and one service
(``/services/{id}``: what it is, who owns it, the state of each of its checks and its availability over 24 hours
and 30 days with the part of the window it stands on).

Rows come from :mod:`infra_monitor.readmodel.services` (a count, one page and the page's check states);
choice values are shown translated from literal keys, so the translation tests see every key.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse

from infra_monitor.readmodel import ReadModel
from infra_monitor.readmodel.services import (
    DEFAULT_PER_PAGE,
    PER_PAGE_CHOICES,
    SORTS,
    ServiceQuery,
    hosted_figures,
    service_detail,
    service_list,
    stale_limit,
)
from infra_monitor.storage.check_intervals import staleness
from inventory.choices import ServiceCriticalityChoices, ServiceKindChoices, ServiceStatusChoices
from web.pages import not_found
from web.pages_detail import graph_labels
from web.templating import Page, page, readmodel, render

router = APIRouter(include_in_schema=False)
PageDep = Annotated[Page, Depends(page)]
ReadDep = Annotated[ReadModel, Depends(readmodel)]
Str = Annotated[str | None, Query(max_length=200)]
MAX_PAGE = 10**7
MAX_ID = 2**31 - 1
COLUMNS = (("name", "service"), ("kind", "service_kind"), ("target", "service_target"), ("device", "device"),
           ("site", "site"), ("tenant", "service_tenant"), ("criticality", "service_criticality"),
           ("status", "status"), ("state", "state"), ("availability", "availability_24h"))


def labels(p: Page) -> dict[str, dict[str, str]]:
    """Every choice value of a service as the operator reads it."""
    t = p.t
    return {
        "kind": {"tcp": t("service_kind_tcp"), "http": t("service_kind_http"), "dns": t("service_kind_dns")},
        "criticality": {"low": t("criticality_low"), "medium": t("criticality_medium"),
                        "high": t("criticality_high"), "critical": t("criticality_critical")},
        "status": {"active": t("status_active"), "planned": t("status_planned"), "offline": t("status_offline"),
                   "decommissioning": t("status_decommissioning")},
        "state": {"up": t("state_up"), "down": t("state_down"), "warning": t("service_state_warning"),
                  "error": t("service_state_error"), "unknown": t("state_unknown")},
        "counts_toward": {"hosted_systems": t("hosted_systems")},
    }


def stale_before(rm: ReadModel) -> datetime:
    """Results older than this are not a current state: the page's staleness, at least two probe intervals."""
    return stale_limit(rm.settings, rm.now())


def _choice(value: str | None, allowed: list[str]) -> str | None:
    return value if value in allowed else None


@router.get("/services", response_class=HTMLResponse)
def services_page(p: PageDep, rm: ReadDep, q: Str = None, kind: Str = None, status: Str = None,
                  criticality: Str = None, tenant: Str = None, site: Str = None, hosted: Str = None,
                  sort: Str = None, page_no: Annotated[int, Query(alias="page", ge=1, le=MAX_PAGE)] = 1,
                  per_page: Annotated[int, Query(ge=1, le=max(PER_PAGE_CHOICES))] = DEFAULT_PER_PAGE,
                  ) -> HTMLResponse:
    sq = ServiceQuery(q=(q or "").strip() or None, kind=_choice(kind, ServiceKindChoices.values()),
                      status=_choice(status, ServiceStatusChoices.values()),
                      criticality=_choice(criticality, ServiceCriticalityChoices.values()),
                      tenant=(tenant or "").strip() or None, site=(site or "").strip() or None,
                      hosted={"yes": True, "1": True, "no": False, "0": False}.get(hosted or ""),
                      sort=sort if sort and sort.removeprefix("-") in SORTS else "", page=page_no,
                      per_page=per_page if per_page in PER_PAGE_CHOICES else DEFAULT_PER_PAGE)
    stale = stale_before(rm)
    with rm.engine.connect() as conn:
        now, gap = rm.now(), staleness(rm.settings)
        figures = hosted_figures(conn, stale_before=stale, now=now, max_gap=gap)
        result = service_list(conn, sq, stale, now=now, max_gap=gap)
        pages = max(1, math.ceil(result.count / sq.per_page))
        if sq.page > pages and result.count:  # past the end (the list shrank): its last page
            sq = replace(sq, page=pages)
            result = service_list(conn, sq, stale, now=now, max_gap=gap)
    params: dict[str, Any] = {"q": sq.q, "kind": sq.kind, "status": sq.status, "criticality": sq.criticality,
                              "tenant": sq.tenant, "site": sq.site,
                              "hosted": {True: "yes", False: "no"}.get(sq.hosted) if sq.hosted is not None else None,
                              "per_page": sq.per_page if sq.per_page != DEFAULT_PER_PAGE else None}

    def page_url(n: int) -> str:
        return p.url("/services", **params, sort=sq.sort or None, page=n)

    def sort_url(key: str) -> str:
        return p.url("/services", **params, sort=f"-{key}" if sq.sort == key else key)

    first = sq.offset + 1 if result.rows else 0
    return render(p, "services.html", active="nav_services", rows=result.rows, count=result.count, first=first,
                  last=sq.offset + len(result.rows), sq=sq, columns=COLUMNS, headers=[p.t(h) for _k, h in COLUMNS],
                  sortable=tuple(SORTS), sort_url=sort_url, labels=labels(p),
                  kinds=ServiceKindChoices.values(), statuses=ServiceStatusChoices.values(),
                  criticalities=ServiceCriticalityChoices.values(), per_page_choices=PER_PAGE_CHOICES,
                  api_list=p.url("/api/ipam/services/", q=sq.q, kind=sq.kind, status=sq.status),
                  pages=pages, page_no=sq.page, page_url=page_url, hosted=figures, freshness=rm.freshness())


@router.get("/services/{service_id}", response_class=HTMLResponse)
def service_page(service_id: int, p: PageDep, rm: ReadDep) -> HTMLResponse:
    if not 1 <= service_id <= MAX_ID:
        return not_found(p, rm)
    with rm.engine.connect() as conn:
        detail = service_detail(conn, service_id, stale_before(rm), now=rm.now(), max_gap=staleness(rm.settings))
    if detail is None:
        return not_found(p, rm)
    row = detail.row
    graphs = [({"check_key": c.key, "device_id": row.device_id}, p.t("service_check_latency", check=c.label))
              for c in row.checks]
    return render(p, "service.html", active="nav_services", s=detail, row=row, labels=labels(p),
                  metrics=(), check_graphs=graphs, graph_labels=graph_labels(p), freshness=rm.freshness())

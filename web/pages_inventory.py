"""Inventory lists (sites, devices, circuits, videoconference endpoints) with search, filters and pages; the
global search page behind the header's search box, and its JSON twin ``/api/search/``.

Lists are one page of rows from :mod:`infra_monitor.readmodel.inventory_lists` (a count and one page,
whatever the inventory's size); filters live in the URL so a filtered view can be bookmarked or sent.
"""

from __future__ import annotations

import math
from dataclasses import asdict, replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, JSONResponse

from infra_monitor.readmodel import ReadModel
from infra_monitor.readmodel.checks import CheckState, latest_checks, mark_unswept
from infra_monitor.readmodel.inventory_lists import DEFAULT_PER_PAGE, KINDS, PER_PAGE_CHOICES, STATES, ListQuery
from infra_monitor.readmodel.schemas import LEVELS
from inventory.choices import CircuitStatusChoices, DeviceStatusChoices, SiteStatusChoices, VCProtocolChoices
from probes.sip import ANSWERS as SIP_ANSWERS
from web.pages import not_found
from web.templating import Page, page, readmodel, render

router = APIRouter(include_in_schema=False)
api_router = APIRouter(tags=["search"])
PageDep = Annotated[Page, Depends(page)]
ReadDep = Annotated[ReadModel, Depends(readmodel)]
Str = Annotated[str | None, Query(max_length=200)]
MAX_PAGE = 10**7
# what the endpoint check column says (catalogue keys vc_answer_<word>): the SIP answer, H.323 up/down, stale
VC_CHECK_WORDS = (*SIP_ANSWERS, "up", "down", "stale")

# Columns per list: (cell key, header translation key).
COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "sites": (("name", "site"), ("slug", "slug"), ("level", "level"), ("status", "status"), ("region", "region"),
              ("district", "district"), ("devices", "devices")),
    "devices": (("name", "device"), ("site", "site"), ("role", "role"), ("address", "address"),
                ("status", "status"), ("monitored", "monitoring"), ("district", "district"), ("state", "state")),
    "circuits": (("cid", "circuit"), ("provider", "provider"), ("type", "kind"), ("status", "status"),
                 ("commit_rate_kbps", "commit_rate"), ("a_site", "circuit_a_end"), ("z_site", "circuit_z_end")),
    "vc": (("device", "device"), ("site", "site"), ("district", "district"), ("protocol", "protocol"),
           ("uri", "vc_uri"), ("e164", "vc_e164"), ("room", "room"), ("mcu", "vc_mcu"), ("state", "state"),
           ("vc_check", "vc_check")),
}
STATUSES = {"sites": SiteStatusChoices.values(), "devices": DeviceStatusChoices.values(),
            "circuits": CircuitStatusChoices.values(), "vc": []}
API_LISTS = {"sites": "/api/dcim/sites/", "devices": "/api/dcim/devices/", "circuits": "/api/circuits/circuits/",
             "vc": "/api/vc/endpoints/"}
TITLES = {"sites": "inventory_sites", "devices": "inventory_devices", "circuits": "inventory_circuits",
          "vc": "inventory_vc"}
# Columns a list can be sorted by (the others are computed per row, outside SQL).
SORTABLE = {"sites": ("name", "slug", "level", "status", "devices"),
            "devices": ("name", "site", "role", "address", "status", "monitored", "state"),
            "circuits": ("cid", "provider", "type", "status", "commit_rate_kbps", "a_site", "z_site"),
            "vc": ("device", "site", "protocol", "uri", "e164", "room", "mcu", "state")}
# Which filters each list offers (the form shows only these; others in the URL are ignored).
FILTERS = {"sites": ("q", "status", "level", "district"),
           "devices": ("q", "status", "state", "level", "district", "role", "monitored"),
           "circuits": ("q", "status", "district", "provider"),
           "vc": ("q", "protocol", "state", "district")}


def _choice(value: str | None, allowed: list[str] | tuple[str, ...]) -> str | None:
    """A filter value from its list, or None (an unknown value filters nothing rather than everything)."""
    return value if value in allowed else None


def _query(kind: str, q: str | None, status: str | None, state: str | None, level: str | None,
           district: str | None, role: str | None, provider: str | None, protocol: str | None,
           monitored: str | None, sort: str | None, page_no: int, per_page: int) -> ListQuery:
    offered = FILTERS[kind]

    def keep(name: str, value: str | None) -> str | None:
        return (value or "").strip() or None if name in offered else None

    return ListQuery(q=keep("q", q), status=_choice(keep("status", status), STATUSES[kind]),
                     state=_choice(keep("state", state), STATES), level=_choice(keep("level", level), LEVELS),
                     district=keep("district", district), role=keep("role", role),
                     provider=keep("provider", provider),
                     protocol=_choice(keep("protocol", protocol), VCProtocolChoices.values()),
                     monitored={"yes": True, "no": False}.get(keep("monitored", monitored) or ""),
                     sort=sort if sort and sort.removeprefix("-") in SORTABLE[kind] else "",
                     page=page_no, per_page=per_page if per_page in PER_PAGE_CHOICES else DEFAULT_PER_PAGE)


def _cell(p: Page, kind: str, key: str, value: Any) -> str:
    """A cell as the operator reads it: choices and states translated, rates and counts formatted."""
    t = p.t
    if key == "status":
        return t(f"status_{value}")
    if key == "state":
        return t(f"state_{value}")
    if key == "level":
        return t(f"cat_{value}")
    if key == "monitored":
        return t("yes") if value else t("no")
    if key == "commit_rate_kbps":
        return p.fmt.kbps(value)
    if key == "devices":
        return p.fmt.num(value)
    if key == "protocol":
        return VCProtocolChoices.label(value)
    return "" if value is None else str(value)


def _vc_checks(rm: ReadModel, rows: list[Any]) -> dict[int, CheckState]:
    """The SIP/H.323 check (``vc:<endpoint>:sip|h323``) of each listed endpoint's device: two queries a page."""
    device_ids = [r.cells["device_id"] for r in rows]
    if not device_ids:
        return {}
    with rm.engine.connect() as conn:
        checks = mark_unswept(conn, [c for c in latest_checks(conn, device_ids=device_ids)
                                     if c.check_key.startswith("vc:")])
    return {c.device_id: c for c in checks}


def _vc_check_cell(p: Page, check: CheckState | None) -> tuple[str, dict[str, str]]:
    """The endpoint's check as read on the list (ready, busy (486), no answer…) and its data attributes: the SIP
    answer word of ``probes/sip.py`` (or up/down for H.323, stale for an old result) and the SIP code."""
    if check is None:
        return p.t("vc_check_none"), {"vc-check": "none"}
    code = check.measurements.get("code")
    word = "stale" if check.state == "stale" else check.info.get("answer") or check.state
    word = word if word in VC_CHECK_WORDS else check.state
    attrs = {"vc-check": word, **({"vc-code": f"{code:.0f}"} if code is not None else {})}
    text = p.t(f"vc_answer_{word}")
    return (f"{text} ({code:.0f})" if code is not None and word != "stale" else text), attrs


@router.get("/inventory/{kind}", response_class=HTMLResponse)
def inventory_page(kind: str, p: PageDep, rm: ReadDep, q: Str = None, status: Str = None, state: Str = None,
                   level: Str = None, district: Str = None, role: Str = None, provider: Str = None,
                   protocol: Str = None, monitored: Str = None, sort: Str = None,
                   page_no: Annotated[int, Query(alias="page", ge=1, le=MAX_PAGE)] = 1,
                   per_page: Annotated[int, Query(ge=1, le=max(PER_PAGE_CHOICES))] = DEFAULT_PER_PAGE) -> HTMLResponse:
    if kind not in KINDS:
        return not_found(p, rm)
    lq = _query(kind, q, status, state, level, district, role, provider, protocol, monitored, sort, page_no,
                per_page)
    result = rm.inventory_list(kind, lq)
    pages = max(1, math.ceil(result.count / lq.per_page))
    if lq.page > pages and result.count:  # past the end (the list shrank): show its last page
        lq = replace(lq, page=pages)
        result = rm.inventory_list(kind, lq)
    params = {"q": lq.q, "status": lq.status, "state": lq.state, "level": lq.level, "district": lq.district,
              "role": lq.role, "provider": lq.provider, "protocol": lq.protocol,
              "monitored": {True: "yes", False: "no"}.get(lq.monitored) if lq.monitored is not None else None,
              "per_page": lq.per_page if lq.per_page != DEFAULT_PER_PAGE else None}

    def page_url(n: int) -> str:
        return p.url(f"/inventory/{kind}", **params, sort=lq.sort or None, page=n)

    def sort_url(key: str) -> str:
        """The header link: sort by ``key``, or reverse it when it is already the order."""
        return p.url(f"/inventory/{kind}", **params, sort=f"-{key}" if lq.sort == key else key)

    columns = COLUMNS[kind]
    checks = _vc_checks(rm, result.rows) if kind == "vc" else {}
    rows = []
    for r in result.rows:
        cells, attrs = [], {}
        for key, _h in columns:
            if key == "vc_check":
                text, attrs[key] = _vc_check_cell(p, checks.get(r.cells["device_id"]))
                cells.append(text)
            else:
                cells.append(_cell(p, kind, key, r.cells[key]))
        rows.append({"href": r.href, "api": r.api, "cells": cells, "attrs": attrs})
    first = lq.offset + 1 if rows else 0
    return render(p, "inventory.html", active="nav_inventory", kind=kind, kinds=KINDS, titles=TITLES,
                  headers=[p.t(h) for _k, h in columns], keys=[k for k, _h in columns],
                  sortable=SORTABLE[kind], sort_url=sort_url, rows=rows, count=result.count, first=first,
                  last=lq.offset + len(rows), lq=lq, filters=FILTERS[kind], statuses=STATUSES[kind],
                  states=STATES, levels=LEVELS, districts=rm.regions().districts(),
                  protocols=[(v, VCProtocolChoices.label(v)) for v in VCProtocolChoices.values()],
                  per_page_choices=PER_PAGE_CHOICES,
                  api_list=p.url(API_LISTS[kind], q=lq.q), freshness=rm.freshness(),
                  pages=pages, page_no=lq.page, page_url=page_url)


@router.get("/search", response_class=HTMLResponse)
def search_page(p: PageDep, rm: ReadDep, q: Str = None) -> HTMLResponse:
    text = (q or "").strip()
    groups = rm.search(text) if text else []
    return render(p, "search.html", active="", q=text, groups=groups, freshness=rm.freshness())


@api_router.get("/api/search/", summary="Search the whole inventory")
def search_api(rm: ReadDep, q: Annotated[str, Query(min_length=1, max_length=200)],
               limit: Annotated[int, Query(ge=1, le=100)] = 10) -> JSONResponse:
    """Matches of ``q`` (accent-insensitive, every word must match; addresses by prefix) per inventory kind:
    ``{"q", "results": [{"kind", "count", "hits": [{"label", "detail", "href"}], "more_href"}]}``."""
    return JSONResponse({"q": q, "results": [asdict(g) for g in rm.search(q, limit)]})

"""Detail pages: one site, one device, and the inventory lists (sites, devices, circuits) linking to the API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from infra_monitor.readmodel import ReadModel, SiteFilter
from inventory.api.crud import MAX_ID
from web.pages import not_found
from web.templating import Page, page, readmodel, render

router = APIRouter(include_in_schema=False)
PageDep = Annotated[Page, Depends(page)]
ReadDep = Annotated[ReadModel, Depends(readmodel)]

GRAPH_LINES = ("rtt_min", "rtt_avg", "rtt_max", "loss", "in_bps", "out_bps", "commit_bps")


def graph_labels(p: Page) -> dict[str, str]:
    """Legend texts for the graph script, in the page's language."""
    return {key: p.t(f"line_{key}") for key in GRAPH_LINES}


@router.get("/sites/{slug}", response_class=HTMLResponse)
def site_page(slug: str, p: PageDep, rm: ReadDep) -> HTMLResponse:
    detail = rm.site(slug)
    if detail is None:
        return not_found(p, rm)
    return render(p, "site.html", active="nav_sites", d=detail, graph_labels=graph_labels(p),
                  freshness=rm.freshness())


@router.get("/devices/{device_id}", response_class=HTMLResponse)
def device_page(device_id: int, p: PageDep, rm: ReadDep) -> HTMLResponse:
    detail = rm.device(device_id) if 1 <= device_id <= MAX_ID else None
    if detail is None:
        return not_found(p, rm)
    return render(p, "device.html", active="nav_sites", d=detail, graph_labels=graph_labels(p),
                  freshness=rm.freshness())


@dataclass(frozen=True)
class Row:
    cells: tuple[str, ...]
    href: str | None
    api: str


@router.get("/inventory/{kind}", response_class=HTMLResponse)
def inventory_page(kind: str, p: PageDep, rm: ReadDep) -> HTMLResponse:
    t = p.t
    rows: list[Row]
    if kind == "sites":
        headers = [t("site"), "slug", t("level"), t("status"), t("region"), t("district"), t("state")]
        sites = rm.sites(SiteFilter(include_retired=True, sort="name")).results
        rows = [Row((s.name, s.slug, t(f"cat_{s.category}"), s.status, s.region_name or "",
                     s.district_name or "", t(f"state_{s.state}")), f"/sites/{s.slug}", f"/api/dcim/sites/{s.id}/")
                for s in sites]
        api_list = "/api/dcim/sites/"
    elif kind == "devices":
        headers = [t("device"), t("role"), t("address"), t("status"), t("monitoring"), t("state")]
        rows = [Row((d.name, d.role or "", d.address or "", d.status, t("yes") if d.monitoring_enabled else t("no"),
                     t(f"state_{d.state}")), f"/devices/{d.id}", f"/api/dcim/devices/{d.id}/")
                for d in rm.devices()]
        api_list = "/api/dcim/devices/"
    elif kind == "circuits":
        headers = [t("circuit"), t("provider"), t("kind"), t("status"), t("commit_rate"), "A", "Z"]
        rows = [Row((c.cid, c.provider, c.type, c.status, p.fmt.kbps(c.commit_rate_kbps), c.a_site or "",
                     c.z_site or ""), f"/sites/{c.z_slug}" if c.z_slug else None, f"/api/circuits/circuits/{c.id}/")
                for c in rm.circuits()]
        api_list = "/api/circuits/circuits/"
    else:
        return not_found(p, rm)
    return render(p, "inventory.html", active="nav_inventory", kind=kind, headers=headers, rows=rows,
                  api_list=api_list, freshness=rm.freshness())

"""Detail pages: one site and one device (the inventory lists are in :mod:`web.pages_inventory`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from infra_monitor.readmodel import ReadModel
from infra_monitor.readmodel.services import services_of_device
from probes.registry import KINDS
from web.api.inventory.crud import MAX_ID
from web.pages import not_found
from web.templating import Page, page, readmodel, render

router = APIRouter(include_in_schema=False)
PageDep = Annotated[Page, Depends(page)]
ReadDep = Annotated[ReadModel, Depends(readmodel)]

GRAPH_LINES = ("rtt_min", "rtt_avg", "rtt_max", "loss", "in_bps", "out_bps", "commit_bps", "success")


def graph_labels(p: Page) -> dict[str, str]:
    """Legend texts for the graph script, in the page's language."""
    return {key: p.t(f"line_{key}") for key in GRAPH_LINES}


def _kind_label(kind: str, lang: str) -> str:
    return KINDS[kind].label(lang) if kind in KINDS else kind.upper()


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
    graphs = [(c, f"{_kind_label(c.kind, p.lang)} · {c.check_key}") for c in getattr(detail, "checks", [])
              if c.check_key != "icmp" and (c.kind not in KINDS or KINDS[c.kind].measurement("latency"))]
    with rm.engine.connect() as conn:
        device_services = services_of_device(conn, device_id)
    return render(p, "device.html", active="nav_sites", d=detail, graph_labels=graph_labels(p),
                  freshness=rm.freshness(), kinds=KINDS, check_graphs=graphs, device_services=device_services)



"""Wall mode (``/wall``): the NOC screen. Dark, full screen, no navigation chrome, type readable from 5 m.

Large counters first (devices up / down / unreachable, coverage per level), then the open problems (root
device, site, how long, devices cut off behind it: the overview's problems), then one district at a time,
cycling every ``?cycle=`` seconds (default 15): its sites per state and the sites that are down or cut
off. Live like every page (``data-live-region``, :mod:`web.templating`); the cycling is done by the browser
(``/static/app.js``) over districts all rendered at once, so a refresh never resets it.

A constant number of queries whatever the number of sites: the cached overview and the cached light site
rows of the map, grouped per district here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse

from infra_monitor.readmodel import ReadModel, SiteFilter
from infra_monitor.readmodel.schemas import StateCounts
from web.templating import Page, page, readmodel, render

router = APIRouter(include_in_schema=False)
PageDep = Annotated[Page, Depends(page)]
ReadDep = Annotated[ReadModel, Depends(readmodel)]

DEFAULT_CYCLE_S = 15
MIN_CYCLE_S, MAX_CYCLE_S = 3, 3600
SHOWN_SITES = 12      # down sites listed per district (the rest is counted)
SHOWN_PROBLEMS = 8
FAILING = ("down", "unreachable")
STATES = ("down", "unreachable", "maintenance", "unknown", "up")


@dataclass
class DistrictPanel:
    """One district on the wall: its sites per state and the failing ones (down first, longest first)."""

    code: str
    name: str
    counts: Counter[str] = field(default_factory=Counter)
    failing: list[Any] = field(default_factory=list)

    @property
    def states(self) -> StateCounts:
        return StateCounts(**{s: self.counts[s] for s in STATES})

    @property
    def shown(self) -> list[Any]:
        return self.failing[:SHOWN_SITES]

    @property
    def more(self) -> int:
        return max(0, len(self.failing) - SHOWN_SITES)


def cycle_seconds(raw: str | None) -> int:
    """``?cycle=`` as whole seconds within bounds; anything unreadable is the default."""
    try:
        value = int(float(raw)) if raw else DEFAULT_CYCLE_S
    except (ValueError, OverflowError):  # "abc", "inf", "1e999"
        return DEFAULT_CYCLE_S
    return max(MIN_CYCLE_S, min(MAX_CYCLE_S, value))


def district_panels(rm: ReadModel, t: Callable[..., str]) -> list[DistrictPanel]:
    """Every district of today's structure, with the sites under it (one cached query for all sites). A
    province without districts today (the two-level structure in force since 1 July 2025) cycles its site
    levels instead: data center, departments, former district seats, communes."""
    regions = rm.regions()
    panels = {d.code: DistrictPanel(d.code, d.name) for d in regions.districts()}
    by_level = not panels
    for row in rm.site_points(SiteFilter()):
        panel: DistrictPanel | None
        if by_level:
            panel = panels.setdefault(row.category, DistrictPanel(row.category, t(f"level_{row.category}")))
        else:
            district = regions.district_of(row.region_id)
            panel = panels.get(district.code) if district is not None else None
        if panel is None:
            continue
        panel.counts[row.state] += 1
        if row.state in FAILING:
            panel.failing.append(row)
    for panel in panels.values():
        panel.failing.sort(key=lambda r: (FAILING.index(r.state), r.since is None, r.since or 0, r.name))
    return sorted(panels.values(), key=lambda p: (-(p.counts["down"] + p.counts["unreachable"]), p.name))


@router.get("/wall", response_class=HTMLResponse)
def wall_page(p: PageDep, rm: ReadDep, cycle: Annotated[str | None, Query()] = None) -> HTMLResponse:
    ov = rm.overview()
    return render(p, "wall.html", active="nav_wall", ov=ov, freshness=ov.freshness,
                  panels=district_panels(rm, p.t), problems=ov.problems[:SHOWN_PROBLEMS], cycle_s=cycle_seconds(cycle))

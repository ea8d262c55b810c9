"""The map: sites placed by latitude/longitude in an inline SVG (equirectangular, scaled at mid-latitude).

No tiles and no external library: the page must work on an isolated network. Points carry a shape per
state (the same symbols as the badges) as well as a colour; failing sites are drawn last, so on top.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from infra_monitor.readmodel.lists import RegionPoint
from infra_monitor.readmodel.schemas import StateCounts
from infra_monitor.readmodel.sitestate import state_rank

WIDTH = 1000
PAD = 30
SIZE = {"down": 26, "unreachable": 22}
DEFAULT_SIZE = 16


@dataclass(frozen=True)
class MapPoint:
    slug: str
    name: str
    state: str
    x: float
    y: float
    size: int


@dataclass(frozen=True)
class MapLabel:
    name: str
    x: float
    y: float


@dataclass
class MapView:
    width: int
    height: int
    points: list[MapPoint] = field(default_factory=list)
    labels: list[MapLabel] = field(default_factory=list)
    counts: StateCounts = field(default_factory=StateCounts)
    missing: int = 0


def project(rows: Iterable[Any], regions: Iterable[RegionPoint], width: int = WIDTH) -> MapView:
    """Place ``rows`` (site rows with slug, name, state, latitude, longitude) and the district labels in a
    ``width``-wide SVG; sites without coordinates are counted."""
    sites = list(rows)
    placed = [s for s in sites if s.latitude is not None and s.longitude is not None]
    counts = StateCounts()
    for s in sites:
        setattr(counts, s.state, getattr(counts, s.state) + 1)
    if not placed:
        return MapView(width=width, height=width // 2, counts=counts, missing=len(sites))
    lats = [s.latitude for s in placed if s.latitude is not None]
    lons = [s.longitude for s in placed if s.longitude is not None]
    lat0, lat1, lon0, lon1 = min(lats), max(lats), min(lons), max(lons)
    kx = math.cos(math.radians((lat0 + lat1) / 2))
    span_x = max((lon1 - lon0) * kx, 1e-6)
    span_y = max(lat1 - lat0, 1e-6)
    scale = (width - 2 * PAD) / max(span_x, span_y * 0.75)
    height = int(span_y * scale + 2 * PAD)

    def xy(lat: float, lon: float) -> tuple[float, float]:
        return PAD + (lon - lon0) * kx * scale, PAD + (lat1 - lat) * scale

    points = []
    for s in sorted(placed, key=lambda s: -state_rank(s.state)):
        x, y = xy(s.latitude or 0.0, s.longitude or 0.0)
        points.append(MapPoint(s.slug, s.name, s.state, x, y, SIZE.get(s.state, DEFAULT_SIZE)))
    labels = []
    for r in regions:
        if lat0 <= r.latitude <= lat1 and lon0 <= r.longitude <= lon1:
            x, y = xy(r.latitude, r.longitude)
            labels.append(MapLabel(r.name, x, y - 14))
    return MapView(width=width, height=height, points=points, labels=labels, counts=counts,
                   missing=len(sites) - len(placed))

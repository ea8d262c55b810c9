"""Wall mode in a province without districts (the two-level structure in force since 1 July 2025): the
panels cycle the site levels instead of showing nothing."""

from __future__ import annotations

import re
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.engine import Engine

from inventory.models import Region
from tests.web.builders import Province


def test_the_wall_cycles_levels_when_the_province_has_no_districts(client: TestClient, engine: Engine,
                                                                   province: Province) -> None:
    with engine.begin() as conn:
        conn.execute(update(Region).where(Region.level == "district").values(valid_to=date(2025, 7, 1)))
    province.cut_district(0)
    html = client.get("/wall?lang=en").text
    panels = re.findall(r'<article class="wall-district" data-district="([^"]+)"', html)
    assert set(panels) == {"datacenter", "district", "commune"}
    assert panels[0] == "commune"  # the level with failures comes first
    commune = html[html.index('data-district="commune"'):]
    assert "UBND xã Tân Sỏi 002" in commune[:commune.index("</article>")]


def test_the_wall_cycles_districts_while_they_exist(client: TestClient, province: Province) -> None:
    html = client.get("/wall").text
    assert sorted(re.findall(r"<article class=\"wall-district\" data-district=\"(\d+)\"", html)) == ["213", "215"]

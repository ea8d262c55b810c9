"""The demo province across the reorganisation of 1/7/2025: the structure before and after, successors of
every legacy commune and district, the ``regions`` command, and the status page still counting every site."""

from __future__ import annotations

import copy
from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlmodel import col

from infra_monitor.config import load_settings
from infra_monitor.demo_loader import load_demo_if_empty
from infra_monitor.readmodel import ReadModel, SiteFilter
from inventory import demo
from inventory.dated import load_regions
from inventory.demo import build_demo_document, load_reorg_2025
from inventory.demo import load_regions as load_legacy_units
from inventory.importer import import_document
from inventory.models import Region, RegionChange, Site
from inventory.queries import RegionNode, regions_as_of
from tests.inventory.conftest import Cli, url_of

BEFORE = date(2019, 12, 31)
REORG = date(2025, 7, 1)
TODAY = date(2026, 12, 2)
NEW_UNITS = 58  # 2025 commune-level units that took over the 192 legacy communes (open data)


@pytest.fixture
def loaded(engine: Engine) -> None:
    assert load_demo_if_empty(engine) is True


def _ids(session: Session) -> dict[str, int]:
    return {code: rid for rid, code in session.execute(select(col(Region.id), col(Region.code))) if rid is not None}


def _shape(nodes: list[RegionNode]) -> Counter[tuple[str, str | None]]:
    """(level, level of the parent) → number of regions."""
    by_id = {n.id: n for n in nodes}
    return Counter((n.level, by_id[n.parent_id].level if n.parent_id in by_id else None) for n in nodes)


def test_the_open_data_maps_every_legacy_commune_to_one_of_58_units_in_province_24() -> None:
    reorg, legacy = load_reorg_2025(), load_legacy_units()
    province = reorg["province"]
    assert (province["code"], province["name"], province["valid_from"]) == ("24", "Tỉnh Bắc Ninh", "2025-07-01")
    assert province["predecessors"] == ["24", "27"]  # Bắc Giang and Bắc Ninh as they were
    assert len(reorg["communes"]) == NEW_UNITS
    assert Counter(c["type"] for c in reorg["communes"]) == {"xã": 45, "phường": 13}
    assert [s["legacy"] for s in reorg["successors"]] == sorted(c["code"] for c in legacy["communes"])
    assert not [s for s in reorg["successors"] if s["split_into"]]
    by_successor = Counter(s["successor"] for s in reorg["successors"])
    assert by_successor == {c["code"]: len(c["predecessors"]) for c in reorg["communes"]}
    assert max(by_successor.values()) == 7 and min(by_successor.values()) == 1
    assert all(c["code"] in c["predecessors"] for c in reorg["communes"])  # 2025 codes reuse legacy ones
    counts = reorg["attribution"]["counts"]
    assert counts["new_communes"] == NEW_UNITS and counts["legacy_communes"] == 192
    assert counts["legacy_communes_per_new_unit"]["max"] == 7 and counts["split_legacy_communes"] == 0
    assert counts["new_codes_reused_from_a_legacy_commune"] == NEW_UNITS


def test_the_document_ends_every_district_and_merged_commune_on_the_reorganisation_day() -> None:
    doc = build_demo_document(TODAY)
    kinds = Counter((c["kind"], c["date"]) for c in doc["region_changes"])
    assert kinds == {("merge", "2025-07-01"): 10 + 192 - NEW_UNITS, ("reparent", "2025-07-01"): NEW_UNITS,
                     ("rename", "2025-07-01"): 1 + 37}  # the province and the communes named anew in 2025
    ended = {r["code"] for r in doc["regions"] if r["valid_to"] == "2025-07-01"}
    assert ended == {c["region"] for c in doc["region_changes"] if c["kind"] == "merge"}
    assert [t["valid_to"] for t in doc["coverage_targets"]] == ["2025-07-01"] * 4


def test_as_of_2019_the_province_has_ten_districts_and_192_communes_below_them(
        loaded: None, session: Session) -> None:
    nodes = regions_as_of(session, BEFORE)
    province = next(n for n in nodes if n.level == "province")

    assert province.code == "24"
    assert _shape(nodes) == {("province", None): 1, ("district", "province"): 10, ("commune", "district"): 192}
    assert {n.parent_id for n in nodes if n.level == "district"} == {province.id}
    assert regions_as_of(session, date(2025, 6, 30)) == nodes


def test_as_of_today_the_2025_communes_sit_directly_under_the_province_and_no_district_is_left(
        loaded: None, session: Session) -> None:
    nodes = regions_as_of(session, TODAY)
    ids = _ids(session)

    assert _shape(nodes) == {("province", None): 1, ("commune", "province"): NEW_UNITS}
    assert {n.parent_id for n in nodes if n.level == "commune"} == {ids["24"]}
    assert {n.code for n in nodes if n.level == "commune"} == {c["code"] for c in load_reorg_2025()["communes"]}
    assert regions_as_of(session, REORG) == nodes


def test_every_legacy_commune_resolves_to_its_2025_unit_and_every_district_to_the_province(
        loaded: None, engine: Engine, session: Session) -> None:
    ids = _ids(session)
    with engine.connect() as conn:
        today, before = load_regions(conn, TODAY), load_regions(conn, BEFORE)

    for row in load_reorg_2025()["successors"]:
        assert today.resolve(ids[row["legacy"]]) == ids[row["successor"]], row
        assert before.resolve(ids[row["legacy"]]) == ids[row["legacy"]]
        assert today.district_of(ids[row["legacy"]]) is None
    for district in load_legacy_units()["districts"]:
        assert today.resolve(ids[district["code"]]) == ids["24"]
        assert before.district_of(ids[district["code"]]) is not None
    assert today.districts() == [] and len(before.districts()) == 10
    merges = session.scalar(select(col(RegionChange.note)).where(col(RegionChange.region_id) == ids["07201"]))
    assert merges == "Sắp xếp ĐVHC cấp xã: nhập vào phường Bắc Giang (07210)"


def test_the_status_page_counts_every_demo_site_today_and_none_is_lost(loaded: None, engine: Engine) -> None:
    settings = load_settings(None, environ={"INFRA_MONITOR_DATABASE__URL": url_of(engine)})
    rm = ReadModel(engine, settings, cache_ttl_s=0, clock=lambda: datetime(2026, 12, 2, 3, 0, tzinfo=UTC))
    with Session(engine) as s:
        sites = Counter(s.scalars(select(col(Site.category))))

    assert rm.as_of() == TODAY
    assert rm.overview().sites.total == sum(sites.values()) == 225
    listed = rm.sites(SiteFilter())
    assert listed.count == 225 and len(listed.results) == 225
    assert all(r.region_code is not None and r.district_code is None for r in listed.results)
    inventoried = {row.level: row.inventoried for row in rm.overview().coverage}
    assert {level: inventoried[level] for level in sites} == dict(sites)
    assert rm.sites(SiteFilter(district="24")).count == 225


def test_regions_command_prints_the_2025_structure_today_and_the_legacy_one_in_2019(loaded: None, cli: Cli) -> None:
    today = cli("regions", "--as-of", "02/12/2026")
    before = cli("regions", "--as-of", "2019-12-31")

    assert today.exit_code == 0 and before.exit_code == 0
    assert f"regions on 02/12/2026: {1 + NEW_UNITS}" in today.stdout
    assert f"24 Tỉnh Bắc Ninh (province, {NEW_UNITS} below)" in today.stdout
    assert "(district" not in today.stdout and "  07210 Phường Bắc Giang (commune)" in today.stdout
    assert "regions on 31/12/2019: 203" in before.stdout and "24 Tỉnh Bắc Giang (province, 10 below)" in before.stdout
    assert "    07210 Phường Hoàng Văn Thụ (commune)" in before.stdout


def test_a_2025_unit_with_codes_of_its_own_becomes_a_new_region(
        engine: Engine, session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    reorg: dict[str, Any] = copy.deepcopy(load_reorg_2025())
    reorg["province"].update(code="99", slug="bac-ninh-moi")
    unit = next(c for c in reorg["communes"] if c["code"] == "07210")
    unit.update(code="99999", parent="99", slug="p-bac-giang-moi")
    for row in reorg["successors"]:
        row["successor"] = "99999" if row["successor"] == "07210" else row["successor"]
    monkeypatch.setattr(demo, "load_reorg_2025", lambda: reorg)

    report = import_document(session, build_demo_document(TODAY), source="test")
    assert report.ok, [str(e) for e in report.errors]
    session.commit()

    nodes = {n.code: n for n in regions_as_of(session, TODAY)}
    ids = _ids(session)
    assert "24" not in nodes and nodes["99"].parent_id is None
    assert nodes["99999"].parent_id == ids["99"] and "07210" not in nodes
    assert _shape(list(nodes.values())) == {("province", None): 1, ("commune", "province"): NEW_UNITS}
    assert session.get(Region, ids["24"]).successor_id == ids["99"]  # type: ignore[union-attr]
    before = {n.code for n in regions_as_of(session, BEFORE)}
    assert len(before) == 203 and not before & {"99", "99999"}

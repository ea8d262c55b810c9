"""The structure on a date: dated parent links, merges that keep sites' history, reparenting, the CLI tree."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory.models import Region, RegionParentLink, Site
from inventory.queries import descendants, region_of_site_as_of, regions_as_of, site_regions_as_of
from tests.inventory.conftest import Cli
from tests.inventory.documents import example_document, write_yaml

MERGE_DAY = date(2020, 1, 1)      # 07213 Trần Phú merged into 07210 Hoàng Văn Thụ (the documented example)
REPARENT_DAY = date(2025, 7, 1)   # 07375 Thị trấn Vôi moved from district 217 to the province


@pytest.fixture
def imported(cli: Cli, tmp_path: Path) -> None:
    doc = example_document()
    doc["sites"].append({"slug": "p-tran-phu", "name": "UBND phường Trần Phú", "category": "commune",
                         "region": "07213"})
    result = cli("import", write_yaml(doc, tmp_path / "inv.yaml"))
    assert result.exit_code == 0, result.output


def _ids(session: Session) -> dict[str, int]:
    return {code: rid for rid, code in session.execute(select(Region.id, Region.code))}


def test_merged_commune_exists_before_its_merge_date_and_not_after(imported: None, session: Session) -> None:
    ids = _ids(session)
    before = {n.code: n for n in regions_as_of(session, date(2019, 12, 31))}
    after = {n.code: n for n in regions_as_of(session, MERGE_DAY)}

    assert before["07213"].parent_id == ids["213"]
    assert "07213" not in after and "07210" in after
    assert [n.code for n in descendants(session, ids["213"], date(2019, 12, 31))] == ["07210", "07213"]
    assert [n.code for n in descendants(session, ids["213"], MERGE_DAY)] == ["07210"]


def test_site_of_merged_commune_counts_under_its_successor_after_the_merge(imported: None, session: Session) -> None:
    site_id = session.scalars(select(Site.id).where(Site.slug == "p-tran-phu")).one()

    before = region_of_site_as_of(session, site_id, date(2019, 6, 1))
    after = region_of_site_as_of(session, site_id, date(2024, 6, 1))

    assert before is not None and before.code == "07213"
    assert after is not None and after.code == "07210"
    assert session.get(Site, site_id).region_id == _ids(session)["07213"]  # type: ignore[union-attr]
    assert site_regions_as_of(session, date(2024, 6, 1))[site_id] == after.id


def test_reparent_closes_the_old_link_and_opens_a_new_one(imported: None, session: Session) -> None:
    ids = _ids(session)
    links = session.scalars(select(RegionParentLink).where(RegionParentLink.region_id == ids["07375"])
                            .order_by(RegionParentLink.valid_from)).all()

    assert [(lk.parent_id, lk.valid_to) for lk in links] == [(ids["217"], REPARENT_DAY), (ids["24"], None)]
    on = {d: {n.code: n.parent_id for n in regions_as_of(session, d)} for d in (date(2025, 6, 30), REPARENT_DAY)}
    assert on[date(2025, 6, 30)]["07375"] == ids["217"]
    assert on[REPARENT_DAY]["07375"] == ids["24"]


def test_regions_command_prints_the_tree_as_of_a_vietnamese_date(imported: None, cli: Cli) -> None:
    before = cli("regions", "--as-of", "31/12/2019")
    after = cli("regions", "--as-of", "2020-01-01")

    assert before.exit_code == 0 and after.exit_code == 0
    assert "regions on 31/12/2019: 6" in before.stdout
    assert "    07213 Phường Trần Phú (commune)" in before.stdout
    assert "07213" not in after.stdout and "regions on 01/01/2020: 5" in after.stdout
    assert cli("regions", "--as-of", "31/2/2020").exit_code == 2


def test_reimporting_a_recorded_merge_changes_nothing_and_a_conflicting_one_is_rejected(
        imported: None, cli: Cli, tmp_path: Path) -> None:
    doc = example_document()
    doc["region_changes"].append({"region": "07213", "kind": "reparent", "parent": "217", "date": "2021-05-01"})
    path = write_yaml(doc, tmp_path / "late.yaml")

    result = cli("import", path)

    assert result.exit_code == 1
    assert (f"{path}:region_changes#3:date: region 07213 was merged on 2020-01-01; nothing can happen to it on "
            "or after that date") in result.stderr

"""Dated names: a ``rename`` region change gives a unit its name (and type) from its date on.

One rule (:func:`inventory.dated.name_on`) read by ``regions_as_of`` and the status page's ``load_regions``;
validated in one place for import (``FILE:ROW:FIELD``) and API (``{"new_name": [...]}``); exported and
re-imported unchanged; used by the demo for the reorganisation of 1/7/2025. Every database test runs on
SQLite and PostgreSQL with the schema built by the alembic migrations (``migrated_engine``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlmodel import col

from infra_monitor.config import Settings, WebConfig, load_settings
from infra_monitor.demo_loader import load_demo_if_empty
from infra_monitor.readmodel import ReadModel, SiteFilter
from inventory.dated import Rename, load_regions, name_on
from inventory.demo import load_reorg_2025
from inventory.models import Region, RegionChange
from inventory.queries import regions_as_of
from tests.inventory.conftest import Cli, _PgSchemas, url_of
from tests.inventory.documents import write_yaml

RENAMED = date(2025, 7, 1)
RENAMED_AGAIN = date(2026, 1, 1)
TODAY = date(2026, 12, 2)
BEFORE = date(2019, 12, 31)
TOKEN = "t0ken-for-rename-tests"


@pytest.fixture
def engine(migrated_engine: Engine) -> Engine:
    """The inventory tests' ``engine`` (and so ``session`` and ``cli``) on a migrated database, both backends."""
    return migrated_engine


@pytest.fixture
def backend(db_url: str) -> Iterator[_PgSchemas | None]:
    """``other_database`` on the backend of ``db_url`` (not on every backend again)."""
    if not db_url.startswith("postgresql"):
        yield None
        return
    schemas = _PgSchemas()
    yield schemas
    schemas.close()


def _document(*changes: dict[str, Any]) -> dict[str, Any]:
    """Province 24 → district 213 → commune 07210 (created 1997), with ``changes``."""
    return {
        "regions": [
            {"code": "24", "name": "Tỉnh Bắc Giang", "slug": "bac-giang", "level": "province", "unit_type": "tỉnh",
             "parent": None, "valid_from": "1997-01-01"},
            {"code": "213", "name": "Thành phố Bắc Giang", "slug": "tp-bac-giang", "level": "district",
             "unit_type": "thành phố", "parent": "24", "valid_from": "1997-01-01"},
            {"code": "07210", "name": "Phường Hoàng Văn Thụ", "slug": "p-hoang-van-thu", "level": "commune",
             "unit_type": "phường", "parent": "213", "valid_from": "1997-01-01"},
        ],
        "region_changes": list(changes),
    }


RENAME_24 = {"region": "24", "kind": "rename", "date": "2025-07-01", "new_name": "Tỉnh Bắc Ninh",
             "note": "Nghị quyết 202/2025/QH15"}
RENAME_07210 = {"region": "07210", "kind": "rename", "date": "2025-07-01", "new_name": "Phường Bắc Giang",
                "new_unit_type": "phường"}
RENAME_07210_AGAIN = {"region": "07210", "kind": "rename", "date": "2026-01-01", "new_name": "Xã Bắc Giang",
                      "new_unit_type": "xã"}


@pytest.fixture
def imported(cli: Cli, tmp_path: Path) -> Path:
    path = write_yaml(_document(RENAME_24, RENAME_07210_AGAIN, RENAME_07210), tmp_path / "inv.yaml")
    result = cli("import", path)
    assert result.exit_code == 0, result.output
    return path


def _names(session: Session, d: date) -> dict[str, tuple[str, str]]:
    return {n.code: (n.name, n.unit_type) for n in regions_as_of(session, d)}


def _loaded_names(engine: Engine, d: date) -> dict[str, tuple[str, str]]:
    with engine.connect() as conn:
        regions = load_regions(conn, d)
    return {r.code: (r.name, r.unit_type) for r in regions.tree.regions.values() if r.id in regions.alive}


# --- the rule ------------------------------------------------------------------------------------------

def test_name_on_takes_the_latest_rename_on_or_before_the_day_else_the_own_name() -> None:
    renames = [Rename(1, RENAMED_AGAIN, "Xã Bắc Giang", "xã"), Rename(1, RENAMED, "Phường Bắc Giang")]

    assert name_on("Phường Hoàng Văn Thụ", "phường", renames, RENAMED - timedelta(days=1)) == (
        name_on("Phường Hoàng Văn Thụ", "phường", [], TODAY))
    assert name_on("Phường Hoàng Văn Thụ", "phường", renames, RENAMED).name == "Phường Bắc Giang"
    assert name_on("Phường Hoàng Văn Thụ", "phường", renames, RENAMED).unit_type == "phường"  # type kept
    assert name_on("Phường Hoàng Văn Thụ", "phường", renames, TODAY) == ("Xã Bắc Giang", "xã")


# --- as-of readers -------------------------------------------------------------------------------------

def test_a_rename_changes_the_name_from_its_date_only(imported: Path, session: Session) -> None:
    day_before = _names(session, RENAMED - timedelta(days=1))
    on_the_day = _names(session, RENAMED)

    assert day_before["24"] == ("Tỉnh Bắc Giang", "tỉnh") and day_before["07210"] == ("Phường Hoàng Văn Thụ", "phường")
    assert on_the_day["24"] == ("Tỉnh Bắc Ninh", "tỉnh") and on_the_day["07210"] == ("Phường Bắc Giang", "phường")
    assert on_the_day["213"] == ("Thành phố Bắc Giang", "thành phố")
    region = session.scalars(select(Region).where(col(Region.code) == "07210")).one()
    assert region.name == "Phường Hoàng Văn Thụ"  # the region row keeps the name it was created with


def test_of_two_renames_the_latest_in_force_wins(imported: Path, session: Session) -> None:
    assert _names(session, RENAMED_AGAIN - timedelta(days=1))["07210"] == ("Phường Bắc Giang", "phường")
    assert _names(session, RENAMED_AGAIN)["07210"] == ("Xã Bắc Giang", "xã")
    assert _names(session, TODAY)["07210"] == ("Xã Bắc Giang", "xã")


@pytest.mark.parametrize("day", [BEFORE, RENAMED - timedelta(days=1), RENAMED, RENAMED_AGAIN, TODAY])
def test_load_regions_and_regions_as_of_agree(imported: Path, engine: Engine, session: Session, day: date) -> None:
    assert _loaded_names(engine, day) == _names(session, day)


# --- validation: import and API -------------------------------------------------------------------------

@pytest.mark.parametrize(("change", "field", "message"), [
    ({"region": "07210", "kind": "rename", "date": "2025-07-01"}, "new_name", "a rename needs the new name"),
    ({"region": "07210", "kind": "rename", "date": "2025-07-01", "new_name": "   "}, "new_name",
     "a rename needs the new name"),
    ({"region": "07210", "kind": "rename", "date": "2025-07-01", "new_name": "X" * 201}, "new_name",
     "at most 200"),
    ({"region": "07210", "kind": "reparent", "parent": "24", "date": "2025-07-01", "new_name": "Phường Bắc Giang"},
     "new_name", "only a rename carries new_name"),
    ({"region": "07210", "kind": "rename", "date": "2025-07-01", "new_name": "Phường Bắc Giang", "parent": "24"},
     "parent", "not allowed for kind rename"),
    ({"region": "07210", "kind": "rename", "date": "1990-01-01", "new_name": "Phường Bắc Giang"}, "date",
     "is not after the region's valid_from"),
])
def test_invalid_renames_are_reported_as_file_row_field_on_import(
        cli: Cli, tmp_path: Path, session: Session, change: dict[str, Any], field: str, message: str) -> None:
    path = write_yaml(_document(change), tmp_path / "inv.yaml")

    result = cli("import", path)

    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if f"{path}:region_changes#1:{field}:" in line]
    assert lines and message in lines[0], result.output
    assert session.scalars(select(RegionChange)).all() == []


def test_a_rename_is_stored_nfc_and_a_recorded_one_is_never_overwritten(
        cli: Cli, tmp_path: Path, session: Session) -> None:
    decomposed = unicodedata.normalize("NFD", "Phường Bắc Giang")
    first = cli("import", write_yaml(_document({**RENAME_07210, "new_name": f" {decomposed} "}), tmp_path / "a.yaml"))
    assert first.exit_code == 0, first.output
    stored = session.scalars(select(RegionChange)).one()
    assert stored.new_name == "Phường Bắc Giang" and unicodedata.is_normalized("NFC", stored.new_name)

    again = cli("import", path := write_yaml(_document({**RENAME_07210, "new_name": "Phường Khác"}),
                                              tmp_path / "b.yaml"))
    assert again.exit_code == 1
    assert f"{path}:region_changes#1:new_name: differs from the change recorded" in again.output


@pytest.fixture
def api(engine: Engine, session: Session, cli: Cli, tmp_path: Path) -> Iterator[TestClient]:
    from web.app import create_app

    assert cli("import", write_yaml(_document(), tmp_path / "inv.yaml")).exit_code == 0
    app = create_app(Settings(web=WebConfig(admin_token=TOKEN)), engine)
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Token {TOKEN}"
        yield client


def test_the_api_creates_a_rename_and_names_the_field_of_a_bad_one(
        api: TestClient, engine: Engine, session: Session) -> None:
    created = api.post("/api/dcim/region-changes/", json={
        "region": "07210", "kind": "rename", "date": "2025-07-01", "new_name": "Phường Bắc Giang",
        "new_unit_type": "phường"})
    missing = api.post("/api/dcim/region-changes/", json={"region": "24", "kind": "rename", "date": "2025-07-01"})
    on_merge = api.post("/api/dcim/region-changes/", json={
        "region": "213", "kind": "merge", "successor": "24", "date": "2025-07-01", "new_name": "Tỉnh Bắc Ninh"})

    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["kind"], body["new_name"], body["new_unit_type"]) == ("rename", "Phường Bắc Giang", "phường")
    assert missing.status_code == 400 and list(missing.json()) == ["new_name"], missing.text
    assert "a rename needs the new name" in missing.json()["new_name"][0]
    assert on_merge.status_code == 400 and list(on_merge.json()) == ["new_name"], on_merge.text
    assert _names(session, RENAMED)["07210"] == ("Phường Bắc Giang", "phường")
    assert _loaded_names(engine, RENAMED - timedelta(days=1))["07210"] == ("Phường Hoàng Văn Thụ", "phường")


# --- export --------------------------------------------------------------------------------------------

def test_renames_round_trip_through_export(
        cli: Cli, imported: Path, tmp_path: Path, other_database: tuple[Engine, Cli]) -> None:
    assert cli("export", tmp_path / "out.yaml").exit_code == 0
    exported = yaml.safe_load((tmp_path / "out.yaml").read_text(encoding="utf-8"))
    _, other_cli = other_database

    assert [c for c in exported["region_changes"] if c["kind"] == "rename"] == [
        {"region": "07210", "kind": "rename", "date": "2025-07-01", "new_name": "Phường Bắc Giang",
         "new_unit_type": "phường", "note": ""},
        {"region": "24", "kind": "rename", "date": "2025-07-01", "new_name": "Tỉnh Bắc Ninh",
         "note": "Nghị quyết 202/2025/QH15"},
        {"region": "07210", "kind": "rename", "date": "2026-01-01", "new_name": "Xã Bắc Giang",
         "new_unit_type": "xã", "note": ""}]
    again = other_cli("import", tmp_path / "out.yaml")
    assert again.exit_code == 0, again.output
    assert other_cli("export", tmp_path / "again.yaml").exit_code == 0
    assert yaml.safe_load((tmp_path / "again.yaml").read_text(encoding="utf-8")) == exported
    assert cli("import", tmp_path / "out.yaml").stdout.count("created 0, updated 0,") == 1


# --- the demo ------------------------------------------------------------------------------------------

def test_the_demo_shows_2025_names_today_and_legacy_names_in_2019(engine: Engine, session: Session) -> None:
    assert load_demo_if_empty(engine) is True
    unit = next(c for c in load_reorg_2025()["communes"] if c["code"] == "07210")
    today, before = _names(session, TODAY), _names(session, BEFORE)

    assert today["24"] == ("Tỉnh Bắc Ninh", "tỉnh") and before["24"] == ("Tỉnh Bắc Giang", "tỉnh")
    assert today["07210"] == (unit["name"], unit["type"]) == ("Phường Bắc Giang", "phường")
    assert before["07210"] == ("Phường Hoàng Văn Thụ", "phường")
    assert _loaded_names(engine, TODAY) == today and _loaded_names(engine, BEFORE) == before
    expected = {c["code"]: (c["name"], c["type"]) for c in load_reorg_2025()["communes"]}
    assert {code: named for code, named in today.items() if code != "24"} == expected

    settings = load_settings(None, environ={"INFRA_MONITOR_DATABASE__URL": url_of(engine)})
    rm = ReadModel(engine, settings, cache_ttl_s=0, clock=lambda: datetime(2026, 12, 2, 3, 0, tzinfo=UTC))
    names = {r.region_code: r.region_name for r in rm.sites(SiteFilter()).results}
    assert names["07210"] == "Phường Bắc Giang" and names["24"] == "Tỉnh Bắc Ninh"

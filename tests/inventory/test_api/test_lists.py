"""List and detail endpoints: NetBox pages, filters by id and natural key, search, brief, dated regions."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from tests.inventory.test_api.builders import province

# These tests only read: one database per backend for the whole module.


@pytest.fixture(scope="module")
def data(database: Engine) -> dict[str, Any]:
    with Session(database, expire_on_commit=False) as session:
        return province(session)


@pytest.fixture
def engine(database: Engine, data: dict[str, Any]) -> Engine:
    return database


def names(body: dict[str, Any], key: str = "name") -> list[str]:
    return [r[key] for r in body["results"]]


def test_list_is_a_netbox_page_with_absolute_next_and_previous_links(client: TestClient, data: dict) -> None:
    first = client.get("/api/dcim/devices/", params={"limit": 2}).json()
    assert first["count"] == 4
    assert first["previous"] is None
    assert first["next"] == "http://testserver/api/dcim/devices/?limit=2&offset=2"
    second = client.get(first["next"]).json()
    assert second["next"] is None
    assert second["previous"] == "http://testserver/api/dcim/devices/?limit=2"
    ids = [r["id"] for r in first["results"] + second["results"]]
    assert len(set(ids)) == 4


def test_page_links_keep_the_filters(client: TestClient, data: dict) -> None:
    body = client.get("/api/dcim/devices/", params={"role": "router", "limit": 1}).json()
    assert body["count"] == 3
    assert body["next"] == "http://testserver/api/dcim/devices/?role=router&limit=1&offset=1"


def test_bad_limit_is_a_400_naming_the_parameter(client: TestClient, data: dict) -> None:
    resp = client.get("/api/dcim/sites/", params={"limit": "many"})
    assert resp.status_code == 400
    assert resp.json() == {"limit": ["'many' is not an integer."]}


def test_filters_by_relation_id_and_by_relation_natural_key(client: TestClient, data: dict) -> None:
    lg = data["site-lg"]
    by_id = client.get("/api/dcim/devices/", params={"site_id": lg.id}).json()
    by_slug = client.get("/api/dcim/devices/", params={"site": "ubnd-lang-giang"}).json()
    assert sorted(names(by_id)) == sorted(names(by_slug)) == ["gw", "sw"]
    assert names(client.get("/api/dcim/sites/", params={"region": "7201"}).json()) == ["UBND xã Tân An"]
    assert names(client.get("/api/dcim/devices/", params={"role": "switch"}).json()) == ["sw"]
    assert names(client.get("/api/circuits/circuits/", params={"provider": "vnpt"}).json(), "cid") == [
        "TSLCD-LG-01"
    ]
    both = client.get("/api/dcim/devices/", params=[("site", "dc-bac-giang"), ("site", "ubnd-tan-an")]).json()
    assert sorted(names(both)) == ["core-router", "gw"]


def test_filters_by_choice_fields_and_null(client: TestClient, data: dict) -> None:
    communes = client.get("/api/dcim/sites/", params={"category": "commune"}).json()
    assert sorted(names(communes)) == ["UBND xã Tân An", "UBND xã Đào Mỹ"]
    planned = client.get("/api/dcim/sites/", params={"category": "commune", "status": "active"}).json()
    assert names(planned) == ["UBND xã Tân An"]
    no_tenant = client.get("/api/dcim/sites/", params={"tenant_id": "null"}).json()
    assert no_tenant["count"] == 3
    not_router = client.get("/api/dcim/devices/", params={"role__n": "router"}).json()
    assert names(not_router) == ["sw"]


def test_unknown_filter_is_a_400_naming_it(client: TestClient, data: dict) -> None:
    resp = client.get("/api/dcim/sites/", params={"regoin": "24"})
    assert resp.status_code == 400
    body = resp.json()
    assert list(body) == ["regoin"]
    assert "Unknown filter" in body["regoin"][0]
    assert "region" in body["regoin"][0]


def test_malformed_filter_value_is_a_400(client: TestClient, data: dict) -> None:
    resp = client.get("/api/dcim/devices/", params={"site_id": "three"})
    assert resp.status_code == 400
    assert resp.json() == {"site_id": ["'three' is not an integer."]}


@pytest.mark.parametrize("query", ["lang giang", "Lạng Giang", "LANG-GIANG", "lạng"])
def test_q_finds_vietnamese_names_with_or_without_diacritics(client: TestClient, data: dict, query: str) -> None:
    sites = client.get("/api/dcim/sites/", params={"q": query}).json()
    assert names(sites) == ["UBND huyện Lạng Giang"]
    regions = client.get("/api/dcim/regions/", params={"q": query}).json()
    assert names(regions) == ["Lạng Giang"]


def test_q_with_d_stroke_matches_plain_d(client: TestClient, data: dict) -> None:
    assert names(client.get("/api/dcim/sites/", params={"q": "dao my"}).json()) == ["UBND xã Đào Mỹ"]


def test_brief_returns_only_identifying_fields(client: TestClient, data: dict) -> None:
    body = client.get("/api/dcim/sites/", params={"brief": "true", "slug": "dc-bac-giang"}).json()
    assert body["results"] == [{
        "id": data["dc"].id,
        "url": f"http://testserver/api/dcim/sites/{data['dc'].id}/",
        "display": "Trung tâm tích hợp dữ liệu",
        "slug": "dc-bac-giang",
        "name": "Trung tâm tích hợp dữ liệu",
    }]


def test_relations_are_nested_brief_objects_whose_urls_resolve(client: TestClient, data: dict) -> None:
    gw = client.get(f"/api/dcim/devices/{data['gw-lg'].id}/").json()
    assert gw["site"] == {
        "id": data["site-lg"].id,
        "url": f"http://testserver/api/dcim/sites/{data['site-lg'].id}/",
        "display": "UBND huyện Lạng Giang",
        "slug": "ubnd-lang-giang",
        "name": "UBND huyện Lạng Giang",
    }
    assert gw["role"]["slug"] == "router"
    assert gw["primary_ip"]["address"] == "10.24.0.2/30"
    assert gw["platform"] is None
    assert "site_id" not in gw and "role_id" not in gw
    for nested in (gw["site"], gw["role"], gw["primary_ip"], gw["snmp_profile"]):
        target = client.get(nested["url"])
        assert target.status_code == 200
        assert target.json()["id"] == nested["id"]


def test_missing_object_is_a_404(client: TestClient, data: dict) -> None:
    resp = client.get("/api/dcim/sites/999999/")
    assert resp.status_code == 404
    assert resp.json() == {"detail": "Not found."}


def test_region_list_as_of_gives_the_structure_valid_that_day(client: TestClient, data: dict) -> None:
    before = client.get("/api/dcim/regions/", params={"as_of": "2024-12-31", "limit": 100}).json()
    assert sorted(names(before)) == ["Bắc Giang", "Lạng Giang", "Tân An", "Yên Thế", "Đào Mỹ"]
    parents_before = {r["name"]: (r["parent"] or {}).get("code") for r in before["results"]}
    assert parents_before == {"Bắc Giang": None, "Lạng Giang": "24", "Yên Thế": "24", "Tân An": "213",
                              "Đào Mỹ": "213"}
    after = client.get("/api/dcim/regions/", params={"as_of": "2025-07-01"}).json()
    assert {r["name"]: (r["parent"] or {}).get("code") for r in after["results"]} == {
        "Bắc Giang": None, "Đào Mỹ": "24"
    }


def test_region_children_at_a_date(client: TestClient, data: dict) -> None:
    old = client.get("/api/dcim/regions/", params={"parent": "213", "as_of": "2020-01-01"}).json()
    assert sorted(names(old)) == ["Tân An", "Đào Mỹ"]
    new = client.get("/api/dcim/regions/", params={"parent": "24", "as_of": "2025-08-01"}).json()
    assert names(new) == ["Đào Mỹ"]


def test_as_of_is_refused_where_nothing_is_dated(client: TestClient, data: dict) -> None:
    resp = client.get("/api/dcim/sites/", params={"as_of": "2024-01-01"})
    assert resp.status_code == 400
    assert list(resp.json()) == ["as_of"]


def test_ordering_by_a_column_descending(client: TestClient, data: dict) -> None:
    body = client.get("/api/dcim/sites/", params={"ordering": "-slug"}).json()
    assert names(body, "slug") == sorted(names(body, "slug"), reverse=True)

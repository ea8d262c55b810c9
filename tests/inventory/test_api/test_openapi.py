"""Every inventory table has its endpoints, documented in OpenAPI with a tag per domain."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel.main import default_registry

from inventory.models import InventoryModel, ObjectChange
from web.api.inventory.resources import REGISTRY

DOMAINS = {"dcim", "circuits", "ipam", "tenancy", "vc", "extras"}


@pytest.fixture
def engine(database: Engine) -> Engine:
    return database  # these tests read no rows


@pytest.fixture
def spec(client: TestClient) -> dict[str, Any]:
    resp = client.get("/api/openapi.json")
    assert resp.status_code == 200
    return resp.json()


def test_every_inventory_table_has_an_endpoint() -> None:
    tables = {m.class_ for m in default_registry.mappers
              if issubclass(m.class_, InventoryModel) or m.class_ is ObjectChange}
    assert tables - set(REGISTRY.by_model) == set()


def test_each_resource_has_list_detail_and_write_operations(spec: dict[str, Any]) -> None:
    for res in REGISTRY.by_model.values():
        base, item = f"/api/{res.path}/", f"/api/{res.path}/{{obj_id}}/"
        expected_item = {"get"} if res.read_only else {"get", "put", "patch", "delete"}
        assert set(spec["paths"][base]) == ({"get"} if res.read_only else {"get", "post"}), base
        assert set(spec["paths"][item]) == expected_item, item
        assert spec["paths"][base]["get"]["tags"] == [res.domain]


def test_operations_are_tagged_by_domain(spec: dict[str, Any]) -> None:
    tags = {t for path in spec["paths"].values() for op in path.values() for t in op.get("tags", [])}
    assert tags >= DOMAINS


def test_responses_and_bodies_are_documented(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    site = schemas["SiteOut"]["properties"]
    assert site["region"]["anyOf"][0]["$ref"] == "#/components/schemas/RegionBrief"
    assert "region_id" not in site
    page = spec["paths"]["/api/dcim/sites/"]["get"]["responses"]["200"]["content"]["application/json"]
    assert page["schema"]["$ref"] == "#/components/schemas/PaginatedSiteList"
    body = spec["paths"]["/api/dcim/sites/"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert set(body["required"]) == {"slug", "name", "category"}
    assert body["additionalProperties"] is False
    profile = schemas["SnmpProfileOut"]["properties"]
    assert "community" not in profile and profile["community_set"]["type"] == "boolean"


def test_swagger_ui_is_served(client: TestClient) -> None:
    resp = client.get("/api/docs")
    assert resp.status_code == 200
    assert "swagger" in resp.text.lower()


def test_the_change_log_cannot_be_written(client: TestClient, auth: dict) -> None:
    assert client.post("/api/extras/object-changes/", headers=auth, json={}).status_code == 405

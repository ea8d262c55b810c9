"""Writes: references by id or natural key, 400 messages per field, PUT/PATCH, 409 on referenced deletes."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from tests.inventory.test_api.builders import province


@pytest.fixture
def data(session: Session) -> dict[str, Any]:
    return province(session)


def test_create_site_with_region_by_code_and_tenant_by_id(client: TestClient, auth: dict, data: dict) -> None:
    resp = client.post("/api/dcim/sites/", headers=auth, json={
        "slug": "ubnd-yen-the", "name": "UBND huyện Yên Thế", "category": "district",
        "region": "215", "tenant": data["ubnd-lg"].id, "latitude": 21.52, "longitude": 106.12,
    })
    assert resp.status_code == 201, resp.text
    site = resp.json()
    assert site["region"]["code"] == "215"
    assert site["tenant"]["slug"] == "ubnd-lang-giang"
    assert site["status"] == "active"
    assert client.get(site["url"]).json() == site


def test_invalid_values_are_a_400_with_a_message_per_field(client: TestClient, auth: dict, data: dict) -> None:
    resp = client.post("/api/dcim/sites/", headers=auth, json={
        "slug": "bad slug", "name": "X", "category": "village", "latitude": 120.0, "longitude": 106.0,
    })
    assert resp.status_code == 400
    errors = resp.json()
    assert set(errors) == {"slug", "category", "latitude"}
    assert "valid slug" in errors["slug"][0]
    assert "allowed: datacenter, department, district, commune, unit" in errors["category"][0]
    assert "between -90 and 90" in errors["latitude"][0]
    assert client.get("/api/dcim/sites/", params={"name": "X"}).json()["count"] == 0


def test_wrong_types_and_lengths_are_a_400_per_field(client: TestClient, auth: dict, data: dict) -> None:
    resp = client.post("/api/dcim/sites/", headers=auth, json={
        "slug": "ok", "name": "N" * 201, "category": "unit", "latitude": "north",
    })
    assert resp.status_code == 400
    errors = resp.json()
    assert errors["name"] == ["String should have at most 200 characters."]
    assert "valid number" in errors["latitude"][0]


def test_missing_required_fields_are_named(client: TestClient, auth: dict, data: dict) -> None:
    resp = client.post("/api/dcim/devices/", headers=auth, json={"name": "lonely"})
    assert resp.status_code == 400
    assert resp.json() == {"site": ["This field is required."], "role": ["This field is required."]}


def test_unknown_body_fields_are_a_400_naming_them(client: TestClient, auth: dict, data: dict) -> None:
    resp = client.post("/api/dcim/sites/", headers=auth, json={
        "slug": "x", "name": "X", "category": "unit", "site_id": 1, "colour": "red",
    })
    assert resp.status_code == 400
    errors = resp.json()
    assert set(errors) == {"site_id", "colour"}
    assert errors["colour"][0].startswith("Unknown field.")
    assert "region" in errors["colour"][0]


def test_body_that_is_not_a_json_object_is_a_400(client: TestClient, auth: dict, data: dict) -> None:
    not_json = client.post("/api/dcim/sites/", headers={**auth, "Content-Type": "application/json"},
                           content=b"{slug: x")
    assert not_json.status_code == 400
    assert not_json.json() == {"non_field_errors": ["The request body is not valid JSON."]}
    a_list = client.post("/api/dcim/sites/", headers=auth, json=[{"slug": "x"}])  # NetBox bulk create: per object
    assert a_list.status_code == 400
    assert a_list.json() == [{"name": ["This field is required."], "category": ["This field is required."]}]
    a_scalar = client.post("/api/dcim/sites/", headers=auth, json="x")
    assert a_scalar.status_code == 400
    assert list(a_scalar.json()) == ["non_field_errors"]


def test_reference_to_a_missing_object_is_a_400_on_that_field(client: TestClient, auth: dict, data: dict) -> None:
    resp = client.post("/api/dcim/devices/", headers=auth, json={"site": "nowhere", "name": "r1", "role": 9999})
    assert resp.status_code == 400
    assert resp.json() == {"site": ["No site with slug 'nowhere'."], "role": ["No device role with id 9999."]}


def test_reference_by_natural_key_object_and_ambiguous_name(client: TestClient, auth: dict, data: dict) -> None:
    by_object = client.post("/api/dcim/interfaces/", headers=auth, json={
        "device": {"site": "ubnd-lang-giang", "name": "gw"}, "name": "Gi0/0/1",
    })
    assert by_object.status_code == 201, by_object.text
    assert by_object.json()["device"]["id"] == data["gw-lg"].id
    ambiguous = client.post("/api/dcim/interfaces/", headers=auth, json={"device": "gw", "name": "Gi0/0/2"})
    assert ambiguous.status_code == 400
    assert "Several devices have name 'gw'" in ambiguous.json()["device"][0]


def test_duplicate_slug_is_a_400_on_slug(client: TestClient, auth: dict, data: dict) -> None:
    resp = client.post("/api/dcim/sites/", headers=auth, json={
        "slug": "dc-bac-giang", "name": "Another", "category": "unit",
    })
    assert resp.status_code == 400
    assert list(resp.json()) == ["slug"]
    assert "must be unique" in resp.json()["slug"][0]


def test_patch_changes_only_the_given_fields(client: TestClient, auth: dict, data: dict) -> None:
    url = f"/api/dcim/sites/{data['site-lg'].id}/"
    before = client.get(url).json()
    resp = client.patch(url, headers=auth, json={"status": "decommissioning", "tenant": None})
    assert resp.status_code == 200, resp.text
    after = resp.json()
    assert after["status"] == "decommissioning"
    assert after["tenant"] is None
    assert after["region"] == before["region"]
    assert after["name"] == before["name"]


def test_put_requires_the_required_fields_and_keeps_absent_optional_ones(
    client: TestClient, auth: dict, data: dict
) -> None:
    url = f"/api/dcim/sites/{data['site-lg'].id}/"
    incomplete = client.put(url, headers=auth, json={"name": "Renamed"})
    assert incomplete.status_code == 400
    assert set(incomplete.json()) == {"slug", "category"}
    full = client.put(url, headers=auth, json={"slug": "ubnd-lang-giang", "name": "Renamed", "category": "district"})
    assert full.status_code == 200
    assert full.json()["name"] == "Renamed"
    assert full.json()["tenant"]["slug"] == "ubnd-lang-giang"


def test_a_device_read_back_can_be_put_unchanged(client: TestClient, auth: dict, data: dict) -> None:
    url = f"/api/dcim/devices/{data['gw-lg'].id}/"
    device = client.get(url).json()
    read_only = {"id", "url", "display", "created", "last_updated"}
    body = {k: v for k, v in device.items() if k not in read_only}
    resp = client.put(url, headers=auth, json=body)
    assert resp.status_code == 200, resp.text
    assert {k: v for k, v in resp.json().items() if k != "last_updated"} == {
        k: v for k, v in device.items() if k != "last_updated"
    }


def test_read_only_fields_in_a_body_are_named_as_such(client: TestClient, auth: dict, data: dict) -> None:
    resp = client.patch(f"/api/extras/snmp-profiles/{data['snmp'].id}/", headers=auth,
                        json={"id": 5, "community_set": False, "port": 1161})
    assert resp.status_code == 400
    assert resp.json() == {"id": ["This field is read-only."], "community_set": ["This field is read-only."]}


def test_ids_beyond_the_integer_range_are_not_found(client: TestClient, auth: dict, data: dict) -> None:
    huge = 2**40
    assert client.get(f"/api/dcim/sites/{huge}/").status_code == 404
    assert client.get("/api/dcim/devices/", params={"site_id": huge}).status_code == 400
    resp = client.post("/api/dcim/devices/", headers=auth, json={
        "site": {"id": huge, "url": "x"}, "name": "r9", "role": huge,
    })
    assert resp.status_code == 400
    assert resp.json() == {"role": [f"No device role with id {huge}."]}
    resp = client.post("/api/dcim/devices/", headers=auth, json={"site": {"id": huge}, "name": "r9", "role": "router"})
    assert resp.json() == {"site": [f"No site with id {huge}."]}


def test_ip_host_is_derived_from_the_address_and_read_only(client: TestClient, auth: dict, data: dict) -> None:
    created = client.post("/api/ipam/ip-addresses/", headers=auth, json={"address": "10.24.9.7/24"})
    assert created.status_code == 201, created.text
    assert created.json()["host"] == "10.24.9.7"
    refused = client.post("/api/ipam/ip-addresses/", headers=auth, json={"address": "10.24.9.8/24", "host": "1.1.1.1"})
    assert refused.status_code == 400
    assert list(refused.json()) == ["host"]


def test_primary_ip_of_another_device_is_refused_on_primary_ip(client: TestClient, auth: dict, data: dict) -> None:
    resp = client.patch(f"/api/dcim/devices/{data['core'].id}/", headers=auth,
                        json={"primary_ip": "10.24.0.2/30"})
    assert resp.status_code == 400
    assert list(resp.json()) == ["primary_ip"]
    ok = client.patch(f"/api/dcim/devices/{data['core'].id}/", headers=auth, json={"primary_ip": "10.24.0.1/30"})
    assert ok.status_code == 200
    assert ok.json()["primary_ip"]["address"] == "10.24.0.1/30"


def test_writes_to_a_missing_object_are_404(client: TestClient, auth: dict, data: dict) -> None:
    assert client.patch("/api/dcim/sites/99999/", headers=auth, json={"name": "x"}).status_code == 404
    assert client.delete("/api/dcim/sites/99999/", headers=auth).status_code == 404


def test_deleting_a_site_with_devices_is_409_naming_them(client: TestClient, auth: dict, data: dict) -> None:
    resp = client.delete(f"/api/dcim/sites/{data['site-ta'].id}/", headers=auth)
    assert resp.status_code == 409
    body = resp.json()
    assert "still refer" in body["detail"]
    assert body["referenced_by"] == [{"object_type": "device", "id": data["gw-ta"].id, "display": "gw"}]
    assert client.get(f"/api/dcim/sites/{data['site-ta'].id}/").status_code == 200
    assert client.delete(f"/api/dcim/devices/{data['gw-ta'].id}/", headers=auth).status_code == 204
    assert client.delete(f"/api/dcim/sites/{data['site-ta'].id}/", headers=auth).status_code == 204
    assert client.get(f"/api/dcim/sites/{data['site-ta'].id}/").status_code == 404


def test_deleting_a_device_whose_interface_ends_a_circuit_is_409(client: TestClient, auth: dict, data: dict) -> None:
    resp = client.delete(f"/api/dcim/devices/{data['core'].id}/", headers=auth)
    assert resp.status_code == 409
    refs = resp.json()["referenced_by"]
    assert {r["object_type"] for r in refs} == {"circuit_termination"}
    assert {r["display"] for r in refs} == {f"side A of circuit #{data['circuit'].id}"}


def test_deleting_a_device_removes_its_interfaces_and_addresses(client: TestClient, auth: dict, data: dict) -> None:
    iface = client.post("/api/dcim/interfaces/", headers=auth, json={"device": data["gw-ta"].id, "name": "wan"})
    ip = client.post("/api/ipam/ip-addresses/", headers=auth,
                     json={"address": "10.24.5.1/30", "interface": iface.json()["id"]})
    assert ip.status_code == 201
    assert client.delete(f"/api/dcim/devices/{data['gw-ta'].id}/", headers=auth).status_code == 204
    assert client.get(iface.json()["url"]).status_code == 404
    assert client.get(ip.json()["url"]).status_code == 404


def _forbid_tag_deletes(engine: Engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text("CREATE TRIGGER keep_tags BEFORE DELETE ON tag "
                              "BEGIN SELECT RAISE(ABORT, 'tags are kept'); END"))
            return
        conn.execute(text("CREATE FUNCTION keep_tags() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                          "RAISE EXCEPTION 'tags are kept' USING ERRCODE = 'integrity_constraint_violation'; "
                          "END $$"))
        conn.execute(text("CREATE TRIGGER keep_tags BEFORE DELETE ON tag FOR EACH ROW EXECUTE FUNCTION keep_tags()"))


def _allow_tag_deletes(engine: Engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER keep_tags"))
        else:
            conn.execute(text("DROP TRIGGER keep_tags ON tag"))
            conn.execute(text("DROP FUNCTION keep_tags()"))


def test_database_refusal_of_a_delete_is_a_409_not_a_500(
    client: TestClient, auth: dict, data: dict, engine: Engine
) -> None:
    """A rule only the database knows (here a trigger) still ends as a 409 with the database's reason."""
    tag = client.post("/api/extras/tags/", headers=auth, json={"slug": "core", "name": "Core"})
    _forbid_tag_deletes(engine)
    try:
        resp = client.delete(tag.json()["url"], headers=auth)
    finally:
        _allow_tag_deletes(engine)
    assert resp.status_code == 409
    assert "tags are kept" in resp.json()["detail"]
    assert client.get(tag.json()["url"]).status_code == 200

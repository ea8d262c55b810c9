"""Every API write leaves ObjectChanges attributed to the token and sharing the request's id."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.inventory.test_api.builders import province

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


@pytest.fixture
def data(session: Session) -> dict[str, Any]:
    return province(session)


def changes(client: TestClient, request_id: str) -> list[dict[str, Any]]:
    return client.get("/api/extras/object-changes/", params={"request_id": request_id}).json()["results"]


def test_create_update_delete_are_logged_under_the_callers_request_id(
    client: TestClient, auth: dict, data: dict
) -> None:
    created = client.post("/api/extras/tags/", json={"slug": "backbone", "name": "Backbone"},
                          headers={**auth, "X-Request-ID": "req-create-1"})
    assert created.headers["X-Request-ID"] == "req-create-1"
    updated = client.patch(created.json()["url"], json={"name": "Trục chính"},
                           headers={**auth, "X-Request-ID": "req-update-1"})
    deleted = client.delete(created.json()["url"], headers={**auth, "X-Request-ID": "req-delete-1"})
    assert deleted.status_code == 204
    for request_id, action in (("req-create-1", "create"), ("req-update-1", "update"), ("req-delete-1", "delete")):
        [change] = changes(client, request_id)
        assert (change["action"], change["object_type"], change["object_id"]) == (
            action, "tag", created.json()["id"]
        )
        assert change["actor"] == "api:admin"
    [update] = changes(client, "req-update-1")
    assert update["prechange_data"]["name"] == "Backbone"
    assert update["postchange_data"]["name"] == updated.json()["name"] == "Trục chính"


def test_without_a_request_id_header_a_uuid_is_made_and_returned(client: TestClient, auth: dict, data: dict) -> None:
    resp = client.patch(f"/api/dcim/devices/{data['sw-lg'].id}/", json={"serial": "FDO2231X0AB"}, headers=auth)
    request_id = resp.headers["X-Request-ID"]
    assert UUID_RE.match(request_id)
    [change] = changes(client, request_id)
    assert change["object_id"] == data["sw-lg"].id


def test_an_unusable_request_id_header_is_replaced(client: TestClient, auth: dict, data: dict) -> None:
    resp = client.post("/api/extras/tags/", json={"slug": "t", "name": "T"},
                       headers={**auth, "X-Request-ID": "x" * 80})
    assert UUID_RE.match(resp.headers["X-Request-ID"])


def test_cascaded_deletes_share_the_request_id(client: TestClient, auth: dict, data: dict) -> None:
    iface = client.post("/api/dcim/interfaces/", headers=auth, json={"device": data["gw-ta"].id, "name": "wan"})
    client.post("/api/ipam/ip-addresses/", headers=auth,
                json={"address": "10.24.7.1/30", "interface": iface.json()["id"]})
    client.delete(f"/api/dcim/devices/{data['gw-ta'].id}/", headers={**auth, "X-Request-ID": "req-cascade"})
    logged = {(c["action"], c["object_type"]) for c in changes(client, "req-cascade")}
    assert logged == {("delete", "device"), ("delete", "interface"), ("delete", "ip_address")}


def test_a_refused_write_logs_nothing(client: TestClient, auth: dict, data: dict) -> None:
    client.post("/api/dcim/sites/", json={"slug": "bad slug", "name": "x", "category": "unit"},
                headers={**auth, "X-Request-ID": "req-refused"})
    client.delete(f"/api/dcim/sites/{data['site-ta'].id}/", headers={**auth, "X-Request-ID": "req-refused"})
    assert changes(client, "req-refused") == []

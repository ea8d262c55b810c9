"""``/api/ipam/services/``: NetBox-style CRUD over hosted services, validated by the model's rules.

Writes refuse what the import and the pages refuse (an http service without URL, a tcp service without ports,
a port out of range, an unknown kind) with ``{"field": ["message"]}``; lists filter by device, site, kind,
tenant, status and ``?q=``; a device with services cannot be deleted (409) and keeps them.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.inventory.test_api.builders import province

URL = "/api/ipam/services/"


@pytest.fixture
def data(session: Session) -> dict[str, Any]:
    return province(session)


def _portal(**over: Any) -> dict[str, Any]:
    return {"device": {"site": "dc-bac-giang", "name": "core-router"}, "name": "Cổng thông tin điện tử",
            "kind": "http", "http_url": "https://127.0.0.1:8443/", "expected_status": [200, 301],
            "tenant": "ubnd-lang-giang", "criticality": "critical", "counts_toward": "hosted_systems", **over}


def test_create_read_and_filter_services(client: TestClient, auth: dict, data: dict) -> None:
    portal = client.post(URL, headers=auth, json=_portal())
    assert portal.status_code == 201, portal.text
    body = portal.json()
    assert body["device"]["id"] == data["core"].id and body["tenant"]["slug"] == "ubnd-lang-giang"
    assert body["ports"] == [] and body["tls_expiry_warning_days"] == 14 and body["status"] == "active"
    assert body["monitoring_enabled"] is True and body["protocol"] == "tcp"
    ssh = client.post(URL, headers=auth, json={"device": data["gw-lg"].id, "name": "SSH", "kind": "tcp",
                                               "ports": [22, 2222]})
    assert ssh.status_code == 201, ssh.text
    dns = client.post(URL, headers=auth, json={"device": data["gw-lg"].id, "name": "DNS", "kind": "dns",
                                               "protocol": "udp", "ports": [53], "dns_name": "portal.example.vn",
                                               "dns_record_type": "A", "dns_expected": ["127.0.0.1"],
                                               "status": "planned"})
    assert dns.status_code == 201, dns.text

    def names(**params: Any) -> list[str]:
        resp = client.get(URL, params=params)
        assert resp.status_code == 200, resp.text
        return sorted(r["name"] for r in resp.json()["results"])

    assert names() == ["Cổng thông tin điện tử", "DNS", "SSH"]
    assert names(device_id=data["gw-lg"].id) == ["DNS", "SSH"]
    assert names(site="dc-bac-giang") == ["Cổng thông tin điện tử"]
    assert names(site_id=data["site-lg"].id) == ["DNS", "SSH"]
    assert names(kind="tcp") == ["SSH"]
    assert names(tenant="ubnd-lang-giang") == ["Cổng thông tin điện tử"]
    assert names(status="planned") == ["DNS"]
    assert names(q="example") == ["DNS"]
    assert names(q="cổng") == names(q="CONG thong") == ["Cổng thông tin điện tử"]
    assert client.get(URL, params={"ordering": "-name"}).json()["results"][0]["name"] == "SSH"
    assert client.get(URL, params={"ordering": "ports"}).status_code == 400  # JSON: not orderable
    assert client.get(f"{URL}{ssh.json()['id']}/").json()["ports"] == [22, 2222]


@pytest.mark.parametrize(("body", "field", "words"), [
    ({"kind": "http", "http_url": ""}, "http_url", "needs its URL"),
    ({"kind": "http", "http_url": "ftp://files.example.vn/"}, "http_url", "http:// or https://"),
    ({"kind": "tcp", "http_url": "", "ports": []}, "ports", "at least one port"),
    ({"kind": "tcp", "http_url": "", "ports": [22, 70000]}, "ports", "70000 is out of range"),
    ({"kind": "dns", "http_url": "", "ports": [53]}, "dns_name", "needs the name to resolve"),
    ({"kind": "smtp"}, "kind", "'smtp' is not a valid choice; allowed: tcp, http, dns"),
    ({"expected_status": [200, 700]}, "expected_status", "700 is out of range"),
    ({"tls_expiry_warning_days": -1}, "tls_expiry_warning_days", "greater than or equal to 0"),
    ({"criticality": "urgent"}, "criticality", "not a valid choice"),
    ({"counts_toward": "games"}, "counts_toward", "not a valid choice"),
])
def test_invalid_services_are_a_400_naming_the_field(client: TestClient, auth: dict, data: dict,
                                                     body: dict[str, Any], field: str, words: str) -> None:
    resp = client.post(URL, headers=auth, json=_portal(**body))
    assert resp.status_code == 400, resp.text
    errors = resp.json()
    assert field in errors, errors
    assert any(words in m for m in errors[field]), errors
    assert client.get(URL).json()["count"] == 0


def test_a_patch_is_validated_and_a_bad_one_changes_nothing(client: TestClient, auth: dict, data: dict) -> None:
    created = client.post(URL, headers=auth, json=_portal()).json()
    bad = client.patch(created["url"], headers=auth, json={"kind": "tcp"})
    assert bad.status_code == 400 and "ports" in bad.json()
    assert client.get(created["url"]).json()["kind"] == "http"
    ok = client.patch(created["url"], headers=auth, json={"expected_content": "Bắc Giang"})
    assert ok.status_code == 200 and ok.json()["expected_content"] == "Bắc Giang"


def test_names_are_unique_per_device(client: TestClient, auth: dict, data: dict) -> None:
    assert client.post(URL, headers=auth, json=_portal()).status_code == 201
    again = client.post(URL, headers=auth, json=_portal())
    assert again.status_code == 400 and "must be unique" in again.json()["name"][0]
    other = client.post(URL, headers=auth, json=_portal(device=data["gw-lg"].id))
    assert other.status_code == 201


def test_a_device_with_services_cannot_be_deleted(client: TestClient, auth: dict, data: dict) -> None:
    assert client.post(URL, headers=auth, json=_portal()).status_code == 201
    resp = client.delete(f"/api/dcim/devices/{data['core'].id}/", headers=auth)
    assert resp.status_code == 409, resp.text
    assert "service" in resp.text
    assert client.get(URL).json()["count"] == 1

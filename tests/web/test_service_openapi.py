"""The REST API's spec says what a service's lists hold: ``ports`` and ``expected_status`` are arrays of
integers in ``/api/openapi.json`` (request and response models), while a bad item still reaches the inventory
rule and its message (one truth about what is valid, whatever the writer); the status endpoint of a service is
documented beside the inventory one."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.web.builders import Province


def _schema(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The object schema: followed through ``$ref``, or the first of ``anyOf`` (one object or a list of them)."""
    if "anyOf" in schema:
        schema = schema["anyOf"][0]
    ref = schema.get("$ref")
    return spec["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else schema


def test_service_lists_of_numbers_are_arrays_of_integers_in_the_spec(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    post = spec["paths"]["/api/ipam/services/"]["post"]
    request = _schema(spec, post["requestBody"]["content"]["application/json"]["schema"])
    response = _schema(spec, post["responses"]["201"]["content"]["application/json"]["schema"])
    for model in (request, response):
        for field in ("ports", "expected_status"):
            prop = model["properties"][field]
            assert prop.get("type") == "array" and prop.get("items") == {"type": "integer"}, (field, prop)
    patch = _schema(spec, spec["paths"]["/api/ipam/services/{obj_id}/"]["patch"]["requestBody"]["content"]
                    ["application/json"]["schema"])
    ports = patch["properties"]["ports"]
    assert any(p.get("type") == "array" and p.get("items") == {"type": "integer"} for p in ports.get("anyOf", [ports]))
    status = spec["paths"]["/api/status/services/{service_id}"]["get"]["responses"]["200"]
    assert status["content"]["application/json"]["schema"]["$ref"].endswith("/ServiceStatus")


def test_a_bad_port_still_gets_the_inventory_rule_and_its_message(client: TestClient, province: Province) -> None:
    body = {"device": province.core, "name": "Cổng", "kind": "tcp"}
    word = client.post("/api/ipam/services/", json={**body, "ports": ["ssh"]})
    assert word.status_code == 400, word.text
    assert word.json() == {"ports": ["service 'Cổng': 'ssh' is not a port; give whole numbers 1..65535"]}
    far = client.post("/api/ipam/services/", json={**body, "ports": [70000]})
    assert far.status_code == 400
    assert far.json() == {"ports": ["service 'Cổng': port 70000 is out of range; it must be 1..65535"]}
    ok = client.post("/api/ipam/services/", json={**body, "ports": [443, 8443]})
    assert ok.status_code == 201 and ok.json()["ports"] == [443, 8443]

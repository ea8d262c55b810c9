"""What fuzzing the API against its OpenAPI spec found, one explicit test per defect (each failed before
its fix): server errors on values the spec allows, values the spec forbids that were accepted, and
answers the spec did not document."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.fuzz.conftest import ADMIN
from tests.web.builders import Province

BIG = "99999999999999999999"  # beyond SQLite's and PostgreSQL's 64-bit integers
MAX_ID = 2**63 - 1


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, ops in spec["paths"].items() if path.startswith("/api/")
            for method, op in ops.items()]


def _parameter(spec: dict[str, Any], path: str, name: str, method: str = "get") -> dict[str, Any]:
    found = [p for p in spec["paths"][path][method].get("parameters", []) if p["name"] == name]
    assert found, f"{method} {path} declares no {name}"
    return dict(found[0]["schema"])


def _body_property(spec: dict[str, Any], path: str, name: str, method: str = "post") -> dict[str, Any]:
    schema = spec["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    return dict(schema["properties"][name])


# --- server errors (500) on values the spec allows ------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/dcim/sites/", "/api/status/events/"])
def test_an_offset_beyond_64_bits_is_a_400_naming_it(api: TestClient, path: str) -> None:
    response = api.get(path, params={"offset": BIG})
    assert response.status_code == 400, response.text
    assert list(response.json()) == ["offset"]
    assert api.get(path, params={"offset": str(MAX_ID)}).json()["results"] == []  # the largest is a page


def test_an_event_filter_on_a_device_id_beyond_64_bits_names_no_device(api: TestClient) -> None:
    response = api.get("/api/status/events/", params={"device": BIG})
    assert response.status_code == 400, response.text
    assert response.json() == {"device": [f"no device with id {BIG}."]}


@pytest.mark.parametrize("since", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "01/01/0001"])
def test_events_since_the_edges_of_the_calendar_are_a_page(api: TestClient, since: str) -> None:
    response = api.get("/api/status/events/", params={"since": since})
    assert response.status_code == 200, response.text
    assert response.json()["count"] >= 0


@pytest.mark.parametrize(("param", "metric"), [("device", "rtt"), ("circuit", "util")])
def test_a_series_of_an_id_beyond_64_bits_is_a_422(api: TestClient, fuzz_province: Province, param: str,
                                                   metric: str) -> None:
    site = fuzz_province.commune_sites[0]
    response = api.get(f"/api/status/sites/{site}/series", params={"metric": metric, param: BIG})
    assert response.status_code == 422, response.text


# --- values the spec forbids, accepted ------------------------------------------------------------------------

@pytest.mark.parametrize(("field", "value", "message"), [
    ("speed_kbps", "5", "Input should be a valid integer."),
    ("enabled", 1, "Input should be a valid boolean."),
    ("enabled", "true", "Input should be a valid boolean."),
])
def test_an_inventory_write_takes_json_types_as_the_spec_says(api: TestClient, fuzz_province: Province, field: str,
                                                              value: object, message: str) -> None:
    interface = fuzz_province.commune_interfaces[0]
    response = api.patch(f"/api/dcim/interfaces/{interface}/", json={field: value})
    assert response.status_code == 400, response.text
    assert response.json() == {field: [message]}
    assert api.patch(f"/api/dcim/interfaces/{interface}/", json={"speed_kbps": 5.0}).json()["speed_kbps"] == 5


@pytest.mark.parametrize("value", [0, "2020-01-01T00:00:00"])
def test_a_date_is_a_yyyy_mm_dd_string_not_a_timestamp(api: TestClient, fuzz_province: Province,
                                                        value: object) -> None:
    circuit = fuzz_province.commune_circuits[0]
    response = api.patch(f"/api/circuits/circuits/{circuit}/", json={"install_date": value})
    assert response.status_code == 400, response.text
    assert list(response.json()) == ["install_date"]


def test_true_is_not_the_id_of_object_one(api: TestClient, fuzz_province: Province) -> None:
    """pydantic's lax int read ``true`` as 1: the site was silently moved to region #1."""
    site = api.get("/api/dcim/sites/", params={"slug": fuzz_province.commune_sites[1]}).json()["results"][0]
    response = api.patch(f"/api/dcim/sites/{site['id']}/", json={"region": True})
    assert response.status_code == 400, response.text
    assert list(response.json()) == ["region"]
    assert api.get(f"/api/dcim/sites/{site['id']}/").json()["region"] == site["region"]


def test_a_maintenance_window_starts_at_a_time_not_at_a_number(api: TestClient) -> None:
    body = {"name": "fuzz", "scope_type": "all", "kind": "one_off", "start": 0, "end": "2000-01-01T00:00:00Z"}
    response = api.post("/api/status/maintenance/", json=body)
    assert response.status_code == 400, response.text
    assert list(response.json()) == ["start"]
    assert api.post("/api/status/maintenance/", json={**body, "duration_min": 2.0, "start": "1999-12-31T00:00:00Z"},
                    headers=ADMIN).status_code == 201  # 2.0 is an integer, as JSON Schema says


@pytest.mark.parametrize(("path", "query"), [
    ("/api/dcim/sites/", "limit=1&limit="),
    ("/api/status/events/", "kind=x&kind=flap_start"),
    ("/api/status/maintenance/", "offset=1&offset=2"),
])
def test_a_parameter_given_twice_is_a_400_not_the_last_value(api: TestClient, path: str, query: str) -> None:
    response = api.get(f"{path}?{query}")
    assert response.status_code == 400, response.text
    assert list(response.json()) == [query.split("=")[0]]


def test_a_status_parameter_given_twice_is_a_422(api: TestClient) -> None:
    assert api.get("/api/status/sites?limit=x&limit=5").status_code == 422
    assert api.get("/api/reports/coverage?from=2026-01-01&from=2026-01-02&to=2026-02-01").json() == {
        "from": ["Give this parameter once."]}


@pytest.mark.parametrize("limit", ["", " 5", "+5", "1_0", "٣"])
def test_limit_is_ascii_digits(api: TestClient, limit: str) -> None:
    response = api.get("/api/dcim/sites/", params={"limit": limit})
    assert response.status_code == 400, response.text
    assert response.json() == {"limit": [f"'{limit}' is not an integer."]}


# --- what the spec did not say ---------------------------------------------------------------------------------

def test_every_api_operation_documents_401_writes_403_and_all_503(spec: dict[str, Any]) -> None:
    for method, path, op in _operations(spec):
        codes = set(op["responses"])
        assert {"401", "503"} <= codes, f"{method} {path}: {sorted(codes)}"
        assert method == "get" or "403" in codes, f"{method} {path}: {sorted(codes)}"
    assert spec["components"]["securitySchemes"]["token"]["name"] == "Authorization"


def test_a_brief_page_is_a_documented_page(api: TestClient, spec: dict[str, Any]) -> None:
    items = spec["components"]["schemas"]["PaginatedSiteList"]["properties"]["results"]["items"]
    assert {"$ref": "#/components/schemas/SiteBrief"} in items["anyOf"]
    brief = api.get("/api/dcim/sites/", params={"brief": "true"}).json()["results"][0]
    assert set(brief) <= set(spec["components"]["schemas"]["SiteBrief"]["properties"])


@pytest.mark.parametrize("path", ["/api/status/sites/{slug}", "/api/status/sites/{slug}/series",
                                  "/api/status/devices/{device_id}", "/api/status/devices/{device_id}/series"])
def test_an_unknown_site_or_device_is_a_documented_404(spec: dict[str, Any], path: str) -> None:
    assert "404" in spec["paths"][path]["get"]["responses"]


def test_paging_and_ids_are_declared_integers_with_their_ranges(spec: dict[str, Any]) -> None:
    for path in ("/api/dcim/sites/", "/api/status/events/", "/api/status/maintenance/"):
        assert _parameter(spec, path, "limit") == {"type": "integer", "minimum": 0, "title": "Limit"}
        assert _parameter(spec, path, "offset")["maximum"] == MAX_ID
    for method in ("get", "put", "patch", "delete"):
        obj_id = _parameter(spec, "/api/dcim/sites/{obj_id}/", "obj_id", method)
        assert (obj_id["type"], obj_id["minimum"], obj_id["maximum"]) == ("integer", 1, MAX_ID)
    assert _parameter(spec, "/api/dcim/sites/", "brief")["anyOf"][0] == {"type": "boolean"}
    assert "name" in _parameter(spec, "/api/dcim/sites/", "ordering")["pattern"]


def test_choices_of_query_parameters_are_enums(spec: dict[str, Any]) -> None:
    assert "flap_start" in _parameter(spec, "/api/status/events/", "kind")["anyOf"][0]["enum"]
    assert "critical" in _parameter(spec, "/api/status/events/", "severity")["anyOf"][0]["enum"]
    assert "availability" in _parameter(spec, "/api/reports/{kind}", "kind")["enum"]
    assert "pdf" in _parameter(spec, "/api/reports/{kind}", "format")["anyOf"][0]["enum"]
    assert _parameter(spec, "/api/reports/{kind}", "threshold_pct")["anyOf"][0]["maximum"] == 100


def test_model_bounds_survive_the_column_range(spec: dict[str, Any]) -> None:
    """The INTEGER column range was appended after the field's own bound and replaced it in the spec."""
    speed = _body_property(spec, "/api/dcim/interfaces/", "speed_kbps")["anyOf"][0]
    assert (speed["minimum"], speed["maximum"]) == (0, 2**31 - 1)
    height = _body_property(spec, "/api/dcim/racks/", "u_height")
    assert (height["minimum"], height["maximum"]) == (1, 100)


def test_patching_a_window_documents_which_fields_may_be_null(spec: dict[str, Any]) -> None:
    properties = spec["paths"]["/api/status/maintenance/{window_id}/"]["patch"]["requestBody"]["content"][
        "application/json"]["schema"]["properties"]
    for name in ("name", "scope_type", "kind", "days", "tz", "comment"):
        assert {"type": "null"} not in properties[name].get("anyOf", []), name
    assert {"type": "null"} in properties["cron"]["anyOf"]


def test_a_405_lists_every_method_of_the_path(api: TestClient) -> None:
    response = api.request("TRACE", "/api/dcim/sites/")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"

"""``/api/status``: JSON for the overview, site lists, a site, a device and graph series, in the OpenAPI spec."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.web.builders import Province


def test_status_endpoints_are_documented_with_response_models(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    for path in ("/api/status/overview", "/api/status/sites", "/api/status/sites/{slug}",
                 "/api/status/sites/{slug}/series", "/api/status/devices/{device_id}",
                 "/api/status/devices/{device_id}/series"):
        schema = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert schema.get("$ref", "").startswith("#/components/schemas/"), path
    assert {"Overview", "SiteList", "SiteDetail", "DeviceDetail", "Series"} <= set(spec["components"]["schemas"])
    assert client.get("/api/docs").status_code == 200


def test_overview_json_counts_sites_and_devices_by_state(client: TestClient, province: Province) -> None:
    province.cut_district(1)
    ov = client.get("/api/status/overview").json()
    assert ov["sites"] == {"up": 7, "down": 1, "unreachable": 5, "unknown": 0, "maintenance": 0}
    assert ov["devices"]["unreachable"] == 10 and ov["devices"]["down"] == 1
    assert ov["problems"][0]["device_name"] == "d215-rt" and ov["problems"][0]["unreachable_behind"] == 10
    assert ov["freshness"]["stale"] is False and ov["province_name"] == "Bắc Giang"


def test_sites_json_filters_by_state_level_district_and_text(client: TestClient, province: Province) -> None:
    province.cut_district(0)
    body = client.get("/api/status/sites", params={"state": "unreachable", "district": "213"}).json()
    assert body["count"] == 5 and {s["state"] for s in body["results"]} == {"unreachable"}
    assert client.get("/api/status/sites", params={"q": "TAN SOI 007"}).json()["results"][0]["slug"] == "xa-007"
    page = client.get("/api/status/sites", params={"sort": "name", "limit": 3, "offset": 3}).json()
    assert page["count"] == 13 and len(page["results"]) == 3
    assert client.get("/api/status/sites", params={"state": "sideways"}).status_code == 422


def test_site_device_and_series_json(client: TestClient, province: Province) -> None:
    province.measurements([province.commune_routers[1]], hours=1)
    site = client.get("/api/status/sites/xa-001").json()
    assert site["site"]["state"] == "up" and [d["name"] for d in site["devices"]] == ["xa-001-rt", "xa-001-vc"]
    device = client.get(f"/api/status/devices/{province.commune_routers[1]}").json()
    assert device["device"]["name"] == "xa-001-rt" and device["site"]["slug"] == "xa-001"
    assert {i["name"] for i in device["interfaces"]} == {"Loopback0", "Gi0/0/0"}
    series = client.get("/api/status/sites/xa-001/series", params={"metric": "rtt", "period": "24h"}).json()
    assert series["subject"] == "xa-001-rt" and {line["key"] for line in series["lines"]} == {
        "rtt_min", "rtt_avg", "rtt_max"}
    dev_series = client.get(f"/api/status/devices/{province.commune_routers[1]}/series?metric=loss").json()
    assert dev_series["lines"][0]["key"] == "loss"
    assert client.get("/api/status/sites/xa-001/series?metric=jitter").status_code == 422
    assert client.get("/api/status/sites/nope").status_code == 404
    assert client.get("/api/status/sites/nope/series").status_code == 404
    assert client.get("/api/status/devices/424242").status_code == 404

"""Specification of /api/status/problems: lists with filters and pages, one problem with members and
history, acknowledge/unacknowledge/assign/comment by operators only, 400 naming the field, 404."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.users import bearer, ensure_user, token_for
from tests.web.builders import Province
from tests.web.problems_setup import behind, observe, outage, sweep


def _open_two(province: Province) -> None:
    outage(province, 0, minutes=-30)
    sweep(province, observe(province, province.district_routers[0], *behind(province, 0),
                            province.district_routers[1], *behind(province, 1)), -10)


def test_problems_list_open_first_with_filters_and_pages(client: TestClient, province: Province) -> None:
    _open_two(province)
    sweep(province, observe(province, province.district_routers[1], *behind(province, 1)), -2)  # 213 recovers
    body = client.get("/api/status/problems").json()
    assert body["count"] == 1 and body["previous"] is None and body["next"] is None
    [p] = body["results"]
    assert (p["device"], p["site"], p["level"], p["district"], p["state"]) == (
        "d215-rt", "ubnd-215", "district", "Huyện Yên Thế", "open")
    assert (p["members_now"], p["peak_members"], p["acknowledged"], p["resolved_at"]) == (10, 10, False, None)
    every = client.get("/api/status/problems", params={"state": "all", "limit": "1"}).json()
    assert every["count"] == 2 and "offset=1" in every["next"]
    assert every["results"][0]["state"] == "open"
    [old] = client.get("/api/status/problems", params={"state": "resolved"}).json()["results"]
    assert (old["device"], old["resolve_reason"]) == ("d213-rt", "recovered")
    assert old["duration_s"] == 28 * 60   # opened 30 min ago, resolved 2 min ago
    assert client.get("/api/status/problems", params={"state": "all", "district": "d-213"}).json()["count"] == 1
    assert client.get("/api/status/problems", params={"state": "all", "district": "215"}).json()["count"] == 1
    assert client.get("/api/status/problems", params={"state": "all", "level": "commune"}).json()["count"] == 0
    assert client.get("/api/status/problems", params={"state": "all", "site": "ubnd-215"}).json()["count"] == 1
    assert client.get("/api/status/problems", params={"acknowledged": "true"}).json()["count"] == 0


def test_bad_filters_are_400_naming_each_field(client: TestClient, province: Province) -> None:
    bad = client.get("/api/status/problems", params={"district": "nowhere", "since": "yesterday"})
    assert bad.status_code == 400
    assert set(bad.json()) == {"district", "since"}
    for enumerated in ({"state": "closed"}, {"level": "moon"}):  # enumerations in the schema: FastAPI's 422
        assert client.get("/api/status/problems", params=enumerated).status_code == 422
    assert client.get("/api/status/problems", params={"acknowledged": "maybe"}).status_code == 422  # a boolean
    assert client.get("/api/status/problems", params={"acknowledged": "false"}).status_code == 200


def test_operator_acknowledges_assigns_and_comments_and_the_history_names_them(
    client: TestClient, engine: Engine, province: Province
) -> None:
    outage(province)
    [p] = client.get("/api/status/problems").json()["results"]
    ensure_user(engine, "tuan", "operator")
    op = bearer(token_for(engine, "lan", "operator"))
    url = f"/api/status/problems/{p['id']}"
    acked = client.post(url + "/acknowledge", json={"comment": "VNPT đang xử lý"}, headers=op)
    assert acked.status_code == 200, acked.text
    assert (acked.json()["acknowledged"], acked.json()["ack_by"], acked.json()["ack_comment"]) == (
        True, "lan", "VNPT đang xử lý")
    assert client.post(url + "/assign", json={"assignee": "tuan"}, headers=op).json()["assignee"] == "tuan"
    assert client.post(url + "/comment", json={"comment": "đội kỹ thuật đã tới"}, headers=op).status_code == 200
    assert client.post(url + "/unacknowledge", headers=op).json()["acknowledged"] is False
    one = client.get(url).json()
    assert [(h["action"], h["actor"].split()[0]) for h in one["history"]] == [
        ("opened", "system"), ("acknowledged", "lan"), ("assigned", "lan"), ("commented", "lan"),
        ("unacknowledged", "lan")]
    assert one["history"][1]["comment"] == "VNPT đang xử lý"
    assert len(one["members"]) == 5 * 2 and all(m["until"] is None for m in one["members"])
    assert client.get("/api/status/problems", params={"acknowledged": "false"}).json()["count"] == 1


def test_writes_need_the_operator_role_and_valid_fields(client: TestClient, engine: Engine,
                                                        province: Province) -> None:
    outage(province)
    [p] = client.get("/api/status/problems").json()["results"]
    url = f"/api/status/problems/{p['id']}"
    viewer = bearer(token_for(engine, "xem", "viewer"))
    assert client.get(url, headers=viewer).status_code == 200
    assert client.post(url + "/acknowledge", json={}, headers=viewer).status_code == 403
    op = bearer(token_for(engine, "lan", "operator"))
    assert client.post(url + "/comment", json={}, headers=op).json() == {"comment": ["This field is required."]}
    assert client.post(url + "/comment", json={"comment": "  "}, headers=op).status_code == 400
    assert client.post(url + "/acknowledge", json={"comment": 5}, headers=op).json() == {
        "comment": ["Must be a string."]}
    assert client.post(url + "/acknowledge", json={"note": "x"}, headers=op).json()["note"][0].startswith("Unknown")
    assert client.post(url + "/acknowledge", json={"comment": "x" * 1001}, headers=op).status_code == 400
    assert client.post(url + "/assign", json={"assignee": "ghost"}, headers=op).json() == {
        "assignee": ["No user named 'ghost'."]}
    assert client.post("/api/status/problems/99999/acknowledge", json={}, headers=op).status_code == 404
    assert client.get("/api/status/problems/99999").status_code == 404
    assert client.get(url).json()["history"][-1]["action"] == "opened"   # nothing refused was written
    anonymous = TestClient(client.app)
    assert anonymous.get("/api/status/problems").status_code == 401

"""Events and maintenance windows through the REST API (``/api/status/events/``, ``/api/status/maintenance/``).

The app is built once per module with an admin token and once without (route setup is slow) and pointed at
each test's copy of the database (tests/status/windows_db.py). Naive times in requests are GMT+7.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from infra_monitor.config import load_settings
from infra_monitor.db import make_engine
from infra_monitor.status.store.models import MaintenanceWindowRow
from inventory.models import ObjectChange
from tests.status.inventory import Province
from tests.status.windows_db import HCM, Db, build_template, changes, copy_of, insert_events, minute, windows
from tests.users import token_for
from web.app import create_app

TOKEN = "maintenance-api-t0ken"
AUTH = {"Authorization": f"Token {TOKEN}"}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Province]:
    path = tmp_path_factory.mktemp("template") / "template.db"
    return path, build_template(path)


@pytest.fixture
def db(template: tuple[Path, Province], tmp_path: Path) -> Iterator[Db]:
    copy = copy_of(*template, tmp_path)
    yield copy
    copy.engine.dispose()


def _app(url: str, token: str) -> FastAPI:
    env = {"INFRA_MONITOR_DATABASE__URL": url, "INFRA_MONITOR_WEB__ADMIN_TOKEN": token}
    return create_app(load_settings(None, environ=env), make_engine(url))


@pytest.fixture(scope="module")
def apps(template: tuple[Path, Province]) -> dict[str, FastAPI]:
    url = f"sqlite:///{template[0]}"
    return {"token": _app(url, TOKEN), "none": _app(url, "")}


@pytest.fixture
def api(apps: dict[str, FastAPI], db: Db) -> TestClient:
    apps["token"].state.engine = db.engine
    return TestClient(apps["token"], headers={"Authorization": f"Token {TOKEN}"})


@pytest.fixture
def read_only_api(apps: dict[str, FastAPI], db: Db) -> TestClient:
    apps["none"].state.engine = db.engine
    return TestClient(apps["none"])


def _one_off(start: datetime, end: datetime, **extra: Any) -> dict[str, Any]:
    body = {"name": "Cắt điện", "scope_type": "site", "scope": "yen-the", "kind": "one_off",
            "start": start.astimezone(HCM).replace(tzinfo=None).isoformat(),
            "end": end.astimezone(HCM).replace(tzinfo=None).isoformat()}
    return {**body, **extra}


def test_api_creates_lists_changes_and_deletes_a_window_with_the_token(api: TestClient, db: Db) -> None:
    now = minute(datetime.now(HCM))
    created = api.post("/api/status/maintenance/", json=_one_off(now - timedelta(hours=1), now + timedelta(hours=1)),
                       headers={**AUTH, "X-Request-ID": "req-maint-1"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["scope_type"], body["scope_id"], body["scope"]) == ("site", db.province.district_site, "yen-the")
    assert body["active"] is True and body["created_by"] == "api:admin"
    assert datetime.fromisoformat(body["start"]) == now - timedelta(hours=1)  # naive input read as GMT+7

    page = api.get("/api/status/maintenance/").json()
    assert page["count"] == 1 and page["results"][0]["id"] == body["id"] and page["results"][0]["active"] is True
    assert api.get(f"/api/status/maintenance/{body['id']}/").json()["name"] == "Cắt điện"

    changed = api.patch(f"/api/status/maintenance/{body['id']}/", headers=AUTH,
                        json={"kind": "weekly", "days": ["sat"], "start_time": "22:00", "duration_min": 90,
                              "start": None, "end": None, "scope_type": "device", "scope_id": db.province.district})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["days"], changed.json()["scope"]) == ([5], "yen-the/yt-router")
    assert datetime.fromisoformat(changed.json()["next_start"]).astimezone(HCM).strftime("%a %H:%M") == "Sat 22:00"

    assert api.delete(f"/api/status/maintenance/{body['id']}/", headers=AUTH).status_code == 204
    assert api.get(f"/api/status/maintenance/{body['id']}/").status_code == 404
    assert windows(db) == []
    assert changes(db) == [("api:admin", a, body["id"]) for a in ("create", "update", "delete")]
    with Session(db.engine) as session:
        assert session.scalar(select(ObjectChange.request_id).where(ObjectChange.object_type == "maintenance_window")
                              .order_by(ObjectChange.id)) == "req-maint-1"


def test_api_lists_only_active_windows_when_asked(api: TestClient) -> None:
    now = minute(datetime.now(HCM))
    for name, offset in (("now", timedelta(0)), ("later", timedelta(days=3))):
        body = _one_off(now + offset - timedelta(hours=1), now + offset + timedelta(hours=1), name=name)
        assert api.post("/api/status/maintenance/", json=body, headers=AUTH).status_code == 201
    active = api.get("/api/status/maintenance/", params={"active": "true"}).json()
    inactive = api.get("/api/status/maintenance/", params={"active": "false"}).json()
    assert [w["name"] for w in active["results"]] == ["now"] and active["count"] == 1
    assert [w["name"] for w in inactive["results"]] == ["later"]
    assert api.get("/api/status/maintenance/", params={"active": "maybe"}).json() == {
        "active": ["'maybe' is not a boolean (true or false)."]}


def test_maintenance_writes_need_the_operator_role(read_only_api: TestClient, db: Db) -> None:
    now = datetime.now(HCM)
    body = _one_off(now, now + timedelta(hours=1))
    viewer = {"Authorization": f"Bearer {token_for(db.engine, 'xem', 'viewer')}"}
    operator = {"Authorization": f"Bearer {token_for(db.engine, 'van-hanh', 'operator')}"}
    refused = read_only_api.post("/api/status/maintenance/", json=body, headers=viewer)
    assert refused.status_code == 403 and "operator role" in refused.json()["detail"]
    assert read_only_api.get("/api/status/maintenance/", headers=viewer).status_code == 200
    assert windows(db) == []
    assert read_only_api.post("/api/status/maintenance/", json=body, headers=AUTH).status_code == 401
    made = read_only_api.post("/api/status/maintenance/", json=body, headers=operator)
    assert made.status_code == 201, made.text
    assert len(windows(db)) == 1


def test_api_writes_need_the_right_token(api: TestClient, db: Db) -> None:
    now = datetime.now(HCM)
    body = _one_off(now, now + timedelta(hours=1))
    assert api.post("/api/status/maintenance/", json=body, headers={"Authorization": ""}).status_code == 401
    assert api.post("/api/status/maintenance/", json=body, headers={"Authorization": "Token wrong"}).status_code == 401
    assert api.delete("/api/status/maintenance/1/", headers={"Authorization": "Token wrong"}).status_code == 401
    assert windows(db) == []


@pytest.mark.parametrize(("change", "errors"), [
    ({"end": "2026-12-01T21:00:00"}, {"end": ["end must be after start"]}),
    ({"scope": "khong-co"}, {"scope": ["no site with slug 'khong-co'"]}),
    ({"scope": None, "scope_id": 999_999}, {"scope_id": ["no site with id 999999"]}),
    ({"kind": "cron", "cron": "0 22 * *", "duration_min": 60},
     {"cron": ["invalid cron expression '0 22 * *': "
               "a cron expression has 5 fields (minute hour day month weekday), got 4"]}),
    ({"kind": "weekly", "days": ["mon", "someday"], "start_time": "22:00", "duration_min": 60},
     {"days": ["unknown weekday 'someday'; use mon,tue,wed,thu,fri,sat,sun (or t2…t7, cn)"]}),
    ({"kind": "weekly", "days": [], "duration_min": 60},
     {"days": ["days must be a non-empty list of 0 (Monday) … 6 (Sunday)"],
      "start_time": ["a weekly window needs start_time"]}),
    ({"tz": "Mars/Olympus"}, {"tz": ["unknown time zone 'Mars/Olympus'; use an IANA name such as Asia/Ho_Chi_Minh"]}),
    ({"colour": "red"}, {"colour": [
        "Unknown field. Accepted fields: name, scope_type, scope_id, scope, kind, start, end, days, start_time, "
        "duration_min, cron, tz, comment."]}),
    ({"name": ""}, {"name": ["String should have at least 1 character."]}),
])
def test_api_invalid_window_is_400_with_messages_per_field(api: TestClient, db: Db, change: dict[str, Any],
                                                           errors: dict[str, list[str]]) -> None:
    body = {**_one_off(datetime(2026, 12, 1, 22, 0, tzinfo=HCM), datetime(2026, 12, 2, 2, 0, tzinfo=HCM)), **change}
    result = api.post("/api/status/maintenance/", json=body, headers=AUTH)
    assert result.status_code == 400, result.text
    assert result.json() == errors
    assert windows(db) == [] and changes(db) == []


def test_api_patch_that_breaks_a_window_is_400_and_changes_nothing(api: TestClient, db: Db) -> None:
    body = _one_off(datetime(2026, 12, 1, 22, 0, tzinfo=HCM), datetime(2026, 12, 2, 2, 0, tzinfo=HCM))
    window_id = api.post("/api/status/maintenance/", json=body, headers=AUTH).json()["id"]
    result = api.patch(f"/api/status/maintenance/{window_id}/", json={"kind": "cron", "name": None}, headers=AUTH)
    assert result.status_code == 400
    assert result.json() == {"name": ["This field may not be null."]}
    result = api.patch(f"/api/status/maintenance/{window_id}/", json={"kind": "cron"}, headers=AUTH)
    assert set(result.json()) == {"duration_min", "cron"}
    assert [(w.kind, w.name) for w in windows(db)] == [("one_off", "Cắt điện")]
    assert api.patch("/api/status/maintenance/999/", json={"name": "x"}, headers=AUTH).status_code == 404


def test_removing_a_window_the_sweep_saw_active_ends_its_maintenance_in_the_log(api: TestClient, db: Db) -> None:
    now = datetime.now(HCM)
    window_id = api.post("/api/status/maintenance/", headers=AUTH,
                         json=_one_off(now - timedelta(hours=1), now + timedelta(hours=1))).json()["id"]
    with Session(db.engine) as session:
        row = session.get(MaintenanceWindowRow, window_id)
        assert row is not None
        row.active_since = datetime.now(UTC) - timedelta(minutes=30)
        session.commit()
    assert api.delete(f"/api/status/maintenance/{window_id}/", headers=AUTH).status_code == 204
    events = api.get("/api/status/events/", params={"kind": "maintenance_end"}).json()["results"]
    assert [(e["site"], e["message"]) for e in events] == [
        ("yen-the", "maintenance 'Cắt điện' ended (removed by api:admin)")]


def test_api_events_newest_first_with_filters_and_pages(api: TestClient, db: Db) -> None:
    insert_events(db)

    def got(**params: str) -> list[str]:
        response = api.get("/api/status/events/", params=params)
        assert response.status_code == 200, response.text
        return [e["message"].split()[0] for e in response.json()["results"]]

    first = api.get("/api/status/events/", params={"limit": "2"}).json()
    assert first["count"] == 5 and first["previous"] is None and "offset=2" in first["next"]
    assert [e["message"].split()[0] for e in first["results"]] == ["E5", "E4"]
    assert [e["message"].split()[0] for e in api.get(first["next"]).json()["results"]] == ["E3", "E2"]
    assert got(site="yen-the", kind="state_change") == ["E5", "E1"]
    assert got(device="yen-the/yt-router") == ["E5", "E1"]
    assert got(device=str(db.province.communes[0])) == ["E2"]
    assert got(severity="warning") == ["E3", "E2"]
    assert got(since="2026-01-01T08:25:00") == ["E5", "E4"]  # naive: GMT+7
    assert got(since="2026-01-01T01:05:00Z") == ["E5", "E4", "E3", "E2"]
    e2 = api.get("/api/status/events/", params={"kind": "state_change", "severity": "warning"}).json()["results"][0]
    assert (e2["root_cause"], e2["site"], e2["device"]) == ("yt-router", "xa-0", "xa-0/xa-0-router")

    bad = api.get("/api/status/events/", params={"kind": "reboot", "site": "nope", "limit": "-1"})
    assert bad.status_code == 400
    assert bad.json() == {
        "kind": ["'reboot' is not one of state_change, flap_start, flap_stop, maintenance_start, maintenance_end, "
                 "monitoring_started."],
        "site": ["no site with slug 'nope'."], "limit": ["Must be zero or positive."]}


def test_openapi_documents_events_and_maintenance(api: TestClient) -> None:
    spec = api.get("/api/openapi.json").json()
    paths = spec["paths"]
    assert set(paths["/api/status/maintenance/"]) == {"get", "post"}
    assert set(paths["/api/status/maintenance/{window_id}/"]) == {"get", "patch", "delete"}
    assert "get" in paths["/api/status/events/"]
    schemas = spec["components"]["schemas"]
    assert {"WindowOut", "WindowPage", "EventLogEntry", "EventLogPage"} <= set(schemas)
    assert "active" in schemas["WindowOut"]["properties"] and "next_start" in schemas["WindowOut"]["properties"]
    post = paths["/api/status/maintenance/"]["post"]
    assert "scope" in post["requestBody"]["content"]["application/json"]["schema"]["properties"]

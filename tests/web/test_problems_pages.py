"""The /problems pages, the grouped /events feed with the CLI's filters and the overview's problems panel,
through the real app (TestClient) on a province whose outage was driven through real sweeps."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.users import PASSWORD, ensure_user
from tests.web.builders import Province
from tests.web.problems_setup import observe, outage, sweep


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html[:300]
    return found.group(1)


@pytest.fixture
def browser_like(client: TestClient) -> Iterator[TestClient]:
    """A client of the same app without the admin token: it signs in through the form like a person."""
    with TestClient(client.app, follow_redirects=False) as c:
        yield c


def sign_in(c: TestClient, engine: Engine, username: str, role: str) -> None:
    ensure_user(engine, username, role)
    form = c.get("/login")
    resp = c.post("/login", data={"username": username, "password": PASSWORD, "next": "/",
                                  "csrf_token": _csrf(form.text)})
    assert resp.status_code == 303


def _problem_id(client: TestClient) -> int:
    return int(client.get("/api/status/problems").json()["results"][0]["id"])


def test_problems_page_lists_open_first_with_filters_and_a_history_view(client: TestClient,
                                                                        province: Province) -> None:
    outage(province, 0, minutes=-30)
    sweep(province, observe(province, province.district_routers[1]), -10)    # 213 back, 215 down alone
    html = client.get("/problems").text
    assert 'data-live-region id="problems-live"' in html
    rows = re.findall(r'<tr data-problem="(\d+)" data-state="(\w+)"', html)
    assert [s for _, s in rows] == ["open"]
    assert "d215-rt" in html and "d213-rt" not in html and "Chưa xác nhận" in html
    history = client.get("/problems", params={"state": "resolved"}).text
    assert "d213-rt" in history and "20 phút" in history and "đã hoạt động trở lại" in history
    every = client.get("/problems", params={"state": "all"}).text
    assert [s for _, s in re.findall(r'data-problem="(\d+)" data-state="(\w+)"', every)] == ["open", "resolved"]
    assert "d215-rt" not in client.get("/problems", params={"state": "all", "district": "213"}).text
    assert "d215-rt" not in client.get("/problems", params={"level": "commune"}).text
    en = client.get("/problems", params={"state": "all", "lang": "en"}).text
    assert "Problems" in en and "Not acknowledged" in en and "recovered" in en
    bad = client.get("/problems", params={"level": "moon"})
    assert bad.status_code == 200 and 'id="problem-filter-errors"' in bad.text and "d215-rt" in bad.text


def test_an_operator_acknowledges_assigns_and_comments_with_forms_and_csrf(
    client: TestClient, browser_like: TestClient, engine: Engine, province: Province
) -> None:
    outage(province)
    pid = _problem_id(client)
    ensure_user(engine, "tuan", "operator")
    sign_in(browser_like, engine, "lan", "operator")
    page = browser_like.get(f"/problems/{pid}").text
    assert 'id="ack-form"' in page and "xa-000-rt" in page
    token = _csrf(page)
    assert browser_like.post(f"/problems/{pid}/acknowledge", data={"comment": "đã báo VNPT"}).status_code == 403
    done = browser_like.post(f"/problems/{pid}/acknowledge", data={"comment": "đã báo VNPT", "csrf_token": token})
    assert done.status_code == 303 and done.headers["location"] == f"/problems/{pid}"
    browser_like.post(f"/problems/{pid}/assign", data={"assignee": "tuan", "csrf_token": token})
    browser_like.post(f"/problems/{pid}/comment", data={"comment": "đội đã tới trạm", "csrf_token": token})
    refused = browser_like.post(f"/problems/{pid}/assign", data={"assignee": "ghost", "csrf_token": token})
    assert refused.status_code == 422 and 'data-error="assignee"' in refused.text
    page = browser_like.get(f"/problems/{pid}").text
    assert "Đã xác nhận: lan" in page and "đã báo VNPT" in page and "đội đã tới trạm" in page
    assert 'id="unack-form"' in page and re.search(r'id="assignee">tuan<', page)
    assert [a for a in re.findall(r'data-action="(\w+)"', page)] == ["opened", "acknowledged", "assigned",
                                                                     "commented"]


def test_a_viewer_sees_the_problem_but_no_forms_and_cannot_post(
    client: TestClient, browser_like: TestClient, engine: Engine, province: Province
) -> None:
    outage(province)
    pid = _problem_id(client)
    sign_in(browser_like, engine, "xem", "viewer")
    page = browser_like.get(f"/problems/{pid}").text
    assert "d213-rt" in page and 'id="problem-actions"' not in page
    assert browser_like.post(f"/problems/{pid}/acknowledge", data={"csrf_token": _csrf(page)}).status_code == 403
    assert browser_like.get("/problems/99999").status_code == 404


def test_the_overview_links_each_problem_and_shows_its_acknowledgement(client: TestClient, engine: Engine,
                                                                       province: Province) -> None:
    outage(province)
    pid = _problem_id(client)
    body = client.get("/fragments/overview").text
    assert f'href="/problems/{pid}"' in body and 'data-ack="no"' in body
    client.post(f"/api/status/problems/{pid}/acknowledge", json={"comment": ""})
    body = client.get("/fragments/overview").text
    assert 'data-ack="yes"' in body and "Đã xác nhận: admin" in body


def test_the_event_feed_puts_the_root_cause_first_with_the_cut_off_devices_under_it(
    client: TestClient, province: Province
) -> None:
    outage(province)
    html = client.get("/events").text
    first = re.search(r'<tbody>\s*<tr (class="ev-group")? ?data-\w+="[^"]*"', html)
    assert first and first.group(1), html[html.find("<tbody>"):][:400]
    assert "10 thiết bị mất kết nối phía sau d213-rt" in html and "<details" in html
    flat = client.get("/events", params={"group": "none"}).text
    assert flat.count("<tr data-event=") == 11 and "<details" not in flat
    api = client.get("/api/status/events/", params={"group": "root"}).json()
    assert api["count"] == 11
    [group] = api["results"]
    assert group["event"]["device"] == "ubnd-213/d213-rt" and len(group["members"]) == 10
    assert client.get("/api/status/events/", params={"group": "tree"}).status_code == 400
    assert len(client.get("/api/status/events/").json()["results"]) == 11     # default: ungrouped as before


def test_the_events_page_has_the_cli_filters_in_the_url_and_older_pages_by_id(
    client: TestClient, province: Province
) -> None:
    outage(province)
    sweep(province, observe(province), -1)
    only_down = client.get("/events", params={"severity": "critical"}).text
    assert "d213-rt" in only_down and "xa-000-rt" not in only_down
    one_site = client.get("/events", params={"site": "xa-000", "group": "none"}).text
    assert one_site.count("<tr data-event=") == 4    # the router and the codec: cut off, then back
    page1 = client.get("/events", params={"device": "ubnd-213/d213-rt", "limit": "1"}).text
    older = re.search(r'href="([^"]+)" id="events-older"', page1)
    assert older and "device=ubnd-213%2Fd213-rt" in older.group(1) and "before=" in older.group(1)
    page2 = client.get(older.group(1).replace("&amp;", "&")).text
    assert page2.count("<tr data-event=") == 1 and 'id="events-older"' not in page2
    bad = client.get("/events", params={"kind": "reboot", "since": "hôm qua"}).text
    errors = re.search(r'id="event-filter-errors">([^<]*)<', bad)
    assert errors and "Loại sự kiện" in errors.group(1) and "Từ" in errors.group(1)


def test_the_overview_feed_groups_the_outage_and_the_first_start(client: TestClient, province: Province) -> None:
    from sqlalchemy import delete

    from infra_monitor.status.store.models import DeviceStatusRow

    with province.engine.begin() as conn:
        conn.execute(delete(DeviceStatusRow))  # a new database: nothing known yet
    sweep(province, observe(province), -30)  # the first sweep: every device from no data to UP
    outage(province)
    html = client.get("/?lang=en").text
    feed = html[html.index('id="h-events"'):]
    rows = re.findall(r"<tr (?:class=\"ev-group\" )?data-(?:root|event)=", feed[:feed.index("</tbody>")])
    assert len(rows) == 2  # the outage, then the start of monitoring: not 1 + 10 + 23 rows
    body = feed[feed.index("<tbody>"):]
    first = body[:body.index("</tr>")]
    assert 'class="ev-group"' in first and "d213-rt" in first and "<details" in first
    assert "Monitoring started for 23 devices" in feed
    api = client.get("/api/status/overview").json()
    assert len(api["feed"][0]["members"]) == 10
    assert api["feed"][1]["event"]["kind"] == "monitoring_started"


def test_the_cached_overview_never_carries_another_users_name_or_csrf_token(client: TestClient,
                                                                            engine: Engine) -> None:
    client.app.state.readmodel.cache.ttl_s = 30  # the production cache: one body for everyone
    with TestClient(client.app, follow_redirects=False) as a, TestClient(client.app, follow_redirects=False) as b:
        sign_in(a, engine, "alice", "operator")
        sign_in(b, engine, "bob", "viewer")
        alice_page, bob_page = a.get("/").text, b.get("/").text
        assert "alice" in alice_page and "alice" not in bob_page and "bob" in bob_page
        assert 'href="/reports"' in alice_page and 'href="/reports"' not in bob_page  # the menu of each role
        assert _csrf(alice_page) != _csrf(bob_page)
        assert b.post("/logout", data={"csrf_token": _csrf(bob_page)}).status_code == 303
        live = a.get("/", headers={"X-Live-Regions": "1"}).text
        assert "bob" not in live and "overview-live" in live


@pytest.mark.parametrize("path", ["/problems/99999999999999999999", "/problems?district=²",
                                  "/api/status/problems?district=²", "/wall?cycle=inf", "/wall?cycle=1e999",
                                  "/problems/1e3"])
def test_hostile_parameters_are_answered_not_crashed_on(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code in (200, 400, 404, 422), (path, r.status_code)
    big = client.post("/problems/99999999999999999999/acknowledge", data={"comment": "x"})
    assert big.status_code in (403, 404, 422), big.status_code

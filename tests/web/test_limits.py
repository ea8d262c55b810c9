"""Oversized requests are refused cheaply: bodies over ``web.max_body_bytes`` are 413 (from Content-Length
before reading, and while a chunked body streams), lists and objects over ``web.max_list_items`` (in a JSON body
or as a repeated query parameter) are 400 naming the field and the limit before any per-item database work,
and the tags of an object are checked with one query whatever their number. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, insert
from sqlalchemy.engine import Engine

from infra_monitor.config import Settings, WebConfig
from inventory.models import Tag
from tests.browser import served
from web.app import create_app

TOKEN = "t0ken-for-limit-tests"
AUTH = {"Authorization": f"Token {TOKEN}"}
MAX_BODY = 64 * 1024
MAX_ITEMS = 100


class Statements:
    """Counts the SQL statements the engine sends while active."""

    def __init__(self, engine: Engine) -> None:
        self.n = 0
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *_args: Any) -> None:
        self.n += 1


def _app(engine: Engine, **web: Any) -> Any:
    return create_app(Settings(web=WebConfig(admin_token=TOKEN, **web)), engine)


@pytest.fixture
def api(migrated_engine: Engine) -> Iterator[TestClient]:
    with migrated_engine.begin() as conn:
        conn.execute(insert(Tag.__table__), [{"slug": f"tag-{i}", "name": f"Tag {i}", "color": "9e9e9e",  # type: ignore[attr-defined]
                                               "custom_fields": {}} for i in range(MAX_ITEMS)])
    app = _app(migrated_engine, max_body_bytes=MAX_BODY, max_list_items=MAX_ITEMS)
    with TestClient(app, headers=AUTH) as client:
        yield client


def _tenant(slug: str, **extra: Any) -> dict[str, Any]:
    return {"slug": slug, "name": slug.upper(), **extra}


def test_body_declared_larger_than_the_limit_is_413_and_runs_nothing(api: TestClient,
                                                                      migrated_engine: Engine) -> None:
    counter = Statements(migrated_engine)
    body = json.dumps(_tenant("big")) + " " * MAX_BODY      # valid JSON, padded past the limit
    r = api.post("/api/tenancy/tenants/", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 413, r.text
    assert r.json() == {"detail": f"The request body is larger than the limit of {MAX_BODY} bytes "
                                  "(web.max_body_bytes); nothing was changed."}
    assert counter.n == 0                       # no session, no validation: refused at the door
    assert api.get("/api/tenancy/tenants/").json()["count"] == 0


def test_chunked_body_passing_the_limit_is_413(api: TestClient) -> None:
    def chunks() -> Iterator[bytes]:          # no Content-Length: Transfer-Encoding chunked
        yield b'{"slug": "big", "name": "Big"}'
        for _ in range(MAX_BODY // 1024 + 1):
            yield b" " * 1024

    r = api.post("/api/tenancy/tenants/", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and "web.max_body_bytes" in r.json()["detail"]
    assert api.get("/api/tenancy/tenants/").json()["count"] == 0


def test_body_within_the_limit_is_accepted(api: TestClient) -> None:
    r = api.post("/api/tenancy/tenants/", json=_tenant("ok", description="x" * 500))
    assert r.status_code == 201, r.text


def _http(base: str, head: bytes, body_parts: list[bytes]) -> bytes:
    """Send ``head`` then ``body_parts`` on a raw connection, never finishing the body; the answer read."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as s:
        s.sendall(head)
        for part in body_parts:
            s.sendall(part)
        s.shutdown(socket.SHUT_WR) if not body_parts else None
        answer = b""
        while b"\r\n\r\n" not in answer:
            data = s.recv(65536)
            if not data:
                break
            answer += data
        return answer


def test_a_real_server_refuses_before_the_body_is_sent(migrated_engine: Engine) -> None:
    """Headers announcing 100 MB and no body at all: the 413 comes without waiting for it."""
    with served(_app(migrated_engine, max_body_bytes=MAX_BODY)) as base:
        head = (b"POST /api/tenancy/tenants/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                b"Authorization: Token " + TOKEN.encode() + b"\r\nContent-Length: 100000000\r\n\r\n")
        answer = _http(base, head, [])
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def test_a_real_server_refuses_a_chunked_body_while_it_streams(migrated_engine: Engine) -> None:
    """A chunked body that passes the limit and never ends: the 413 comes as soon as the limit is passed."""
    with served(_app(migrated_engine, max_body_bytes=MAX_BODY)) as base:
        head = (b"POST /api/tenancy/tenants/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                b"Authorization: Token " + TOKEN.encode() + b"\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"x" * 4096
        parts = [b"%x\r\n%s\r\n" % (len(chunk), chunk)] * (MAX_BODY // len(chunk) + 2)   # no final 0-chunk
        answer = _http(base, head, parts)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def test_ten_million_tags_are_refused_without_a_query_per_tag(migrated_engine: Engine) -> None:
    """The reported attack: a 10,000,000-item ``tags`` list. Over the default 10 MiB it is a 413; a list of
    2,000,000 one-letter tags fits in the body limit and is a 400 naming the field, before any tag lookup."""
    counter = Statements(migrated_engine)
    with TestClient(_app(migrated_engine), headers=AUTH) as client:
        huge = client.post("/api/tenancy/tenants/", content=json.dumps(_tenant("a", tags=["a"] * 10_000_000)),
                           headers={"Content-Type": "application/json"})
        assert huge.status_code == 413, huge.text[:300]
        before = counter.n
        long = client.post("/api/tenancy/tenants/", content=json.dumps(_tenant("a", tags=["a"] * 2_000_000)),
                           headers={"Content-Type": "application/json"})
        assert long.status_code == 400, long.text[:300]
        assert long.json() == {"tags": ["At most 1000 items are accepted (web.max_list_items); got 2000000."]}
        assert counter.n - before <= 3          # at most the session's BEGIN/ROLLBACK: no lookup per tag


def test_list_field_over_the_limit_is_400_naming_it(api: TestClient) -> None:
    r = api.post("/api/tenancy/tenants/", json=_tenant("t", tags=[f"tag-{i % MAX_ITEMS}" for i in
                                                                range(MAX_ITEMS + 1)]))
    assert r.status_code == 400
    assert r.json() == {"tags": [f"At most {MAX_ITEMS} items are accepted (web.max_list_items); "
                                 f"got {MAX_ITEMS + 1}."]}


def test_nested_list_over_the_limit_is_named_with_its_location(api: TestClient) -> None:
    r = api.post("/api/tenancy/tenants/", json=_tenant("t", custom_fields={"rooms": list(range(MAX_ITEMS + 1))}))
    assert r.status_code == 400
    assert r.json() == {"custom_fields": [f"At most {MAX_ITEMS} items are accepted (web.max_list_items); "
                                          f"got {MAX_ITEMS + 1} (at custom_fields.rooms)."]}


def test_object_with_too_many_keys_is_400_without_an_error_per_key(api: TestClient) -> None:
    r = api.post("/api/tenancy/tenants/", json={f"k{i}": i for i in range(MAX_ITEMS + 1)})
    assert r.status_code == 400
    assert r.json() == {"non_field_errors": [f"At most {MAX_ITEMS} fields are accepted (web.max_list_items); "
                                             f"got {MAX_ITEMS + 1}."]}


def test_maintenance_days_over_the_limit_is_400(api: TestClient) -> None:
    r = api.post("/api/status/maintenance/", json={"name": "w", "kind": "weekly", "days": [0] * (MAX_ITEMS + 1)})
    assert r.status_code == 400
    assert list(r.json()) == ["days"] and f"At most {MAX_ITEMS} items" in r.json()["days"][0]


def test_a_query_parameter_repeated_too_often_is_400_naming_it(api: TestClient) -> None:
    query = "&".join(f"id={i}" for i in range(1, MAX_ITEMS + 2))
    r = api.get(f"/api/dcim/sites/?{query}")
    assert r.status_code == 400
    assert r.json() == {"id": [f"Given {MAX_ITEMS + 1} times; at most {MAX_ITEMS} values are accepted "
                               "(web.max_list_items)."]}
    assert api.get("/api/dcim/sites/?" + "&".join(f"id={i}" for i in range(1, MAX_ITEMS + 1))).status_code == 200


def _statements_to_create(api: TestClient, engine: Engine, slug: str, tags: list[str]) -> int:
    counter = Statements(engine)
    r = api.post("/api/tenancy/tenants/", json=_tenant(slug, tags=tags))
    assert r.status_code == 201, r.text
    assert r.json()["tags"] == tags
    event.remove(engine, "before_cursor_execute", counter._count)
    return counter.n


def test_tags_of_an_object_are_checked_with_one_query_whatever_their_number(api: TestClient,
                                                                             migrated_engine: Engine) -> None:
    few = _statements_to_create(api, migrated_engine, "few", ["tag-0", "tag-1"])
    many = _statements_to_create(api, migrated_engine, "many", [f"tag-{i}" for i in range(MAX_ITEMS)])
    assert many == few


def test_unknown_tags_are_still_named(api: TestClient) -> None:
    r = api.post("/api/tenancy/tenants/", json=_tenant("t", tags=["tag-1", "no-such-tag"]))
    assert r.status_code == 400
    assert r.json() == {"tags": ["tenant 'T': tag 'no-such-tag' does not exist; declare it in tags first"]}


@pytest.mark.parametrize("path", ["/inventory/devices?role=a%00b", "/events?site=%00", "/problems?site=x%00",
                                  "/api/status/problems?site=%00", "/api/dcim/sites/?q=%00", "/search?q=%00"])
def test_a_nul_character_in_a_query_parameter_is_refused_before_any_query(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 400, (path, r.status_code, r.text[:200])
    assert "NUL" in next(iter(r.json().values()))[0]

"""API writes under contention, against a real uvicorn server on each backend: concurrent writers never see a
5xx (writers queue for SQLite's write lock at ``BEGIN IMMEDIATE``), reads go on while another process holds
the write lock, a write that waits beyond the busy timeout answers 503 with Retry-After and changes nothing,
and a PostgreSQL backend terminated in the middle of a write does not lose it."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlmodel import col

from infra_monitor.config import DatabaseConfig, Settings, WebConfig
from infra_monitor.db import import_all_models, make_engine, upgrade
from inventory.models import ObjectChange, Tag
from tests.browser import served
from tests.core.dblocks import with_lock_timeout, write_lock
from web.app import create_app

TOKEN = "contention-admin-token"
AUTH = {"Authorization": f"Token {TOKEN}"}
WRITERS = 4
DURATION_S = {"sqlite": 10.0, "postgres": 4.0}  # SQLite is the contended one; PostgreSQL locks rows


def _backend(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgres"


@contextmanager
def live_api(url: str, busy_timeout_ms: int = 5000) -> Iterator[tuple[str, Engine]]:
    """The real app on a migrated database, served by uvicorn; yields its base URL and engine."""
    import_all_models()
    cfg = DatabaseConfig(url=url, busy_timeout_ms=busy_timeout_ms)
    engine = make_engine(cfg)
    upgrade(engine)
    app = create_app(Settings(database=cfg, web=WebConfig(admin_token=TOKEN)), engine)
    try:
        with served(app) as base:
            yield base, engine
    finally:
        engine.dispose()


@dataclass
class Tally:
    codes: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    expected: dict[str, str | None] = field(default_factory=dict)  # slug → name after the 2xx writes; None: deleted
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, resp: httpx.Response) -> httpx.Response:
        with self.lock:
            self.codes[resp.status_code] += 1
            if resp.status_code >= 500:
                self.errors.append(f"{resp.request.method} {resp.request.url.path}: {resp.status_code} {resp.text}")
        return resp

    def failed(self, what: str, exc: Exception) -> None:
        with self.lock:
            self.errors.append(f"{what}: {type(exc).__name__}: {exc}")


def _writer(base: str, n: int, stop: threading.Event, tally: Tally) -> None:
    with httpx.Client(base_url=base, headers=AUTH, timeout=60) as client:
        i = 0
        while not stop.is_set():
            i += 1
            slug = f"w{n}-{i}"
            try:
                made = tally.note(client.post("/api/extras/tags/", json={"slug": slug, "name": f"W{n} {i}"}))
                if made.status_code != 201:
                    continue
                tally.expected[slug] = f"W{n} {i}"
                tag_id = made.json()["id"]
                if tally.note(client.patch(f"/api/extras/tags/{tag_id}/", json={"name": f"W{n} {i}+"})).is_success:
                    tally.expected[slug] = f"W{n} {i}+"
                if i % 2 and tally.note(client.delete(f"/api/extras/tags/{tag_id}/")).status_code == 204:
                    tally.expected[slug] = None
            except httpx.HTTPError as exc:
                tally.failed(f"writer {n} {slug}", exc)


def _reader(base: str, stop: threading.Event, tally: Tally) -> None:
    with httpx.Client(base_url=base, headers=AUTH, timeout=60) as client:
        while not stop.is_set():
            for path in ("/api/extras/tags/?limit=20", "/api/status/events/?limit=5"):
                try:
                    if tally.note(client.get(path)).status_code != 200:
                        tally.errors.append(f"GET {path} was not 200")
                except httpx.HTTPError as exc:
                    tally.failed(f"reader {path}", exc)


def _tags(engine: Engine) -> dict[str, str]:
    with Session(engine) as s:
        return {t.slug: t.name for t in s.execute(select(Tag)).scalars()}


@pytest.mark.alone("each writer must get through at least 5 times within a fixed window")
def test_four_concurrent_api_writers_and_a_reader_get_no_5xx_and_every_write_lands(db_url: str) -> None:
    writes, reads = Tally(), Tally()
    with live_api(db_url) as (base, engine):
        stop = threading.Event()
        threads = [threading.Thread(target=_writer, args=(base, n, stop, writes)) for n in range(WRITERS)]
        threads.append(threading.Thread(target=_reader, args=(base, stop, reads)))
        for t in threads:
            t.start()
        time.sleep(DURATION_S[_backend(db_url)])
        stop.set()
        for t in threads:
            t.join(timeout=120)
        stored = _tags(engine)
    assert writes.errors == [] and reads.errors == [], (writes.errors + reads.errors)[:5]
    assert set(writes.codes) <= {200, 201, 204}, writes.codes
    assert writes.codes[201] >= WRITERS * 5, writes.codes  # every writer got through many times
    assert reads.codes[200] >= 10 and set(reads.codes) == {200}, reads.codes
    assert stored == {slug: name for slug, name in writes.expected.items() if name is not None}


def test_reads_go_on_and_writes_answer_503_retry_after_while_another_process_holds_the_lock(db_url: str) -> None:
    url = with_lock_timeout(db_url, 300)
    with live_api(url, busy_timeout_ms=300) as (base, engine), httpx.Client(base_url=base, headers=AUTH,
                                                                             timeout=60) as client:
        made = client.post("/api/extras/tags/", json={"slug": "core", "name": "Core"})
        assert made.status_code == 201, made.text
        tag_id = made.json()["id"]
        with Session(engine) as s:
            changes = s.scalar(select(func.count()).select_from(ObjectChange))
        with write_lock(db_url, "tag", "object_change"):
            listed = client.get("/api/extras/tags/")
            one = client.get(f"/api/extras/tags/{tag_id}/")
            refused = [
                client.post("/api/extras/tags/", json={"slug": "edge", "name": "Edge"}),
                client.patch(f"/api/extras/tags/{tag_id}/", json={"name": "Changed"}),
                client.delete(f"/api/extras/tags/{tag_id}/"),
            ]
        after = client.patch(f"/api/extras/tags/{tag_id}/", json={"name": "Core 2"})
    assert listed.status_code == 200 and listed.json()["count"] == 1
    assert one.status_code == 200 and one.json()["name"] == "Core"
    for resp in refused:
        assert resp.status_code == 503, (resp.request.method, resp.status_code, resp.text)
        assert resp.headers["retry-after"].isdigit() and int(resp.headers["retry-after"]) >= 1
        assert resp.headers["content-type"].startswith("application/json")
        body = resp.json()
        assert "database" in body["detail"] and "nothing was changed" in body["detail"], body
        assert len(resp.content) < 300
    assert after.status_code == 200, after.text
    with Session(engine) as s:
        assert [(t.slug, t.name) for t in s.execute(select(Tag)).scalars()] == [("core", "Core 2")]
        # the refused writes left no change-log entry; the one after the lock did
        assert s.scalar(select(func.count()).select_from(ObjectChange)) == (changes or 0) + 1


def _terminate_on(engine: Engine, admin: Engine, statement_prefix: str) -> Callable[[], int]:
    """Kill this engine's backend (from another connection) the first time it is about to run a statement
    starting with ``statement_prefix``; returns a counter of kills."""
    kills = {"n": 0}

    def before(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if kills["n"] or not statement.lstrip().upper().startswith(statement_prefix):
            return
        kills["n"] += 1
        pid = conn.connection.dbapi_connection.info.backend_pid
        with admin.connect() as other:
            assert other.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid}).scalar() is True

    event.listen(engine, "before_cursor_execute", before)
    return lambda: kills["n"]


@pytest.mark.postgres
def test_api_write_whose_postgres_backend_is_terminated_mid_transaction_is_retried_once(
        pg_schema_url: str, caplog: pytest.LogCaptureFixture) -> None:
    from tests.conftest import _reset_pg

    admin = make_engine(pg_schema_url)
    _reset_pg(admin)
    caplog.set_level(logging.WARNING)
    try:
        with live_api(pg_schema_url) as (base, engine):
            kills = _terminate_on(engine, admin, "INSERT INTO TAG")
            resp = httpx.post(f"{base}/api/extras/tags/", headers=AUTH, json={"slug": "ring", "name": "Ring"},
                              timeout=60)
            stored = _tags(engine)
            with Session(engine) as s:
                logged = s.scalar(select(func.count()).select_from(ObjectChange).where(
                    col(ObjectChange.object_type) == "tag"))
    finally:
        admin.dispose()
    assert kills() == 1
    assert resp.status_code == 201, resp.text
    assert stored == {"ring": "Ring"} and logged == 1
    assert sum("event=db_request_retry" in r.getMessage() for r in caplog.records) == 1

"""The heartbeat bar of the sites table, on SQLite and PostgreSQL: each site's state over the last 24 hours in
half-hour cells, from state intervals, drawn in ``/sites`` and ``/api/status/sites``, with as many queries
for 200 sites as for 10."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert
from sqlalchemy.engine import Engine

from infra_monitor.config import Settings, load_settings
from infra_monitor.db import make_engine
from infra_monitor.readmodel.heartbeat import CELLS, grid_start, site_heartbeats
from infra_monitor.status.store.models import StateIntervalRow
from tests.users import ADMIN_TOKEN
from tests.web.builders import Province
from tests.web.test_query_counts import StatementCounter

NOW = datetime(2026, 11, 25, 9, 40, 0, tzinfo=UTC)


@pytest.fixture
def web_url(db_url: str) -> str:
    return db_url


def _interval(engine: Engine, device: int, state: str, start: datetime, end: datetime | None,
              cause: str = "none") -> None:
    with engine.begin() as conn:
        conn.execute(insert(StateIntervalRow), [{"device_id": device, "state": state, "cause": cause,
                                                 "start": start, "end": end}])


@pytest.fixture
def history(engine: Engine) -> Province:
    """xa-000: up, then its router DOWN 09:10–09:15 (its codec stays up); xa-001: up, then UNREACHABLE under
    planned work for the last 2 hours; xa-002: unknown (no intervals); everyone else up all day."""
    p = Province.build(engine, communes=3, now=NOW)
    day_ago = NOW - timedelta(days=2)
    others = [p.core, *p.district_routers, p.vc_devices[0]]
    for d in others:
        _interval(engine, d, "up", day_ago, None)
    r0, r1, v1 = p.commune_routers[0], p.commune_routers[1], p.vc_devices[1]
    _interval(engine, r0, "up", day_ago, NOW - timedelta(minutes=30))
    _interval(engine, r0, "down", NOW - timedelta(minutes=30), NOW - timedelta(minutes=25), cause="own_failure")
    _interval(engine, r0, "up", NOW - timedelta(minutes=25), None)
    for d in (r1, v1):
        _interval(engine, d, "up", day_ago, NOW - timedelta(hours=2))
        _interval(engine, d, "unreachable", NOW - timedelta(hours=2), None, cause="maintenance")
    return p


def test_cells_follow_the_intervals_of_the_site_devices(engine: Engine, history: Province) -> None:
    with engine.connect() as conn:
        sites: dict[str, int] = {r.slug: r.id for r in conn.exec_driver_sql("SELECT slug, id FROM site")}
        beats = site_heartbeats(conn, sites.values(), NOW)
    start = grid_start(NOW)
    assert start == datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # 48 half hours ending at 10:00, after 09:40
    a, b, c = (beats[sites[s]].states for s in ("xa-000", "xa-001", "xa-002"))
    assert len(a) == CELLS and a[:-2] == ("up",) * (CELLS - 2)
    assert a[-2:] == ("down", "up")  # 09:10–09:15 is in the 09:00–09:30 cell; 09:30–10:00 is up again
    assert b[-5:] == ("maintenance",) * 5 and b[:-5] == ("up",) * (CELLS - 5)  # from 07:40, in 07:30–08:00
    assert c == ("unknown",) * CELLS
    runs = beats[sites["xa-000"]].runs()
    assert [(first, n, s) for first, n, s, _f, _t in runs] == [(0, 46, "up"), (46, 1, "down"), (47, 1, "up")]
    assert runs[1][3:] == (datetime(2026, 11, 25, 9, 0, tzinfo=UTC), datetime(2026, 11, 25, 9, 30, tzinfo=UTC))


@pytest.fixture
def api(engine: Engine, settings: Settings, history: Province) -> Iterator[TestClient]:
    from web.app import create_app

    app = create_app(settings, engine)
    app.state.readmodel.cache.ttl_s = 0
    app.state.readmodel._clock = lambda: NOW
    with TestClient(app, headers={"Authorization": f"Token {ADMIN_TOKEN}"}) as c:
        yield c


def test_sites_page_and_api_show_the_bar(api: TestClient) -> None:
    plain = api.get("/api/status/sites", params={"sort": "name"}).json()["results"]
    assert all(r["heartbeat"] == [] for r in plain)  # computed only when asked for
    rows = {r["slug"]: r for r in api.get("/api/status/sites", params={"sort": "name", "heartbeat": "true"})
            .json()["results"]}
    assert [(h["state"], h["cells"]) for h in rows["xa-000"]["heartbeat"]] == [("up", 46), ("down", 1), ("up", 1)]
    assert [(h["state"], h["cells"]) for h in rows["xa-002"]["heartbeat"]] == [("unknown", 48)]
    html = api.get("/sites", params={"sort": "name", "lang": "en"}).text
    row = html[html.index('data-slug="xa-000"'):]
    row = row[:row.index("</tr>")]
    assert 'aria-label="State over the last 24 hours, one cell per half hour"' in row
    assert 'data-state="down" data-cells="1"' in row and "stroke:var(--down)" in row
    assert "16:00–16:30 · Down" in row  # 09:00–09:30 UTC in Asia/Ho_Chi_Minh
    assert "<th>Last 24 h</th>" in html


def test_the_bar_costs_one_query_whatever_the_number_of_sites(tmp_path: Path) -> None:
    from web.app import create_app

    counts = {}
    for n in (10, 200):
        url = f"sqlite:///{tmp_path / f'p{n}.db'}"
        engine = make_engine(url)
        p = Province.build(engine, communes=n)
        p.intervals(p.commune_routers, down_minutes=45)
        app = create_app(load_settings(None, environ={"INFRA_MONITOR_DATABASE__URL": url,
                                                      "INFRA_MONITOR_WEB__ADMIN_TOKEN": ADMIN_TOKEN}), engine)
        app.state.readmodel.cache.ttl_s = 0
        with TestClient(app, headers={"Authorization": f"Token {ADMIN_TOKEN}"}) as c:
            page = c.get("/sites?sort=name")
            assert page.text.count('data-state="down" data-cells=') >= 10  # the communes' bars show the outage
            counter = StatementCounter(engine)

            def load(c: TestClient = c) -> object:
                return c.get("/sites?sort=name")
            counts[n] = counter.during(load)
        engine.dispose()
    assert counts[10] == counts[200]

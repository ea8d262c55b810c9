"""No N+1: the overview and the site/district tables run as many SQL statements for 200 sites as for 10."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine

from infra_monitor.config import load_settings
from infra_monitor.db import make_engine
from infra_monitor.readmodel import ReadModel, SiteFilter
from tests.web.builders import Province

PAGES = ("/", "/fragments/overview", "/sites", "/sites?state=unreachable&sort=name", "/regions/213", "/map",
         "/api/status/overview", "/api/status/sites?district=213")


class StatementCounter:
    """Counts statements sent to the database (``before_cursor_execute``) while active."""

    def __init__(self, engine: Engine) -> None:
        self.n = 0
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *_args: Any) -> None:
        self.n += 1

    def during(self, action: Callable[[], object]) -> int:
        start = self.n
        action()
        return self.n - start


@pytest.fixture
def worlds(tmp_path: Path) -> Iterator[dict[int, tuple[Engine, Province]]]:
    """The same province with 10 and with 200 communes, a district cut off in each, history in each."""
    out: dict[int, tuple[Engine, Province]] = {}
    for n in (10, 200):
        engine = make_engine(f"sqlite:///{tmp_path / f'p{n}.db'}")
        p = Province.build(engine, communes=n)
        p.cut_district(0)
        p.event(p.district_routers[0], "up", "down")
        p.intervals(p.commune_routers, down_minutes=30)
        out[n] = (engine, p)
    yield out
    for engine, _p in out.values():
        engine.dispose()


def _counts(engine: Engine, work: Callable[[], object]) -> int:
    counter = StatementCounter(engine)
    work()  # warm: connection set-up happens once per pool, not per page
    return counter.during(work)


def test_read_model_aggregates_run_a_constant_number_of_queries(worlds: dict[int, tuple[Engine, Province]]) -> None:
    per_size: dict[int, dict[str, int]] = {}
    for n, (engine, _p) in worlds.items():
        settings = load_settings(None, environ={"INFRA_MONITOR_DATABASE__URL": str(engine.url)})
        rm = ReadModel(engine, settings, cache_ttl_s=0)
        per_size[n] = {
            "overview": _counts(engine, rm.overview),
            "sites": _counts(engine, lambda rm=rm: rm.sites(SiteFilter(sort="name"))),
            "district": _counts(engine, lambda rm=rm: rm.sites(SiteFilter(district="213", state="unreachable"))),
            "problems": _counts(engine, rm.problems),
        }
    assert per_size[10] == per_size[200]
    # 20, + vantage disagreements and poller processes (one query each), + whether the stored site tallies match
    # the inventory (one primary-key read)
    assert per_size[200]["overview"] <= 23


def test_pages_run_a_constant_number_of_queries(worlds: dict[int, tuple[Engine, Province]]) -> None:
    from web.app import create_app

    per_size: dict[int, dict[str, int]] = {}
    for n, (engine, _p) in worlds.items():
        settings = load_settings(None, environ={"INFRA_MONITOR_DATABASE__URL": str(engine.url),
                                                "INFRA_MONITOR_WEB__ADMIN_TOKEN": "tok-query-counts"})
        app = create_app(settings, engine)
        app.state.readmodel.cache.ttl_s = 0
        with TestClient(app, headers={"Authorization": "Token tok-query-counts"}) as client:
            per_size[n] = {path: _counts(engine, lambda c=client, p=path: c.get(p).raise_for_status())
                           for path in PAGES}
    assert per_size[10] == per_size[200]

"""Shard leases on PostgreSQL (:mod:`infra_monitor.shards`): the processes of one group split its shards with
advisory locks, a newcomer gets its fair share, a dead process's shards are taken over; the targets loaded
follow the shards; ``also_polled_by`` is validated with the device and loads a device in its watching group."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from infra_monitor.config import Settings, load_settings
from infra_monitor.db import import_all_models, make_engine, upgrade
from infra_monitor.shards import ShardLeases, shard_of
from infra_monitor.targets import load_targets
from inventory.importer import import_document

pytestmark = pytest.mark.postgres


def _settings(url: str, name: str, group: str = "dc", shards: int = 16) -> Settings:
    return load_settings(None, environ={"INFRA_MONITOR_DATABASE__URL": url, "INFRA_MONITOR_POLLER__GROUP": group,
                                        "INFRA_MONITOR_POLLER__NAME": name, "INFRA_MONITOR_POLLER__SHARDS": str(shards),
                                        "INFRA_MONITOR_POLLER__HEARTBEAT_S": "5"})


@pytest.fixture
def pg(pg_schema_url: str) -> Iterator[tuple[str, Engine]]:
    """A fresh, migrated PostgreSQL schema."""
    engine = make_engine(pg_schema_url)
    with engine.begin() as conn:
        schema = conn.execute(text("select current_schema()")).scalar_one()
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    import_all_models()
    upgrade(engine)
    yield pg_schema_url, engine
    engine.dispose()


def _leases(url: str, name: str, **kw: Any) -> tuple[ShardLeases, Engine]:
    engine = make_engine(url)
    lease = ShardLeases(_settings(url, name, **kw), engine)
    lease.open()
    return lease, engine


def _settle(leases: list[ShardLeases], rounds: int = 3) -> list[frozenset[int]]:
    held: list[frozenset[int]] = []
    for _ in range(rounds):
        held = [lease.refresh() for lease in leases]
    return held


def test_three_processes_split_the_shards_of_their_group_exactly(pg: tuple[str, Engine]) -> None:
    url, engine = pg
    opened = [_leases(url, "p0")]
    try:
        assert opened[0][0].refresh() == frozenset(range(16)), "alone, a process takes every shard"
        opened += [_leases(url, f"p{i}") for i in (1, 2)]
        leases = [lease for lease, _ in opened]
        held = _settle(leases)
        assert sorted(s for h in held for s in h) == list(range(16)), held  # every shard once, none twice
        assert all(0 < len(h) <= 6 for h in held), held  # each at most its fair share, ceil(16 / 3)
        with engine.connect() as conn:
            rows: dict[str, list[int]] = dict(conn.execute(text(
                "SELECT poller_id, shards FROM poller_instance WHERE poller_group = 'dc'")).all())
        assert {k: sorted(v) for k, v in rows.items()} == {f"p{i}": sorted(held[i]) for i in range(3)}
        other, other_engine = _leases(url, "district", group="huyen-x")
        try:
            assert other.refresh() == frozenset(range(16)), "another group's shards are its own"
        finally:
            other.close()
            other_engine.dispose()
    finally:
        for lease, eng in opened:
            lease.close()
            eng.dispose()


def test_a_dead_process_loses_its_shards_to_the_others_and_its_heartbeat_stays_behind(
        pg: tuple[str, Engine]) -> None:
    url, engine = pg
    opened = [_leases(url, f"p{i}") for i in range(3)]
    try:
        leases = [lease for lease, _ in opened]
        held = _settle(leases)
        dead = held[2]
        assert leases[2]._conn is not None
        backend = leases[2]._conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with engine.connect() as conn:  # the process dies: PostgreSQL drops its connection and its locks
            conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": backend})
        survivors = leases[:2]
        after = _settle(survivors, rounds=2)
        assert sorted(s for h in after for s in h) == list(range(16)), after
        assert dead <= after[0] | after[1]
        with engine.connect() as conn:
            gone = conn.execute(text("SELECT shards FROM poller_instance WHERE poller_id = 'p2'")).scalar_one()
        assert sorted(gone) == sorted(dead), "the dead process's heartbeat stays as it last beat (then goes stale)"
    finally:
        for lease, eng in opened:
            lease.close()
            eng.dispose()


def test_a_newcomer_gets_its_fair_share_from_a_process_holding_everything(pg: tuple[str, Engine]) -> None:
    url, _engine = pg
    first, e1 = _leases(url, "old")
    try:
        assert len(first.refresh()) == 16
        second, e2 = _leases(url, "new")
        try:
            assert second.refresh() == frozenset(), "every shard is held: nothing yet"
            assert len(first.refresh()) == 8, "the old process makes room (fair share 8)"
            assert len(second.refresh()) == 8
            assert first.held.isdisjoint(second.held)
            assert len(first.refresh(may_release=False)) == 8
        finally:
            second.close()
            e2.dispose()
        assert len(first.refresh()) == 16, "a stopped process's shards are free at once"
    finally:
        first.close()
        e1.dispose()


def test_a_closed_lease_never_comes_back_from_a_late_heartbeat_or_sweep(pg: tuple[str, Engine]) -> None:
    """A heartbeat job or sweep start racing the stop must not re-insert the row or re-take locks."""
    url, engine = pg
    lease, e1 = _leases(url, "leaving", group="leaving-group")
    try:
        assert len(lease.refresh()) == 16
        lease.close()
        lease.beat()
        assert lease.refresh() == frozenset()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM poller_instance")).scalar_one() == 0
            locks = conn.execute(text(  # this group's lease connections only (other tests may run beside)
                "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = "
                "'advisory' AND a.application_name = 'infra-monitor poller (leaving-group)'")).scalar_one()
        assert locks == 0
    finally:
        e1.dispose()


def _doc() -> dict[str, Any]:
    def device(name: str, n: int, **extra: Any) -> dict[str, Any]:
        ip = f"127.0.3.{n}"
        return {"site": "xa-a", "name": name, "role": "router", "status": "active", "primary_ip": f"{ip}/32",
                "monitoring": {"enabled": True, "poller_group": "dc"}, **extra,
                "interfaces": [{"name": "lo0", "type": "virtual", "ip_addresses": [{"address": f"{ip}/32"}]}]}
    return {"sites": [{"slug": "xa-a", "name": "Xã A", "category": "unit", "status": "active"}],
            "device_roles": [{"slug": "router", "name": "Router"}],
            "devices": [device(f"d{n}", n) for n in range(1, 9)]
            + [device("core", 20, custom_fields={"also_polled_by": ["huyen-x"]})]}


def test_targets_follow_the_shards_held_and_also_polled_by_adds_a_watching_group(pg: tuple[str, Engine]) -> None:
    _url, engine = pg
    with Session(engine) as s:
        report = import_document(s, _doc(), source="test")
        assert not report.errors, report.errors
        ids: dict[str, int] = dict(s.execute(text("SELECT name, id FROM device")).all())
        half = frozenset(range(2))
        idx = load_targets(s, poller_group="dc", kinds=("icmp",), shards=(4, half))
        got = {t.device for t in idx.targets["icmp"]}
        assert got == {n for n, i in ids.items() if shard_of(i, 4) in half} and got, got
        watched = load_targets(s, poller_group="huyen-x", kinds=("icmp",))
        assert [t.device for t in watched.targets["icmp"]] == ["core"]
        assert watched.watched_only == {ids["core"]} == watched.multi_vantage
        own = load_targets(s, poller_group="dc", kinds=("icmp",))
        assert own.watched_only == set() and own.multi_vantage == {ids["core"]}
        bad = _doc()
        bad["devices"][0]["custom_fields"] = {"also_polled_by": "huyen-x"}
        refused = import_document(s, bad, source="bad.yaml")
        assert any("also_polled_by must be a list of poller group names" in str(e) for e in refused.errors), \
            refused.errors

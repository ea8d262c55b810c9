"""The database itself keeps one open problem per root device (the migrated schema, SQLite and PostgreSQL).

The sweep that opens problems is serialised (one SQLite writer; an advisory lock on PostgreSQL); the unique
partial index is what still holds if two writers ever raced, while resolved problems pile up as history.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from infra_monitor.status.store.models import ProblemRow
from tests.web.builders import Province

PROBLEM = ProblemRow.__table__  # type: ignore[attr-defined]
NOW = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


def test_a_second_open_problem_for_the_same_root_is_refused_but_history_is_not(migrated_engine: Engine) -> None:
    province = Province.build(migrated_engine, communes=2, now=NOW)  # on the schema the migrations made
    root = province.district_routers[0]
    with migrated_engine.begin() as conn:
        for day in (3, 2, 1):  # three resolved problems of the same root: history
            conn.execute(insert(PROBLEM).values(root_device_id=root, opened_at=NOW - timedelta(days=day),
                                                resolved_at=NOW - timedelta(days=day, hours=-1)))
        opened = conn.execute(insert(PROBLEM).values(root_device_id=root, opened_at=NOW)).inserted_primary_key
        # devices removed: their problems keep no root, and NULLs never collide
        conn.execute(insert(PROBLEM).values(root_device_id=None, opened_at=NOW))
        conn.execute(insert(PROBLEM).values(root_device_id=None, opened_at=NOW))
    with pytest.raises(IntegrityError), migrated_engine.begin() as conn:
        conn.execute(insert(PROBLEM).values(root_device_id=root, opened_at=NOW + timedelta(minutes=1)))
    with migrated_engine.begin() as conn:  # once resolved, the root may open a new one
        conn.execute(update(PROBLEM).where(PROBLEM.c.id == opened[0]).values(resolved_at=NOW))
        conn.execute(insert(PROBLEM).values(root_device_id=root, opened_at=NOW + timedelta(minutes=2)))

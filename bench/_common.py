"""Helpers shared by the benchmarks: machine facts, a throwaway PostgreSQL schema, timing, plain tables.

Nothing here measures anything by itself; each ``bench_*.py`` decides what to time and against which peer.
"""

from __future__ import annotations

import logging
import os
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from infra_monitor.db import make_engine  # noqa: E402

log = logging.getLogger(__name__)

PG_HOST, PG_PORT = "127.0.0.1", 5432
PG_URL = f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}/test"
T = TypeVar("T")


def pg_base_url() -> str:
    """The PostgreSQL URL the benchmarks use (same variable as the tests)."""
    return os.environ.get("INFRA_MONITOR_TEST_PG_URL", PG_URL)


def pg_reachable(timeout_s: float = 2.0) -> bool:
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=timeout_s):
            return True
    except OSError:
        return False


@contextmanager
def pg_schema(prefix: str) -> Iterator[str]:
    """A URL whose ``search_path`` is a fresh schema, dropped with everything in it on exit."""
    base = pg_base_url()
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = make_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    log.info("event=pg_schema_created schema=%s", schema)
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
        log.info("event=pg_schema_dropped schema=%s", schema)


@contextmanager
def temp_database(backend: str, sqlite_path: Path, prefix: str) -> Iterator[str]:
    """URL of an empty database: a SQLite file (deleted afterwards) or a throwaway PostgreSQL schema."""
    if backend == "postgresql":
        with pg_schema(prefix) as url:
            yield url
        return
    try:
        yield f"sqlite:///{sqlite_path}"
    finally:
        for path in sqlite_path.parent.glob(f"{sqlite_path.name}*"):
            path.unlink()


def pg_vacuum(engine: Engine, tables: Sequence[str], analyze: bool = False) -> None:
    """VACUUM (what autovacuum would have done by now), outside any transaction."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(f"VACUUM {'ANALYZE ' if analyze else ''}{', '.join(tables)}")


def db_sizes(engine: Engine, tables: Sequence[str]) -> tuple[int, dict[str, int]]:
    """(bytes in use, bytes per table with its indexes and TOAST) on SQLite or PostgreSQL.

    SQLite: (page_count − freelist_count) × page_size after a WAL checkpoint, per table from ``dbstat``.
    PostgreSQL: after VACUUM, the sum and each of ``pg_total_relation_size`` of ``tables``.
    """
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            pages, free, page_size = (conn.exec_driver_sql(f"PRAGMA {p}").scalar_one()
                                      for p in ("page_count", "freelist_count", "page_size"))
            per_table: dict[str, int] = dict(conn.exec_driver_sql(
                "SELECT m.tbl_name, sum(s.pgsize) FROM dbstat AS s JOIN sqlite_master AS m ON m.name = s.name "
                "GROUP BY m.tbl_name").all())
            return (pages - free) * page_size, {t: int(per_table.get(t, 0)) for t in tables}
    pg_vacuum(engine, tables)
    with engine.connect() as conn:
        sizes = {t: int(conn.execute(text("SELECT pg_total_relation_size(CAST(:t AS regclass))"), {"t": t})
                        .scalar_one()) for t in tables}
    return sum(sizes.values()), sizes


def pg_version() -> str:
    engine = make_engine(pg_base_url())
    try:
        with engine.connect() as conn:
            return str(conn.execute(text("SHOW server_version")).scalar_one())
    finally:
        engine.dispose()


def command_version(argv: Sequence[str]) -> str:
    """First line of a tool's version output, or ``absent``."""
    try:
        done = subprocess.run(list(argv), capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "absent"
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0] if lines else "unknown"


def machine_facts(with_pg: bool) -> list[tuple[str, str]]:
    """CPU count, load, SQLite and PostgreSQL versions: the context every figure needs."""
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    facts = [("CPUs", str(os.cpu_count())), ("load average (1/5/15 min) at start", load),
             ("Python", sys.version.split()[0]), ("SQLite", sqlite3.sqlite_version)]
    facts.append(("PostgreSQL", pg_version() if with_pg else "not used"))
    return facts


def best_of(repeat: int, fn: Callable[[], T], enough_s: float = float("inf")) -> tuple[float, T]:
    """Smallest wall time of up to ``repeat`` calls and the last call's result.

    A run longer than ``enough_s`` ends the repetition: noise matters for sub-second timings, not for
    runs of many seconds, and repeating those would only lengthen the benchmark.
    """
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - started
        best = min(best, elapsed)
        if elapsed > enough_s:
            break
    return best, result  # type: ignore[return-value]


def ratio(ours: float | None, peer: float | None) -> str:
    """``ours / peer`` as ``1.23×`` (below 1: ours is smaller or faster)."""
    if not ours or not peer:
        return "–"
    return f"{ours / peer:.2f}×"


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A plain aligned text table (first column left-aligned, the others right-aligned)."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        out = [str(cells[0]).ljust(widths[0])] + [str(c).rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join(out)

    print(f"\n{title}")
    print(line(headers))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(line(r))


def human_bytes(n: float) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(n) >= size:
            return f"{n / size:,.2f} {unit}"
    return f"{n:,.0f} B"


class RrdPipe:
    """One ``rrdtool -`` process: a command per line, answered by its output and an ``OK``/``ERROR`` line."""

    def __init__(self, cwd: Path) -> None:
        self.proc = subprocess.Popen(["rrdtool", "-"], cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, bufsize=1)

    def run(self, line: str) -> list[str]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        out: list[str] = []
        for answer in self.proc.stdout:
            if answer.startswith("OK "):
                return out
            if answer.startswith("ERROR"):
                raise RuntimeError(f"rrdtool: {answer.strip()} (command: {line[:80]})")
            out.append(answer)
        raise RuntimeError("rrdtool pipe closed")

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)

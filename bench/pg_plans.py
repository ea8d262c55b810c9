"""The status page's hot queries on PostgreSQL beside SQLite: timings, and the plan of every statement.

    .venv/bin/python bench/pg_plans.py [--communes 10000] [--out docs/postgresql-plans.md]

Builds the same synthetic province (``tests/web/builders.py``: a data center, two districts, ``--communes``
commune sites, each with a router, a videoconference codec and a circuit; device statuses) in a throwaway
PostgreSQL schema and in a SQLite file, runs ``ANALYZE``, then calls the read model as the pages do — the
overview (uncached), the communes table, a site page, a device page, a district's coverage, the event feed,
the problems list, the devices list and the search box — recording every SQL statement each call runs
(each computed afresh, the administrative structure excepted: the read model keeps it until it changes).
Each statement is then explained where it ran: ``EXPLAIN (ANALYZE, BUFFERS)`` on PostgreSQL, ``EXPLAIN
QUERY PLAN`` on SQLite. The report lists per call the best-of-3 time on each backend (the peer of each is the
other) and, per statement, the PostgreSQL plan; a sequential scan of a table of more than 5,000 rows in a
statement that selects a few rows (a page, one site, one device) is marked, since an index should serve it.
Aggregates over the whole province (the overview's counts) read every row by design and are not marked.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from bench._common import machine_facts, pg_reachable, pg_schema, ratio  # noqa: E402
from infra_monitor.config import load_settings  # noqa: E402
from infra_monitor.db import make_engine  # noqa: E402
from tests.web.builders import Province  # noqa: E402

BIG_TABLE_ROWS = 5000
PLAN_LINES = 40  # the top of a plan says where the time goes; the rest would make the document unreadable
POINT_CALLS = {"site page", "device page", "communes table (page 1)", "devices list (page 1)", "event feed",
               "problems list", "search"}


@contextmanager
def recording(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


def calls(rm: Any, province: Province) -> dict[str, Callable[[], Any]]:
    from infra_monitor.readmodel import SiteFilter
    from infra_monitor.readmodel.inventory_lists import ListQuery
    from web.pages import PAGE_SIZE  # the page the sites table shows

    slug = province.commune_sites[len(province.commune_sites) // 2]
    device = province.commune_routers[len(province.commune_routers) // 2]
    district = province.districts[0]
    return {
        "overview (uncached)": rm.overview,
        "communes table (page 1)": lambda: rm.sites(SiteFilter(level="commune", sort="name", limit=PAGE_SIZE)),
        "site page": lambda: rm.site(slug),
        "device page": lambda: rm.device(device),
        "district coverage": lambda: rm.region_coverage(district, ("commune",)),
        "event feed": lambda: rm.events(limit=100),
        "problems list": lambda: rm.problems(limit=100),
        "devices list (page 1)": lambda: rm.inventory_list("devices", ListQuery()),
        "search": lambda: rm.search("xa-00123"),
    }


def table_rows(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            rows = conn.execute(text("SELECT relname, n_live_tup FROM pg_stat_user_tables WHERE schemaname = "
                                     "current_schema()")).all()
            return {name: int(n) for name, n in rows}
        names = [n for (n,) in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))]
        return {n: int(conn.execute(text(f'SELECT count(*) FROM "{n}"')).scalar_one()) for n in names}


def explain(engine: Engine, statement: str, parameters: Any) -> str:
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + statement, parameters).all()
        else:
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
    return "\n".join(str(r[-1]) for r in rows)


def seq_scans(plan: str, rows: dict[str, int]) -> list[str]:
    found = re.findall(r"Seq Scan on (\w+)", plan) + re.findall(r"^SCAN (\w+)(?! USING)", plan, re.M)
    return sorted({t for t in found if rows.get(t, 0) > BIG_TABLE_ROWS})


def measure(url: str, communes: int, now: datetime) -> tuple[dict[str, float], dict[str, list[tuple[str, Any]]],
                                                           Engine, dict[str, int]]:
    from infra_monitor.readmodel import ReadModel

    engine = make_engine(url)
    province = Province.build(engine, communes=communes, now=now)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    settings = load_settings(None, environ={"INFRA_MONITOR_DATABASE__URL": url})
    rm = ReadModel(engine, settings, cache_ttl_s=3600, clock=lambda: now)
    rm.regions()
    times: dict[str, float] = {}
    statements: dict[str, list[tuple[str, Any]]] = {}
    for name, fn in calls(rm, province).items():
        fn()  # warm: compile, fill the OS cache
        best = float("inf")
        for _ in range(3):
            _forget_all_but_regions(rm)
            with recording(engine) as seen:
                started = time.perf_counter()
                fn()
                best = min(best, time.perf_counter() - started)
        times[name], statements[name] = best, seen
    return times, statements, engine, table_rows(engine)


def _cut(text_: str, limit: int) -> str:
    return text_ if len(text_) <= limit else text_[:limit] + f" … ({len(text_) - limit} more characters)"


def _forget_all_but_regions(rm: Any) -> None:
    """Every call computed afresh, except the administrative structure: the read model keeps that until a
    region, link or rename changes (the pages never reload it per request)."""
    with rm.cache._lock:
        for key in [k for k in rm.cache._entries if not (isinstance(k, tuple) and k[:1] == ("regions",))]:
            del rm.cache._entries[key]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--communes", type=int, default=10_000)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "postgresql-plans.md")
    args = ap.parse_args()
    if not pg_reachable():
        print("PostgreSQL is not reachable on 127.0.0.1:5432: nothing to compare")
        return 1
    now = datetime.now(UTC).replace(microsecond=0)
    out: list[str] = []
    with tempfile.TemporaryDirectory() as tmp, pg_schema("plans") as pg_url:
        sqlite_url = f"sqlite:///{tmp}/plans.db"
        lite, _lite_statements, lite_engine, _lite_rows = measure(sqlite_url, args.communes, now)
        pg, pg_statements, pg_engine, pg_rows = measure(pg_url, args.communes, now)
        out += ["# The status page's hot queries: PostgreSQL beside SQLite", "",
                f"Generated by `python bench/pg_plans.py --communes {args.communes}` on {now:%Y-%m-%d}; "
                "the synthetic province of `tests/web/builders.py`. Facts: "
                + "; ".join(f"{k} {v}" for k, v in machine_facts(with_pg=True)) + ".", "",
                "| call | statements | SQLite ms | PostgreSQL ms | PostgreSQL / SQLite | sequential scans of big "
                "tables where an index should serve |", "|---|---|---|---|---|---|"]
        marked = 0
        details: list[str] = []
        for name in pg:
            scans: set[str] = set()
            details += [f"## {name}", ""]
            for i, (statement, parameters) in enumerate(pg_statements[name], 1):
                plan = explain(pg_engine, statement, parameters)
                found = seq_scans(plan, pg_rows) if name in POINT_CALLS else []
                scans.update(found)
                details += [f"Statement {i}" + (f" — **sequential scan of {', '.join(found)}**" if found else ""),
                            "", "```sql", _cut(statement.strip(), 1200), "```", "", "```",
                            "\n".join(plan.splitlines()[:PLAN_LINES]), "```", ""]
            marked += bool(scans)
            out.append(f"| {name} | {len(pg_statements[name])} | {lite[name] * 1000:.1f} | {pg[name] * 1000:.1f} | "
                       f"{ratio(pg[name], lite[name])} | {', '.join(sorted(scans)) or '–'} |")
        sizes = ", ".join(f"{t} {n:,}" for t, n in sorted(pg_rows.items(), key=lambda kv: -kv[1])[:8])
        out += ["", f"Largest tables: {sizes}.", "", *details]
        lite_engine.dispose()
        pg_engine.dispose()
    args.out.write_text("\n".join(out) + "\n", encoding="utf-8")
    print("\n".join(out[: out.index("") + 4 + len(pg) + 1]))
    print(f"\nwritten: {args.out} ({marked} call(s) with a sequential scan where an index should serve)")
    return 0 if marked == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())

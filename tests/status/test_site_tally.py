"""Stored site tallies (``site_tally``) are what the live computation would say, after every sweep and every
inventory change, on a migrated SQLite file and PostgreSQL schema; pages read the stored ones only while they
match the inventory's generation."""

from __future__ import annotations

import random
from datetime import date

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from infra_monitor.readmodel.frame import SiteFilter, level_counts, site_select, stored_tally
from infra_monitor.status.store.site_tally import SiteTallyRow, refresh_site_tally, tally_is_current
from inventory.dated import load_regions
from inventory.models import Device, InventoryGeneration, Site
from tests.status.inventory import add_communes, build_province
from tests.status.test_store import at, observe, sweep

EVERY_SITE = SiteFilter(include_retired=True)


def _both(engine: Engine) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    with engine.connect() as conn:
        regions = load_regions(conn, date(2025, 3, 3))
        live = [tuple(r) for r in conn.execute(site_select(EVERY_SITE, regions).order_by("id"))]
        stored = [tuple(r) for r in conn.execute(site_select(EVERY_SITE, regions, stored=True).order_by("id"))]
    return live, stored


def _current(engine: Engine) -> bool:
    with engine.connect() as conn:
        return tally_is_current(conn)


def test_stored_tallies_match_the_live_ones_after_every_sweep(migrated_engine: Engine) -> None:
    engine = migrated_engine
    with Session(engine) as session:
        p = build_province(session, communes=12)
    assert not _current(engine)  # nothing swept yet: pages compute live
    rnd = random.Random(7)
    devices = [p.core, p.district, p.district_codec, *p.communes]
    for n in range(12):
        failing = rnd.sample(devices, rnd.randint(0, 4))
        sweep(engine, observe(p, *failing), at(n))
        assert _current(engine), f"sweep {n}: the tally should follow the sweep"
        live, stored = _both(engine)
        assert stored == live, f"sweep {n} (failing {failing})"
    # a district failure: the communes behind it unreachable, each site's counts say so
    sweep(engine, observe(p, p.district, *p.behind_district), at(20))
    sweep(engine, observe(p, p.district, *p.behind_district), at(21))
    with engine.connect() as conn:
        tallies = {r.site_id: r for r in conn.execute(select(SiteTallyRow.__table__))}  # type: ignore[attr-defined]
    assert all(tallies[s].unreachable == 1 and tallies[s].up == 0 for s in p.commune_sites)
    assert tallies[p.district_site].down == 1
    live, stored = _both(engine)
    assert stored == live


def test_an_inventory_change_sends_pages_to_the_live_tally_until_the_next_sweep(migrated_engine: Engine) -> None:
    engine = migrated_engine
    with Session(engine) as session:
        p = build_province(session, communes=4)
    sweep(engine, observe(p), at(0))
    assert _current(engine)
    with Session(engine) as session:
        generation = session.get(InventoryGeneration, 1)
        before = generation.n if generation else None
        device = session.get(Device, p.communes[0])
        assert device is not None
        device.monitoring_enabled = False  # through the ORM: the change log bumps the generation
        session.commit()
        after = session.get(InventoryGeneration, 1)
        assert before is not None and after is not None and after.n == before + 1
    assert not _current(engine)
    with engine.connect() as conn:
        regions = load_regions(conn, date(2025, 3, 3))
        assert not stored_tally(conn)
        counts = level_counts(conn, SiteFilter(level="commune"), regions)
    # read live: the commune without a monitored device is no longer counted up
    assert sum(r.up for r in counts) == 3
    live, stored = _both(engine)
    assert stored != live  # the stored table is behind; that is why pages do not read it now
    sweep(engine, observe(p), at(1))
    assert _current(engine)
    live, stored = _both(engine)
    assert stored == live


def test_a_new_site_and_a_deleted_site_reach_the_tally_at_the_next_sweep(migrated_engine: Engine) -> None:
    engine = migrated_engine
    with Session(engine) as session:
        p = build_province(session, communes=3)
    sweep(engine, observe(p), at(0))
    with Session(engine) as session:
        add_communes(session, p, 2)
    assert not _current(engine)
    sweep(engine, observe(p), at(1))
    live, stored = _both(engine)
    assert stored == live and len(stored) == len(live)
    with Session(engine) as session:  # a site without devices (a planned commune), then removed
        planned = Site(slug="xa-moi", name="UBND xã Mới", category="commune", status="planned",
                       region_id=p.district_region)
        session.add(planned)
        session.commit()
        planned_id = planned.id
    sweep(engine, observe(p), at(2))
    live, stored = _both(engine)
    assert stored == live and planned_id in {row[0] for row in stored}
    with Session(engine) as session:
        session.delete(session.get(Site, planned_id))
        session.commit()
    sweep(engine, observe(p), at(3))
    live, stored = _both(engine)
    assert stored == live
    with engine.connect() as conn:
        assert planned_id not in {r.site_id for r in conn.execute(select(SiteTallyRow.site_id))}


def test_a_sweep_recomputes_only_the_sites_whose_devices_changed(migrated_engine: Engine) -> None:
    engine = migrated_engine
    with Session(engine) as session:
        p = build_province(session, communes=6)
    sweep(engine, observe(p), at(0))
    with Session(engine) as session, session.begin():
        assert refresh_site_tally(session, [p.commune_sites[0]], at(1)) == 1  # current: only what was asked
        assert refresh_site_tally(session, [], at(1)) == 0
        assert refresh_site_tally(session, [], at(1), full=True) == len(p.commune_sites) + 2  # + dc, district

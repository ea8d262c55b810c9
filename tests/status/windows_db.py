"""A real database for the maintenance/event tests: an alembic-migrated SQLite file holding a small province
(tests/status/inventory.py: sites ``dc``, ``yen-the`` with yt-router/yt-switch/yt-codec, ``xa-0``, ``xa-1``;
regions 24 > 213), built once per test module and copied for each test, plus helpers to read what was written.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from infra_monitor.db import import_all_models, make_engine, upgrade
from infra_monitor.status.store.models import EventRow, MaintenanceWindowRow
from inventory.models import ObjectChange
from tests.status.inventory import Province, build_province

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
T0 = datetime(2026, 1, 1, 1, 0, tzinfo=UTC)  # 08:00 GMT+7: the oldest of the events of insert_events()


@dataclass
class Db:
    url: str
    engine: Engine
    province: Province


def build_template(path: Path) -> Province:
    """Create the schema with the migrations (the slow part) and the province in a SQLite file."""
    import_all_models()
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with Session(engine) as session:
        province = build_province(session, communes=2)
    engine.dispose()
    return province


def copy_of(template: Path, province: Province, directory: Path) -> Db:
    path = directory / "test.db"
    shutil.copyfile(template, path)
    url = f"sqlite:///{path}"
    return Db(url, make_engine(url), province)


def local(dt: datetime) -> str:
    """How a time is shown: ``27/11/2026 22:00 (GMT+7)``."""
    return dt.astimezone(HCM).strftime("%d/%m/%Y %H:%M") + " (GMT+7)"


def typed(dt: datetime) -> str:
    """How an operator types a local time."""
    return dt.astimezone(HCM).strftime("%d/%m/%Y %H:%M")


def minute(dt: datetime) -> datetime:
    return dt.replace(second=0, microsecond=0)


def windows(db: Db) -> list[MaintenanceWindowRow]:
    with Session(db.engine) as session:
        return list(session.scalars(select(MaintenanceWindowRow).order_by(MaintenanceWindowRow.id)))  # type: ignore[arg-type]


def changes(db: Db) -> list[tuple[str, str, int | None]]:
    """(actor, action, window id) of the change-log records of maintenance windows, oldest first."""
    with Session(db.engine) as session:
        return [(c.actor, c.action, c.object_id) for c in session.scalars(
            select(ObjectChange).where(ObjectChange.object_type == "maintenance_window").order_by(ObjectChange.id))]


def insert_events(db: Db) -> None:
    """Five events, inserted out of time order, each message starting with its name E1…E5 (E1 oldest, at T0,
    then one every 10 minutes): E1 yt-router critical, E2 xa-0-router warning behind yt-router, E3 yt-codec
    flap_start, E4 maintenance_start at site xa-1, E5 yt-router info."""
    p = db.province
    rows = [
        ("E3", 20, "flap_start", "warning", p.district_codec, None),
        ("E1", 0, "state_change", "critical", p.district, p.district_site),
        ("E5", 40, "state_change", "info", p.district, p.district_site),
        ("E2", 10, "state_change", "warning", p.communes[0], p.commune_sites[0]),
        ("E4", 30, "maintenance_start", "info", None, p.commune_sites[1]),
    ]
    with Session(db.engine) as session:
        for name, minutes, kind, severity, device, site in rows:
            session.add(EventRow(time=T0 + timedelta(minutes=minutes), kind=kind, severity=severity,
                                 device_id=device, site_id=site, message=f"{name} {kind}",
                                 root_cause_device_id=p.district if name == "E2" else None))
        session.commit()

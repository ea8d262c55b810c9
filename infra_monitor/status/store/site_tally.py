"""Every site's device tally kept as sweeps write it, so pages read 10,000 sites without aggregating.

A site's tally is how many of its monitored devices are in each *hard* state (up, down, unreachable,
maintenance, unknown), when the first failing one failed and when the last one changed, and whether the site
is connected (the served end of an active circuit). :func:`tally_select` computes it from the inventory and
``device_status``; the status store keeps the result in ``site_tally``:

- :func:`refresh_site_tally` runs in the transaction of every applied sweep (:func:`~infra_monitor.status.
  store.sweeps.apply_sweep`): the sites whose devices changed hard state are recomputed, or every site when
  the inventory changed since the table was built;
- the inventory's writes bump ``inventory_generation`` in their own transaction (:mod:`inventory.changelog`);
  ``site_tally_meta`` records the generation the table was built at, read *before* the table is computed,
  so a change committed meanwhile can only make the table look older than it is, never newer;
- :func:`tally_is_current` tells readers whether the table matches the inventory. When it does not (an
  inventory change since the last sweep, no poller running, a database just migrated) readers compute the
  tally live with :func:`tally_select` — slower, never wrong.

Both paths return the same rows (``tests/status/test_site_tally.py`` checks it).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, delete, exists, func, insert, or_, select, true, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel

from infra_monitor.status.engine.states import Cause, State
from infra_monitor.status.store.models import DeviceStatusRow
from inventory.choices import CircuitStatusChoices, SiteCategoryChoices, TermSideChoices
from inventory.models import Circuit, CircuitTermination, Device, InventoryGeneration, Site
from inventory.models.base import UTCDateTime
from inventory.monitoring import monitored_condition

DS = DeviceStatusRow.__table__.c  # type: ignore[attr-defined]
DEV = Device.__table__.c  # type: ignore[attr-defined]
SITE = Site.__table__.c  # type: ignore[attr-defined]
CIRCUIT = Circuit.__table__.c  # type: ignore[attr-defined]
TERM = CircuitTermination.__table__.c  # type: ignore[attr-defined]
GEN = InventoryGeneration.__table__.c  # type: ignore[attr-defined]
COUNTS = ("up", "down", "unreachable", "maintenance", "unknown")
NEVER_BUILT = -1


class SiteTallyRow(SQLModel, table=True):
    """One site's monitored devices per hard state, as of the last applied sweep."""

    __tablename__ = "site_tally"

    site_id: int = Field(primary_key=True, foreign_key="site.id", ondelete="CASCADE")
    up: int = 0
    down: int = 0
    unreachable: int = 0
    maintenance: int = 0
    unknown: int = 0
    first_fail: datetime | None = UTCDateTime(default=None)
    last_change: datetime | None = UTCDateTime(default=None)
    connected: bool = False


class SiteTallyMetaRow(SQLModel, table=True):
    """The inventory generation ``site_tally`` was built at (one row, id 1)."""

    __tablename__ = "site_tally_meta"

    id: int = Field(default=1, primary_key=True)
    generation: int = NEVER_BUILT
    built_at: datetime | None = UTCDateTime(default=None)


TALLY = SiteTallyRow.__table__.c  # type: ignore[attr-defined]
META = SiteTallyMetaRow.__table__.c  # type: ignore[attr-defined]


def hard_since() -> Any:
    """When the device's confirmed state began (a soft failure keeps the previous hard state's start)."""
    return case((DS.hard.is_(True), DS.since), else_=func.coalesce(DS.hard_since, DS.since))


def state_conditions() -> dict[str, Any]:
    """Conditions counting a device (LEFT JOINed to its status) into each count of a tally."""
    hs = DS.hard_state
    maint_cut = and_(hs == State.UNREACHABLE.value, DS.hard.is_(True), DS.cause == Cause.MAINTENANCE.value)
    return {
        "up": hs == State.UP.value,
        "down": hs == State.DOWN.value,
        "unreachable": and_(hs == State.UNREACHABLE.value, ~maint_cut),
        "maintenance": or_(hs == State.MAINTENANCE.value, maint_cut),
        "unknown": or_(hs.is_(None), hs == State.UNKNOWN.value),
    }


def _connects(site: Any) -> Any:
    return and_(CIRCUIT.id == TERM.circuit_id, CIRCUIT.status == CircuitStatusChoices.ACTIVE,
                or_(TERM.term_side == TermSideChoices.Z, site.category == SiteCategoryChoices.DATACENTER))


def is_connected(one_site: bool = False) -> Any:
    """Condition on ``site``: the site is the Z side (served end) of an active circuit; a data center, the
    hub circuits start from, is connected when any active circuit ends there. A correlated ``EXISTS`` for
    one site; for many, membership in the set of connected sites (computed once by the database)."""
    if one_site:
        return exists().where(TERM.site_id == SITE.id, _connects(SITE))
    other = Site.__table__.alias("cs")  # type: ignore[attr-defined]
    return SITE.id.in_(select(TERM.site_id).join(other, other.c.id == TERM.site_id).where(_connects(other.c)))


def device_tally(site_ids: Any) -> Any:
    """Per site of ``site_ids`` (a sub-select of ids) with monitored devices: counts, first_fail, last_change."""
    failing = DS.hard_state.in_((State.DOWN.value, State.UNREACHABLE.value))
    return (select(DEV.site_id, *(func.sum(case((c, 1), else_=0)).label(n) for n, c in state_conditions().items()),
                   func.min(case((failing, hard_since()), else_=None)).label("first_fail"),
                   func.max(hard_since()).label("last_change"))
            .select_from(Device.__table__.outerjoin(DeviceStatusRow.__table__,  # type: ignore[attr-defined]
                                                    DS.device_id == DEV.id))
            .where(monitored_condition(DEV), DEV.site_id.in_(site_ids))
            .group_by(DEV.site_id).subquery("tally"))


def tally_select(site_ids: Any, *, one_site: bool = False) -> Any:
    """The tally of every site of ``site_ids`` computed live: ``site_id``, the counts, ``first_fail``,
    ``last_change``, ``connected`` — the columns of ``site_tally``."""
    tally = device_tally(site_ids)
    return (select(SITE.id.label("site_id"), *(func.coalesce(tally.c[n], 0).label(n) for n in COUNTS),
                   tally.c.first_fail, tally.c.last_change, is_connected(one_site).label("connected"))
            .select_from(Site.__table__.outerjoin(tally, tally.c.site_id == SITE.id))  # type: ignore[attr-defined]
            .where(SITE.id.in_(site_ids)))


def tally_is_current(conn: Connection | Session) -> bool:
    """Whether ``site_tally`` was built at the inventory's current generation (one indexed read)."""
    row = conn.execute(select(META.generation, select(GEN.n).where(GEN.id == 1).scalar_subquery())
                       .where(META.id == 1)).first()
    return row is not None and row[0] != NEVER_BUILT and row[0] == row[1]


def refresh_site_tally(session: Session, sites: Iterable[int], now: datetime, *, full: bool = False) -> int:
    """Bring ``site_tally`` up to date in the caller's transaction: recompute ``sites`` (those whose devices'
    hard state changed), or every site when the inventory changed since the table was built (or ``full``).
    Returns the number of sites recomputed."""
    # the generation is read before the tally is computed (see the module doc); one statement reads both
    generation, built = session.execute(select(select(GEN.n).where(GEN.id == 1).scalar_subquery(),
                                               select(META.generation).where(META.id == 1).scalar_subquery())).one()
    if generation is None:  # a database without the counter row (created before it): start counting now
        session.execute(insert(InventoryGeneration.__table__).values(id=1, n=0))  # type: ignore[attr-defined]
        generation = 0
    wanted: ColumnElement[bool]
    if full or built is None or built != generation:
        scope, wanted = select(SITE.id).scalar_subquery(), true()
        n = None
    else:
        ids = sorted(set(sites))
        if not ids:
            return 0
        scope, wanted = select(SITE.id).where(SITE.id.in_(ids)).scalar_subquery(), TALLY.site_id.in_(ids)
        n = len(ids)
    session.execute(delete(SiteTallyRow.__table__).where(wanted))  # type: ignore[attr-defined]
    session.execute(insert(SiteTallyRow.__table__).from_select(  # type: ignore[attr-defined]
        ["site_id", *COUNTS, "first_fail", "last_change", "connected"], tally_select(scope)))
    if n is None:  # (SQLite reports no row count for INSERT … SELECT)
        n = int(session.execute(select(func.count()).select_from(SiteTallyRow.__table__)).scalar_one())  # type: ignore[attr-defined]
    if built is None:
        session.execute(insert(SiteTallyMetaRow.__table__).values(  # type: ignore[attr-defined]
            id=1, generation=generation, built_at=now))
    else:
        session.execute(update(SiteTallyMetaRow.__table__).where(META.id == 1)  # type: ignore[attr-defined]
                        .values(generation=generation, built_at=now))
    return n


TALLY_FIELDS = ("hard_state", "hard", "cause", "since", "hard_since")


def tally_changed(before: Any, after: Any) -> bool:
    """Whether a device's status change moves its site's tally (``before`` None: a new status)."""
    if before is None or after is None:
        return True
    return any(getattr(before, f) != getattr(after, f) for f in TALLY_FIELDS)

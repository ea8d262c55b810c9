"""Coverage against the plan, per level: target, inventoried, not yet inventoried, connected, reachable now,
availability over 24 hours and 30 days.

"Not yet inventoried" (target − inventoried) is kept apart from "down": a commune with no site in the
inventory is a gap in the rollout, not an outage. Counts come from :func:`~infra_monitor.readmodel.frame
.level_counts` and one grouped query over videoconference endpoints, so a level costs the same for ten
sites or ten thousand.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import false, func, select
from sqlalchemy.engine import Connection, Row

from infra_monitor.readmodel.frame import (
    DEV,
    DS,
    SITE,
    SiteFilter,
    is_connected,
    level_counts,
    site_ids,
    stored_tally,
)
from infra_monitor.readmodel.schemas import COVERAGE_LEVELS, STATES, CoverageRow, StateCounts
from infra_monitor.readmodel.uptime import Figure, availability_figures, figure_fields, level_group
from infra_monitor.status.engine.states import State
from infra_monitor.status.store.models import DeviceStatusRow
from infra_monitor.status.store.site_tally import SiteTallyRow
from inventory.choices import SiteCategoryChoices
from inventory.dated import Regions, valid_on
from inventory.models import CoverageTarget, Device, Site, VideoconferenceEndpoint

CT = CoverageTarget.__table__.c  # type: ignore[attr-defined]
VC = VideoconferenceEndpoint.__table__.c  # type: ignore[attr-defined]
TALLY = SiteTallyRow.__table__.c  # type: ignore[attr-defined]
VC_LEVEL = "vc"


@dataclass(frozen=True)
class Target:
    target: int
    plan: str
    expired_on: date | None


def load_targets(conn: Connection, as_of: date) -> dict[str, Target]:
    """Per category, the target valid on ``as_of``; failing that, the last one that started before it
    (flagged with the date it expired) so the page can say the plan is no longer in force."""
    out: dict[str, Target] = {}
    rows = conn.execute(select(CT.plan, CT.category, CT.target, CT.valid_from, CT.valid_to)).all()
    for r in sorted(rows, key=lambda r: (r.valid_from or date.min, r.plan)):
        if r.valid_from is not None and r.valid_from > as_of:
            continue
        valid = valid_on(r.valid_from, r.valid_to, as_of)
        current = out.get(r.category)
        if valid or current is None or current.expired_on is not None:
            out[r.category] = Target(r.target, r.plan, None if valid else r.valid_to)
    return out


def vc_counts(conn: Connection, flt: SiteFilter, regions: Regions) -> list[Row[Any]]:
    """Videoconference endpoints at the sites of ``flt`` (any level) per (codec state, site connected)."""
    stored = stored_tally(conn)
    connected = func.coalesce(TALLY.connected, false()) if stored else is_connected()
    joined = (VideoconferenceEndpoint.__table__  # type: ignore[attr-defined]
              .join(Device, DEV.id == VC.device_id).join(Site, SITE.id == DEV.site_id)
              .outerjoin(DeviceStatusRow, DS.device_id == VC.device_id))
    if stored:
        joined = joined.outerjoin(SiteTallyRow, TALLY.site_id == SITE.id)
    sub = (select(func.coalesce(DS.hard_state, State.UNKNOWN.value).label("state"), connected.label("connected"))
           .select_from(joined)
           .where(SITE.id.in_(site_ids(replace(flt, level=None), regions))).subquery())
    return list(conn.execute(select(sub.c.state, sub.c.connected, func.count().label("n"))
                             .group_by(sub.c.state, sub.c.connected)))


def coverage(
    levels_rows: Iterable[Any],
    vc_rows: Iterable[Any],
    targets: Mapping[str, Target],
    avail: Mapping[str, Mapping[str, Figure]],
    levels: Collection[str] = COVERAGE_LEVELS,
) -> list[CoverageRow]:
    """One row per level (``unit`` added when such sites exist) from :func:`level_counts` and
    :func:`vc_counts` rows; ``avail`` is ``{period: {level: Figure}}``."""
    counts: dict[str, Counter[str]] = {lvl: Counter() for lvl in levels}
    for r in levels_rows:
        if r.category == SiteCategoryChoices.UNIT and "unit" not in counts:
            counts["unit"] = Counter()
        c = counts.get(r.category)
        if c is not None:
            c["inventoried"] += r.sites
            c["connected"] += r.sites if r.connected else 0
            c["reachable"] += r.sites if r.state == State.UP else 0
            c[f"s_{r.state}"] += r.sites
    if VC_LEVEL in counts:
        c = counts[VC_LEVEL]
        for v in vc_rows:
            c["inventoried"] += v.n
            c["connected"] += v.n if v.connected else 0
            c["reachable"] += v.n if v.state == State.UP else 0
            c[f"s_{v.state}"] += v.n
    out = []
    for lvl, c in counts.items():
        t = targets.get(lvl)
        out.append(CoverageRow(
            level=lvl, target=t.target if t else None, plan=t.plan if t else None,
            plan_valid_to=t.expired_on if t else None, inventoried=c["inventoried"],
            not_inventoried=max(t.target - c["inventoried"], 0) if t else None,
            connected=c["connected"], reachable=c["reachable"],
            states=StateCounts(**{s: c[f"s_{s}"] for s in STATES}),
            **figure_fields(avail, lvl)))
    return out


HOSTED_LEVEL = "hosted_systems"


def hosted_systems_row(conn: Connection, targets: Mapping[str, Target],
                       stale_before: datetime | None = None, now: datetime | None = None) -> CoverageRow:
    """The plan's systems hosted in the data center as a coverage row: services counting toward
    ``hosted_systems`` (inventoried), those checked (``connected``: active, monitored, on a monitored
    device), those whose checks answer now (``reachable``), against a ``hosted_systems`` target if one is
    set, with their availability over 24 hours and 30 days from their checks' state intervals (see
    :mod:`infra_monitor.readmodel.service_uptime`). Three queries."""
    from infra_monitor.readmodel.services import hosted_figures

    figs = hosted_figures(conn, stale_before=stale_before, now=now)
    t = targets.get(HOSTED_LEVEL)
    return CoverageRow(level=HOSTED_LEVEL, target=t.target if t else None, plan=t.plan if t else None,
                       plan_valid_to=t.expired_on if t else None, inventoried=figs.inventoried,
                       not_inventoried=max(t.target - figs.inventoried, 0) if t else None,
                       connected=figs.monitored, reachable=figs.up,
                       states=StateCounts(up=figs.up, down=figs.down,
                                          unknown=figs.unknown + figs.inventoried - figs.monitored),
                       availability_24h=figs.availability_pct, availability_24h_data_s=figs.availability_data_s,
                       availability_30d=figs.availability_30d_pct,
                       availability_30d_data_s=figs.availability_30d_data_s)


def coverage_of(conn: Connection, flt: SiteFilter, regions: Regions, now: datetime, targets: Mapping[str, Target],
                levels: Collection[str] = COVERAGE_LEVELS, counts: list[Row[Any]] | None = None) -> list[CoverageRow]:
    """Coverage of the sites of ``flt`` (the whole province, or a district's): counts, VC endpoints and
    availability, a fixed number of queries."""
    where = DEV.site_id.in_(site_ids(flt, regions)) if (flt.district or flt.q or flt.slug) else None
    avail = availability_figures(conn, now, level_group(), regions=regions, where=where)
    rows = counts if counts is not None else level_counts(conn, flt, regions)
    return coverage(rows, vc_counts(conn, flt, regions), targets, avail, levels)

"""Vantage points and poller processes on the status page: where vantage points disagree, who polls.

:func:`device_vantages` and :func:`disagreements` read ``vantage_result`` through
:func:`infra_monitor.vantage.views` (fresh answers only: a silent vantage is "no data", never DOWN); a
device's state stays its own group's (``device_status``). :func:`poller_processes` lists the processes of the
shard leases (``poller_instance``), each stale after three of its own heartbeats. One or two queries each.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Connection

from infra_monitor.readmodel.frame import DEV, SITE
from infra_monitor.readmodel.schemas import PollerProcessOut, VantageDisagreement, VantageOut
from infra_monitor.status.store.models import DeviceStatusRow, PollerInstanceRow
from infra_monitor.vantage import VantageView, views
from infra_monitor.vantage import disagreements as find_disagreements
from inventory.models import Device, Site

PI = PollerInstanceRow.__table__.c  # type: ignore[attr-defined]
DS = DeviceStatusRow.__table__.c  # type: ignore[attr-defined]
ALIVE_BEATS = 3


def _out(v: VantageView) -> VantageOut:
    return VantageOut(vantage=v.vantage, poller_group=v.poller_group, up=v.up, at=v.at, error=v.error)


def device_vantages(conn: Connection, device_id: int, now: datetime, stale_after: timedelta) -> list[VantageOut]:
    """Each vantage point's view of one device (empty when a single one watches it)."""
    return [_out(v) for v in views(conn, [device_id], now, stale_after).get(device_id, [])]


def disagreements(conn: Connection, now: datetime, stale_after: timedelta, limit: int = 50
                  ) -> list[VantageDisagreement]:
    """The devices whose fresh vantage points disagree, by name (two queries)."""
    found = find_disagreements(conn, None, now, stale_after)
    if not found:
        return []
    rows = conn.execute(select(DEV.id, DEV.name, SITE.slug, SITE.name.label("site_name"), DS.state)
                        .select_from(Device).join(Site, SITE.id == DEV.site_id)
                        .outerjoin(DeviceStatusRow, DS.device_id == DEV.id)
                        .where(DEV.id.in_(sorted(found))).order_by(SITE.name, DEV.name))
    return [VantageDisagreement(device_id=r.id, device=r.name, site_slug=r.slug, site_name=r.site_name,
                                state=r.state or "unknown", vantages=[_out(v) for v in found[r.id]])
            for r in rows][:limit]


def poller_processes(conn: Connection, now: datetime) -> list[PollerProcessOut]:
    """Every poller process that beat in the last day, stale ones included (one query)."""
    out: list[PollerProcessOut] = []
    for r in conn.execute(select(PI.poller_id, PI.poller_group, PI.vantage, PI.host, PI.pid, PI.shards,
                                 PI.shard_count, PI.heartbeat_s, PI.last_seen)
                          .order_by(PI.poller_group, PI.poller_id)):
        age = max(0.0, (now - r.last_seen).total_seconds())
        out.append(PollerProcessOut(poller_id=r.poller_id, poller_group=r.poller_group, vantage=r.vantage,
                                    host=r.host, pid=r.pid, shards=len(r.shards or []), shard_count=r.shard_count,
                                    last_seen=r.last_seen, age_s=age, stale=age > ALIVE_BEATS * r.heartbeat_s))
    return out

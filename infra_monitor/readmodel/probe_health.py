"""How each probe kind is doing across the inventory: targets, answering, failing, and the partial failures
that no device state shows.

A device stays UP while any of its availability checks answers, so SNMP timing out on both core routers
every minute changes no state and raises no problem. This module reads the latest result per (device, kind)
and names the devices where a kind fails while the device itself is UP, so the overview can say so. A kind
whose last sweeps had no targets is reported as such, never as "fresh".
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.engine import Connection

from infra_monitor.config import Settings
from infra_monitor.readmodel.frame import DEV, DS, SITE, monitored
from infra_monitor.readmodel.schemas import FailingCheck, KindHealth
from infra_monitor.status.store.models import DeviceStatusRow, PollerHeartbeatRow
from infra_monitor.storage.models import LatestResult
from inventory.models import Device, Site

LR = LatestResult.__table__.c  # type: ignore[attr-defined]
HB = PollerHeartbeatRow.__table__.c  # type: ignore[attr-defined]
FAILING_SHOWN = 10
VERDICTS = ("ok", "partial", "failing", "no_targets", "never_swept")


def _recent(settings: Settings, kind: str) -> timedelta:
    """How old a latest result may be and still describe the present: two intervals, at least the stale age."""
    interval = next((cfg.interval_s for k, cfg in settings.probes if k == kind), 60)
    return timedelta(seconds=max(settings.web.stale_after_s, 2 * interval))


def kind_health(conn: Connection, settings: Settings, now: datetime) -> list[KindHealth]:
    """One row per enabled probe kind (three queries whatever the inventory's size)."""
    enabled = [k for k, cfg in settings.probes if cfg.enabled]
    if not enabled:
        return []
    targets: dict[str, int] = {}
    swept: dict[str, datetime | None] = {}
    for r in conn.execute(select(HB.kind, func.sum(HB.targets), func.max(HB.last_sweep_finished))
                          .where(HB.kind.in_(enabled)).group_by(HB.kind)):
        targets[r[0]], swept[r[0]] = int(r[1] or 0), r[2]
    recent = or_(*[and_(LR.kind == k, LR.ts >= now - _recent(settings, k)) for k in enabled])
    joined = (LatestResult.__table__.join(Device, DEV.id == LR.device_id)  # type: ignore[attr-defined]
              .outerjoin(DeviceStatusRow, DS.device_id == LR.device_id))
    tally = {r.kind: r for r in conn.execute(
        select(LR.kind, func.sum(case((LR.success, 1), else_=0)).label("ok"),
               func.sum(case((LR.success, 0), else_=1)).label("failed"),
               func.sum(case((and_(LR.success.is_(False), DS.hard_state == "up"), 1), else_=0)).label("partial"))
        .select_from(joined).where(monitored(), recent).group_by(LR.kind))}
    # the first FAILING_SHOWN of each kind (a window function: one kind failing everywhere must not hide
    # the few devices another kind fails on)
    ranked = (select(LR.kind, LR.device_id, LR.error, LR.ts, DEV.name, SITE.slug, SITE.name.label("site"),
                     func.row_number().over(partition_by=LR.kind, order_by=(DEV.name, DEV.id)).label("rn"))
              .select_from(joined.join(Site, SITE.id == DEV.site_id))
              .where(monitored(), recent, LR.success.is_(False), DS.hard_state == "up").subquery())
    failing: dict[str, list[FailingCheck]] = {}
    for r in conn.execute(select(ranked).where(ranked.c.rn <= FAILING_SHOWN).order_by(ranked.c.kind, ranked.c.rn)):
        failing.setdefault(r.kind, []).append(FailingCheck(device_id=r.device_id, device=r.name, site_slug=r.slug,
                                                           site=r.site, error=r.error or "", at=r.ts))
    out = []
    for kind in enabled:
        t = tally.get(kind)
        ok, failed, partial = (int(t.ok or 0), int(t.failed or 0), int(t.partial or 0)) if t else (0, 0, 0)
        n_targets = targets.get(kind, 0)
        if kind not in targets:
            verdict = "never_swept"
        elif n_targets == 0:
            verdict = "no_targets"
        elif failed and not ok:
            verdict = "failing"
        elif partial:
            verdict = "partial"
        else:
            verdict = "ok"
        out.append(KindHealth(kind=kind, targets=n_targets, answering=ok, failing=failed, failing_while_up=partial,
                              failing_devices=failing.get(kind, []), last_sweep_at=swept.get(kind),
                              verdict=verdict))
    return out


__all__ = ["VERDICTS", "kind_health"]

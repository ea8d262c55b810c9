"""Persistence of the status engine: apply one sweep to the database in a constant number of queries.

:func:`apply_sweep` loads the inventory graph, the regions, the previous statuses, the maintenance windows
and the open state intervals (one query each), runs :func:`engine.evaluate`, then writes in bulk: changed
statuses (one upsert), closed and opened state intervals, events (the start of monitoring of many devices
as one row), problems (:mod:`infra_monitor.status.store.problems`) and outbox notifications. It never
commits: the caller owns the transaction. Inventory tables are read with plain SQL over the columns the
inventory guarantees (device, site, circuit, circuit_termination, region, region_parent_link).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import RowMapping, Table, bindparam, delete, insert, or_, select, text, update
from sqlalchemy.orm import Session

from infra_monitor.status.engine.availability import StateInterval
from infra_monitor.status.engine.config import StatusConfig
from infra_monitor.status.engine.problems import ProblemPlan
from infra_monitor.status.engine.rules import evaluate, stale_devices
from infra_monitor.status.engine.states import (
    Cause,
    DeviceStatus,
    EventKind,
    Severity,
    State,
    Transition,
    hard_view,
)
from infra_monitor.status.engine.topology import CircuitLink, DeviceNode, Topology, build_topology
from infra_monitor.status.maintenance.windows import MaintenanceWindow, ScopeIndex, ScopeType, WindowKind, is_active
from infra_monitor.status.notify.dispatcher import DeviceInfo, NotifyContext, plan_notifications
from infra_monitor.status.store.models import (
    DeviceStatusRow,
    EventRow,
    MaintenanceWindowRow,
    NotificationRow,
    PollerHeartbeatRow,
    StateIntervalRow,
)
from infra_monitor.status.store.problems import record as record_problems
from infra_monitor.status.store.site_tally import refresh_site_tally, tally_changed
from inventory import dated
from inventory.dated import RegionTree
from inventory.monitoring import read_graph

log = logging.getLogger(__name__)

_FLAP_CODE = {State.UP: "U", State.DOWN: "D", State.UNREACHABLE: "R", State.UNKNOWN: "K", State.MAINTENANCE: "M"}
_FLAP_STATE = {v: k for k, v in _FLAP_CODE.items()}
SWEEP_LOCK_KEY = 0x1A7A_5EED  # PostgreSQL advisory lock serialising apply_sweep across processes


def _table(model: Any) -> Table:
    return model.__table__  # type: ignore[no-any-return]


# ---------------------------------------------------------------- inventory ---------------------------------


def load_topology(session: Session, *, monitored_only: bool = True) -> Topology:
    """The device graph from the inventory (3 queries, :func:`inventory.monitoring.read_graph`). With
    ``monitored_only``, devices not monitored are left out and their children re-attached to the nearest
    monitored ancestors."""
    graph = read_graph(session.connection())
    ends: dict[int, dict[str, Any]] = {}
    for t in graph.terminations:
        c = ends.setdefault(t.circuit_id, {"id": t.circuit_id, "status": t.circuit_status})
        c[f"{t.side.lower()}_device_id"] = t.device_id
        c[f"{t.side.lower()}_site_id"] = t.site_id
    topo = build_topology(
        [DeviceNode(id=d.id, site_id=d.site_id, parent_id=d.parent_id, name=d.name) for d in graph.devices],
        [CircuitLink(**c) for c in ends.values()],
        site_region={s.id: s.region_id for s in graph.sites},
        site_name={s.id: s.name for s in graph.sites},
    )
    if not monitored_only:
        return topo
    return topo.restricted_to({d.id for d in graph.devices if d.monitored})


def load_regions(session: Session, on: date) -> RegionTree:
    """Regions (named as on ``on``) and their parents on ``on`` (three queries, :mod:`inventory.dated`)."""
    return dated.load_regions(session.connection(), on).tree


# ---------------------------------------------------------------- statuses -----------------------------------


def _row_to_status(r: RowMapping | Mapping[str, Any]) -> DeviceStatus:
    return DeviceStatus(
        device_id=r["device_id"], state=State(r["state"]), hard=bool(r["hard"]), since=r["since"],
        attempts=r["attempts"], cause=Cause(r["cause"]), root_cause_device_id=r["root_cause_device_id"],
        flapping=bool(r["flapping"]), flap_history=tuple(_FLAP_STATE[c] for c in r["flap_history"] or ""),
        percent_state_change=r["percent_state_change"], last_check_at=r["last_check_at"],
        last_ok_at=r["last_ok_at"], hard_state=State(r["hard_state"]), hard_since=r["hard_since"],
    )


def _status_to_row(s: DeviceStatus, now: datetime) -> dict[str, Any]:
    return {
        "device_id": s.device_id, "state": s.state.value, "hard": s.hard, "since": s.since, "attempts": s.attempts,
        "cause": s.cause.value, "root_cause_device_id": s.root_cause_device_id, "flapping": s.flapping,
        "flap_history": "".join(_FLAP_CODE[x] for x in s.flap_history),
        "percent_state_change": s.percent_state_change, "last_check_at": s.last_check_at,
        "last_ok_at": s.last_ok_at, "hard_state": s.hard_state.value, "hard_since": s.hard_since, "updated_at": now,
    }


def load_statuses(session: Session) -> dict[int, DeviceStatus]:
    """Current status of every device (1 query)."""
    rows = session.execute(select(_table(DeviceStatusRow))).mappings()
    return {r["device_id"]: _row_to_status(r) for r in rows}


def _upsert(session: Session, table: Table, rows: list[dict[str, Any]], keys: list[str]) -> None:
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert  # type: ignore[assignment]
    else:
        raise ValueError(f"database {dialect!r} is not supported: use SQLite or PostgreSQL")
    stmt = dialect_insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=keys, set_={c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys}
    )
    session.execute(stmt, rows)


# ---------------------------------------------------------------- maintenance windows ------------------------


def window_from_row(r: RowMapping | Mapping[str, Any]) -> MaintenanceWindow:
    """The plain window of a ``maintenance_window`` row (raises ValueError when the row is invalid)."""
    return MaintenanceWindow(
        id=r["id"], name=r["name"], kind=WindowKind(r["kind"]), scope_type=ScopeType(r["scope_type"]),
        scope_id=r["scope_id"], start=r["start"], end=r["end"], days=tuple(r["days"] or ()),
        start_time=r["start_time"], duration_min=r["duration_min"], cron=r["cron"], tz=r["tz"],
    )


def load_windows(session: Session) -> list[tuple[MaintenanceWindow, datetime | None]]:
    """Every valid window with its ``active_since`` (1 query); invalid rows are logged and skipped."""
    out = []
    for r in session.execute(select(_table(MaintenanceWindowRow))).mappings():
        try:
            out.append((window_from_row(r), r["active_since"]))
        except ValueError as exc:
            log.warning("maintenance_window_invalid id=%s error=%r", r["id"], str(exc))
    return out


# ---------------------------------------------------------------- sweep --------------------------------------


@dataclass
class SweepOutcome:
    statuses: dict[int, DeviceStatus]
    transitions: list[Transition]
    events: int = 0
    notifications: int = 0
    intervals_opened: int = 0
    in_maintenance: set[int] = field(default_factory=set)
    problems: ProblemPlan = field(default_factory=ProblemPlan)


def _device_label(topo: Topology, device_id: int | None) -> str:
    if device_id is None:
        return ""
    return topo.device_name.get(device_id) or f"device #{device_id}"


def _event_message(t: Transition, topo: Topology) -> str:
    name = _device_label(topo, t.device_id)
    if t.kind is EventKind.FLAP_START:
        return f"{name}: flapping started ({t.percent_state_change}% state change)"
    if t.kind is EventKind.FLAP_STOP:
        return f"{name}: flapping stopped ({t.percent_state_change}% state change), now {t.new_state.value}"
    old = t.old_state.value if t.old_state else "new"
    msg = f"{name}: {old} → {t.new_state.value}"
    if t.root_cause_device_id is not None:
        msg += f" (behind {_device_label(topo, t.root_cause_device_id)}"
        msg += ", maintenance)" if t.cause is Cause.MAINTENANCE else ")"
    return msg[:500]


STARTED_IDS_KEPT = 100


def _started_row(started: list[Transition], topo: Topology) -> dict[str, Any]:
    """One info event for every device whose monitoring started in this sweep (the first start: hundreds)."""
    one = started[0].device_id if len(started) == 1 else None
    names = sorted(_device_label(topo, t.device_id) for t in started)
    noun = "device" if len(started) == 1 else "devices"
    return {
        "time": started[0].at, "kind": EventKind.MONITORING_STARTED.value, "device_id": one,
        "site_id": topo.device_site.get(one) if one is not None else None, "severity": Severity.INFO.value,
        "old_state": None, "new_state": State.UP.value, "cause": None, "root_cause_device_id": None,
        "maintenance_window_id": None,
        "message": (f"monitoring started for {len(started)} {noun}" + (f": {names[0]}" if one else ""))[:500],
        # the first ids only: a first start of a national inventory would otherwise store 100k ids in one row
        "details": {"count": len(started), "device_ids": sorted(t.device_id for t in started)[:STARTED_IDS_KEPT],
                    "notified": False},
    }


def _event_rows(transitions: Iterable[Transition], topo: Topology) -> list[dict[str, Any]]:
    transitions = list(transitions)
    started = [t for t in transitions if t.kind is EventKind.MONITORING_STARTED]
    return ([_started_row(started, topo)] if started else []) + [{
        "time": t.at, "kind": t.kind.value, "device_id": t.device_id, "site_id": topo.device_site.get(t.device_id),
        "severity": t.severity.value, "old_state": t.old_state.value if t.old_state else None,
        "new_state": t.new_state.value, "cause": t.cause.value, "root_cause_device_id": t.root_cause_device_id,
        "maintenance_window_id": None, "message": _event_message(t, topo),
        "details": {"since": t.since.isoformat(), "notified": t.notify,
                    "old_cause": t.old_cause.value if t.old_cause else None,
                    "old_root_cause_device_id": t.old_root_cause_device_id,
                    "percent_state_change": t.percent_state_change},
    } for t in transitions if t.kind is not EventKind.MONITORING_STARTED]


def _maintenance(
    session: Session, windows: list[tuple[MaintenanceWindow, datetime | None]], now: datetime, scope: ScopeIndex
) -> tuple[set[int], list[dict[str, Any]]]:
    """Devices in maintenance now; start/end events for windows that changed, their ``active_since`` updated."""
    devices: set[int] = set()
    events: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    for w, active_since in windows:
        active = is_active(w, now)
        if active:
            devices |= scope.devices_in_scope(w.scope_type, w.scope_id)
        if active == (active_since is not None):
            continue
        kind = EventKind.MAINTENANCE_START if active else EventKind.MAINTENANCE_END
        changes.append({"_id": w.id, "_since": now if active else None})
        events.append({
            "time": now, "kind": kind.value, "device_id": w.scope_id if w.scope_type is ScopeType.DEVICE else None,
            "site_id": w.scope_id if w.scope_type is ScopeType.SITE else None, "severity": Severity.INFO.value,
            "old_state": None, "new_state": None, "cause": Cause.MAINTENANCE.value, "root_cause_device_id": None,
            "maintenance_window_id": w.id,
            "message": f"maintenance {w.name!r} {'started' if active else 'ended'}"[:500],
            "details": {"scope_type": w.scope_type.value, "scope_id": w.scope_id, "window_kind": w.kind.value,
                        "window": w.name},
        })
    if changes:
        t = _table(MaintenanceWindowRow)
        session.execute(update(t).where(t.c.id == bindparam("_id")).values(active_since=bindparam("_since")), changes)
    return devices, events


def _write_intervals(
    session: Session, statuses: Mapping[int, DeviceStatus], removed: Set[int], now: datetime
) -> int:
    """Close intervals whose hard state ended and open the new ones (3 queries at most)."""
    t = _table(StateIntervalRow)
    current: dict[int, Any] = {}
    for row in session.execute(
        select(t.c.id, t.c.device_id, t.c.state, t.c.cause, t.c.root_cause_device_id, t.c.start)
        .where(t.c.end.is_(None)).order_by(t.c.device_id, t.c.start)
    ):
        if row.device_id in current:  # a duplicate open interval: end the older where the newer starts
            current[row.device_id] = (row, [*current[row.device_id][1], (current[row.device_id][0].id, row.start)])
        else:
            current[row.device_id] = (row, [])
    closes: list[dict[str, Any]] = []
    opens: list[dict[str, Any]] = []
    for d, (row, extra) in current.items():
        closes += [{"_id": i, "_end": end} for i, end in extra]
        if d in removed:
            closes.append({"_id": row.id, "_end": max(now, row.start)})
    for d, st in statuses.items():
        hv = hard_view(st)
        key = (hv.state.value, hv.cause.value, hv.root_cause_device_id)
        cur = current[d][0] if d in current else None
        if cur is not None and (cur.state, cur.cause, cur.root_cause_device_id) == key:
            continue
        start = hv.since if cur is None else max(hv.since, cur.start)
        if cur is not None:
            closes.append({"_id": cur.id, "_end": start})
        opens.append({"device_id": d, "state": key[0], "cause": key[1], "root_cause_device_id": key[2],
                      "start": start, "end": None})
    if closes:
        session.execute(update(t).where(t.c.id == bindparam("_id")).values(end=bindparam("_end")), closes)
    if opens:
        session.execute(insert(t), opens)
    return len(opens)


def _notify_context(
    topo: Topology, regions: RegionTree, statuses: Mapping[int, DeviceStatus], transitions: Iterable[Transition]
) -> NotifyContext:
    ids: set[int] = set()
    for t in transitions:
        if t.notify:
            ids.add(t.device_id)
            ids.update(x for x in (t.root_cause_device_id, t.old_root_cause_device_id) if x is not None)
    infos = {}
    for d in ids:
        site = topo.device_site.get(d)
        region = topo.site_region.get(site) if site is not None else None
        infos[d] = DeviceInfo(
            device_id=d, name=topo.device_name.get(d, ""), site_id=site,
            site_name=topo.site_name.get(site, "") if site is not None else "",
            region_name=regions.name(region), level=regions.level(region), region_keys=regions.keys(region),
        )
    return NotifyContext(devices=infos, statuses=statuses)


def lock_sweeps(session: Session) -> None:
    """Serialise sweeps on this database until the caller's transaction ends (two poller jobs applying
    sweeps at once would otherwise both see the old statuses): an advisory lock on PostgreSQL, the write
    lock (taken by a no-op UPDATE) on SQLite."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SWEEP_LOCK_KEY})
    else:
        session.execute(text("UPDATE device_status SET attempts = attempts WHERE 1 = 0"))


def apply_sweep(
    session: Session,
    observations: Mapping[int, bool | None],
    now: datetime,
    config: StatusConfig,
    *,
    kinds: Mapping[int, Iterable[str]] | None = None,
    stale: Set[int] | None = None,
    topology: Topology | None = None,
    regions: RegionTree | None = None,
) -> SweepOutcome:
    """Evaluate one sweep and persist everything it implies (does not commit; other sweeps on the same
    database wait until the caller's transaction ends).

    ``observations``: device id → True (some availability check succeeded), False (all failed), None/absent
    (not checked now). ``stale`` defaults to the devices unchecked for ``config.stale_after_s``.
    ``topology``/``regions`` are loaded from the inventory when not given.
    """
    lock_sweeps(session)
    topo = topology if topology is not None else load_topology(session)
    tree = regions if regions is not None else load_regions(session, now.astimezone(ZoneInfo(config.timezone)).date())
    previous = load_statuses(session)
    scope = ScopeIndex(topo.device_site, topo.site_region, tree.descendants())
    in_maint, window_events = _maintenance(session, load_windows(session), now, scope)
    stale_set = stale if stale is not None else stale_devices(previous, now, config)
    statuses, transitions = evaluate(previous, observations, now, topo, config, in_maint, stale_set, kinds)

    removed = set(previous) - set(statuses)
    if removed:
        session.execute(delete(_table(DeviceStatusRow)).where(_table(DeviceStatusRow).c.device_id.in_(removed)))
    changed = [_status_to_row(s, now) for d, s in statuses.items() if previous.get(d) != s]
    _upsert(session, _table(DeviceStatusRow), changed, ["device_id"])
    retallied = removed | {d for d, s in statuses.items() if tally_changed(previous.get(d), s)}
    refresh_site_tally(session, {s for d in retallied if (s := topo.device_site.get(d)) is not None}, now)
    opened = _write_intervals(session, statuses, removed, now)
    problem_plan = record_problems(session, statuses, topo, now)

    events = _event_rows(transitions, topo) + window_events
    if events:
        session.execute(insert(_table(EventRow)), events)
    planned = plan_notifications(transitions, _notify_context(topo, tree, statuses, transitions), config.channels, now)
    if planned:
        session.execute(insert(_table(NotificationRow)), [
            {"channel": ch, "payload": payload, "status": "pending", "attempts": 0, "next_attempt_at": now,
             "created_at": now, "last_error": None, "sent_at": None}
            for ch, payload in planned
        ])
    log.info("status_sweep_applied devices=%d changed=%d transitions=%d events=%d notifications=%d maintenance=%d "
             "problems_opened=%d problems_resolved=%d", len(statuses), len(changed), len(transitions), len(events),
             len(planned), len(in_maint), len(problem_plan.opens), len(problem_plan.resolves))
    return SweepOutcome(statuses, transitions, len(events), len(planned), opened, in_maint, problem_plan)


def record_heartbeat(session: Session, poller_group: str, kind: str, started: datetime, finished: datetime,
                     targets: int, overran: bool) -> None:
    """Upsert the heartbeat of one sweep (overruns accumulate)."""
    t = _table(PollerHeartbeatRow)
    prev = session.execute(select(t.c.overruns).where(t.c.poller_group == poller_group, t.c.kind == kind)).scalar()
    _upsert(session, t, [{"poller_group": poller_group, "kind": kind, "last_sweep_started": started,
                          "last_sweep_finished": finished, "targets": targets,
                          "overruns": (prev or 0) + (1 if overran else 0)}], ["poller_group", "kind"])


def load_intervals(
    session: Session, start: datetime, end: datetime, device_ids: Iterable[int] | None = None
) -> list[StateInterval]:
    """State intervals overlapping [start, end), for availability reports (1 query)."""
    t = _table(StateIntervalRow)
    q = select(t).where(t.c.start < end, or_(t.c.end.is_(None), t.c.end > start))
    if device_ids is not None:
        q = q.where(t.c.device_id.in_(list(device_ids)))
    return [
        StateInterval(r["device_id"], State(r["state"]), Cause(r["cause"]), r["root_cause_device_id"],
                      r["start"], r["end"])
        for r in session.execute(q.order_by(t.c.device_id, t.c.start)).mappings()
    ]

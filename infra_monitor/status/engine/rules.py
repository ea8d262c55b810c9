"""The state engine: one sweep's observations + previous statuses → new statuses and hard transitions.

Pure function over plain data (see :func:`evaluate`). Semantics, Nagios-like:

* A device is UP when any of its availability checks succeeded (observation True), failing when all failed
  (False); None means it was not checked in this sweep and its status is carried over.
* A failing device whose parents are *all* failing in this sweep (DOWN or UNREACHABLE, soft or hard; or in
  maintenance with a failed check) is UNREACHABLE, with ``root_cause_device_id`` the nearest failing ancestor
  that is itself DOWN (or in maintenance). Devices are evaluated parents-first so a commune failing in the
  same sweep as its district is classified behind it. If the nearest root is in maintenance the cause is
  MAINTENANCE (planned work counts against nobody), unless another uplink's root is a real failure.
* A failure is soft until ``retries`` consecutive failed checks, then hard; the hard state begins at the
  first failed check. Recovery to UP is immediate. Once hard-failing, DOWN↔UNREACHABLE changes are immediate.
* Devices in a maintenance window are MAINTENANCE; their failed checks still count, so a device that is
  still failing when its window ends is hard DOWN at once if it failed ``retries`` times.
* A device with no observation whose poller stopped reporting (``stale``) is UNKNOWN (no data), not DOWN.
* Transitions are reported only for hard changes of (state, cause, root cause) and for flap start/stop;
  ``notify`` is False during maintenance, while flapping and for first sightings that are UP.
* A device that never had a state (first seen, or UNKNOWN since and never checked) becoming UP is the start
  of its monitoring (MONITORING_STARTED, severity info, never notified), not a recovery from "no data".
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass, replace
from datetime import datetime

from infra_monitor.status.engine.config import StatusConfig
from infra_monitor.status.engine.flapping import is_flapping, percent_state_change
from infra_monitor.status.engine.states import (
    FAILING_STATES,
    FLAP_HISTORY_LEN,
    Cause,
    DeviceStatus,
    EventKind,
    State,
    Transition,
    hard_view,
    initial_status,
)
from infra_monitor.status.engine.topology import Topology

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Cut:
    """A device that passes no traffic in this sweep: who is to blame and how far away."""

    root: int
    depth: int
    maintenance: bool


@dataclass(frozen=True)
class _Failure:
    state: State
    cause: Cause
    root: int | None
    cut: _Cut


def stale_devices(statuses: Mapping[int, DeviceStatus], now: datetime, config: StatusConfig) -> set[int]:
    """Devices not checked for more than ``config.stale_after_s`` (never-checked ones count from
    when they were first seen)."""
    out: set[int] = set()
    for d, st in statuses.items():
        last = st.last_check_at or st.hard_since or st.since
        if (now - last).total_seconds() > config.stale_after_s:
            out.add(d)
    return out


def combine_checks(
    checks: Iterable[tuple[int, str, datetime, bool]], now: datetime, max_age_s: float
) -> tuple[dict[int, bool], dict[int, set[str]]]:
    """Latest result per (device, kind) → per-device observation: True when any check younger than
    ``max_age_s`` succeeded, False when all of them failed; devices with no fresh check are left out.
    Also returns the kinds seen per device (for per-kind retries)."""
    observed: dict[int, bool] = {}
    kinds: dict[int, set[str]] = {}
    for device_id, kind, ts, success in checks:
        if (now - ts).total_seconds() > max_age_s:
            continue
        observed[device_id] = observed.get(device_id, False) or bool(success)
        kinds.setdefault(device_id, set()).add(kind)
    return observed, kinds


def evaluate(
    previous: Mapping[int, DeviceStatus],
    observations: Mapping[int, bool | None],
    now: datetime,
    topology: Topology,
    config: StatusConfig,
    maintenance_active: Set[int] = frozenset(),
    stale: Set[int] = frozenset(),
    kinds: Mapping[int, Iterable[str]] | None = None,
) -> tuple[dict[int, DeviceStatus], list[Transition]]:
    """Evaluate one sweep.

    Returns the new status of every device of ``topology`` and the transitions, in parents-first order.
    Devices absent from the topology (deleted, no longer monitored) are dropped, even if observed.
    ``kinds`` gives each device's probe kinds, used for per-kind retries.
    """
    sweep = _Sweep(topology, config, now, kinds or {})
    order = topology.topological_order(allow_cycles=True)
    ignored = set(observations) - set(topology.parents)
    if ignored:
        log.debug("observations_ignored count=%d reason=not_in_topology", len(ignored))
    statuses: dict[int, DeviceStatus] = {}
    transitions: list[Transition] = []
    for d in order:
        known = previous.get(d)
        prev = known if known is not None else initial_status(d, now)
        ok = observations.get(d)
        in_maint = d in maintenance_active
        if ok is None and not in_maint and d in stale:
            new = sweep.no_data(prev)
        elif ok is None:
            new = sweep.carry(prev, in_maint)
        else:
            new = sweep.checked(prev, ok, in_maint)
        statuses[d] = new
        transitions.extend(_transitions(known, prev, new, now))
    if transitions:
        log.info("sweep_evaluated devices=%d transitions=%d", len(statuses), len(transitions))
    return statuses, transitions


class _Sweep:
    """State shared while walking the devices of one sweep in topological order."""

    def __init__(self, topology: Topology, config: StatusConfig, now: datetime, kinds: Mapping[int, Iterable[str]]):
        self.topology = topology
        self.config = config
        self.now = now
        self.kinds = kinds
        self.cut: dict[int, _Cut] = {}

    def retries(self, d: int) -> int:
        return self.config.retries_for(self.kinds.get(d, ()))

    def classify_failure(self, d: int) -> _Failure:
        """DOWN (own failure) unless every parent is cut off in this sweep: then UNREACHABLE."""
        parents = self.topology.parents_of(d)
        if not parents or any(p not in self.cut for p in parents):
            return _Failure(State.DOWN, Cause.OWN_FAILURE, None, _Cut(d, 0, False))
        candidates = [self.cut[p] for p in parents]
        real = [c for c in candidates if not c.maintenance]
        best = min(real or candidates, key=lambda c: (c.depth, c.root))
        cause = Cause.MAINTENANCE if best.maintenance else Cause.PARENT_UNREACHABLE
        return _Failure(State.UNREACHABLE, cause, best.root, _Cut(best.root, best.depth + 1, best.maintenance))

    def _remember(self, status: DeviceStatus, failure: _Failure | None) -> DeviceStatus:
        d = status.device_id
        if status.state is State.MAINTENANCE and status.last_raw_failed:
            self.cut[d] = _Cut(d, 0, True)
        elif status.state in FAILING_STATES:
            if failure is not None:
                self.cut[d] = failure.cut
            elif status.state is State.DOWN or status.root_cause_device_id is None:
                self.cut[d] = _Cut(d, 0, False)
            else:
                self.cut[d] = _Cut(status.root_cause_device_id, 1, status.cause is Cause.MAINTENANCE)
        return status

    def no_data(self, prev: DeviceStatus) -> DeviceStatus:
        if prev.hard and prev.state is State.UNKNOWN:
            return self._remember(prev, None)
        # The silence began at the last check, not when it is noticed: a poller stopped for an hour is an hour
        # of no data, never an hour of its devices' last state.
        since = self.now if prev.last_check_at is None else min(self.now, max(prev.last_check_at, prev.since))
        new = replace(
            prev, state=State.UNKNOWN, hard=True, since=since, attempts=0, cause=Cause.NO_DATA,
            root_cause_device_id=None, hard_state=State.UNKNOWN, hard_since=since,
        )
        return self._remember(new, None)

    def carry(self, prev: DeviceStatus, in_maint: bool) -> DeviceStatus:
        """No check in this sweep: keep the status, but enter or leave maintenance as scheduled."""
        if in_maint and prev.state is not State.MAINTENANCE:
            return self._remember(self._maintenance(prev, prev.flap_history, prev.attempts), None)
        if not in_maint and prev.state is State.MAINTENANCE:
            if not prev.flap_history:
                return self._remember(replace(initial_status(prev.device_id, self.now), flapping=prev.flapping),
                                      None)
            return self._after_check(prev, not prev.last_raw_failed, counted=False)
        return self._remember(prev, None)

    def checked(self, prev: DeviceStatus, ok: bool, in_maint: bool) -> DeviceStatus:
        if in_maint:
            failure = None if ok else self.classify_failure(prev.device_id)
            raw = State.UP if failure is None else failure.state
            history = (*prev.flap_history, raw)[-FLAP_HISTORY_LEN:]
            status = self._maintenance(prev, history, 0 if ok else prev.attempts + 1)
            status = replace(status, last_check_at=self.now, last_ok_at=self.now if ok else prev.last_ok_at)
            return self._remember(self._with_flapping(prev, status), None)
        return self._after_check(prev, ok, counted=True)

    def _maintenance(self, prev: DeviceStatus, history: tuple[State, ...], attempts: int) -> DeviceStatus:
        since = prev.since if prev.hard and prev.state is State.MAINTENANCE else self.now
        return replace(
            prev, state=State.MAINTENANCE, hard=True, since=since, attempts=attempts, cause=Cause.MAINTENANCE,
            root_cause_device_id=None, flap_history=history, hard_state=State.MAINTENANCE, hard_since=since,
        )

    def _with_flapping(self, prev: DeviceStatus, status: DeviceStatus) -> DeviceStatus:
        pct = percent_state_change(status.flap_history)
        flapping = is_flapping(prev.flapping, pct, self.config.flap_high_threshold, self.config.flap_low_threshold)
        return replace(status, percent_state_change=pct, flapping=flapping)

    def _after_check(self, prev: DeviceStatus, ok: bool, *, counted: bool) -> DeviceStatus:
        """Apply a check result (``counted``) or re-apply the last one when leaving maintenance."""
        d = prev.device_id
        now = self.now
        failure = None if ok else self.classify_failure(d)
        leaving_maint = prev.state is State.MAINTENANCE
        if failure is None:
            if prev.hard and prev.state is State.UP:
                since = prev.since
            elif not prev.hard and prev.hard_state is State.UP and prev.hard_since is not None:
                since = prev.hard_since
            else:
                since = now
            new = replace(prev, state=State.UP, hard=True, since=since, attempts=0, cause=Cause.NONE,
                          root_cause_device_id=None, hard_state=State.UP, hard_since=since)
        else:
            attempts = prev.attempts + 1 if counted else prev.attempts
            soft_failing = not prev.hard and prev.state in FAILING_STATES
            if prev.hard and prev.state in FAILING_STATES:
                unchanged = (failure.state, failure.cause, failure.root) == (
                    prev.state, prev.cause, prev.root_cause_device_id)
                since = prev.since if unchanged else now
                hard = True
            else:
                since = prev.since if soft_failing else now
                hard = attempts >= self.retries(d)
            if hard:
                hard_state, hard_since = failure.state, since
            elif leaving_maint:
                hard_state, hard_since = State.UP, now
            elif prev.hard:
                hard_state, hard_since = prev.state, prev.since
            else:
                hard_state, hard_since = prev.hard_state, prev.hard_since or prev.since
            new = replace(prev, state=failure.state, hard=hard, since=since, attempts=attempts,
                          cause=failure.cause, root_cause_device_id=failure.root,
                          hard_state=hard_state, hard_since=hard_since)
        if counted:
            raw = State.UP if failure is None else failure.state
            new = replace(new, flap_history=(*prev.flap_history, raw)[-FLAP_HISTORY_LEN:], last_check_at=now,
                          last_ok_at=now if ok else prev.last_ok_at)
            new = self._with_flapping(prev, new)
        return self._remember(new, failure)


def _notify_state_change(old: DeviceStatus, old_state: State | None, new: DeviceStatus) -> bool:
    """Whether a hard state change deserves a notification (the dispatcher may still filter it)."""
    if old.flapping or new.flapping:
        return False
    new_h = hard_view(new)
    if new_h.state is State.MAINTENANCE or new_h.cause is Cause.MAINTENANCE:
        return False
    if new_h.state is State.UP:
        if old_state is None or old_state is State.MAINTENANCE:
            return False
        if hard_view(old).cause is Cause.MAINTENANCE:
            return False
    return True


def never_had_state(known: DeviceStatus | None, prev: DeviceStatus) -> bool:
    """Whether a device had no state before this sweep: first seen, or "no data" since and never checked."""
    if known is None:
        return True
    return hard_view(prev).state is State.UNKNOWN and prev.last_check_at is None and not prev.flap_history


def _transitions(known: DeviceStatus | None, prev: DeviceStatus, new: DeviceStatus, now: datetime) -> list[Transition]:
    out: list[Transition] = []
    old_h = hard_view(prev)
    new_h = hard_view(new)
    old_state = old_h.state if known is not None else None
    in_maint = new.state is State.MAINTENANCE or new.cause is Cause.MAINTENANCE
    if (old_h.state, old_h.cause, old_h.root_cause_device_id) != (new_h.state, new_h.cause, new_h.root_cause_device_id):
        started = new_h.state is State.UP and never_had_state(known, prev)
        out.append(Transition(
            device_id=new.device_id, kind=EventKind.MONITORING_STARTED if started else EventKind.STATE_CHANGE,
            at=now, old_state=old_state, new_state=new_h.state, cause=new_h.cause,
            root_cause_device_id=new_h.root_cause_device_id, since=new_h.since,
            notify=False if started else _notify_state_change(prev, old_state, new),
            old_cause=old_h.cause if known is not None else None,
            old_root_cause_device_id=old_h.root_cause_device_id,
        ))
    if new.flapping != prev.flapping:
        out.append(Transition(
            device_id=new.device_id, kind=EventKind.FLAP_START if new.flapping else EventKind.FLAP_STOP,
            at=now, old_state=old_state, new_state=new_h.state, cause=new_h.cause,
            root_cause_device_id=new_h.root_cause_device_id, since=now, notify=not in_maint,
            percent_state_change=round(new.percent_state_change, 2),
        ))
    return out

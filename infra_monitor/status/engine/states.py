"""Vocabulary of the status engine: states, causes, severities and the plain dataclasses it passes around.

Everything here is pure data (no database, no I/O). ``DeviceStatus`` is the engine's memory of one device
between sweeps; ``Transition`` is what a sweep reports when a device's *hard* state (or its cause/root cause)
changes, or when flapping starts/stops.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

FLAP_HISTORY_LEN = 21


class State(StrEnum):
    """What operators see for a device."""

    UP = "up"
    DOWN = "down"
    UNREACHABLE = "unreachable"
    UNKNOWN = "unknown"
    MAINTENANCE = "maintenance"


FAILING_STATES = frozenset({State.DOWN, State.UNREACHABLE})


class Cause(StrEnum):
    """Why a device is in its state; drives availability attribution."""

    OWN_FAILURE = "own_failure"
    PARENT_UNREACHABLE = "parent_unreachable"
    MAINTENANCE = "maintenance"
    NO_DATA = "no_data"
    NONE = "none"


class EventKind(StrEnum):
    """Kinds of rows in the ``event`` table."""

    STATE_CHANGE = "state_change"
    FLAP_START = "flap_start"
    FLAP_STOP = "flap_stop"
    MAINTENANCE_START = "maintenance_start"
    MAINTENANCE_END = "maintenance_end"
    MONITORING_STARTED = "monitoring_started"  # a device never checked before answered: its first state, UP


class Severity(StrEnum):
    """Event/notification severity, ordered by ``SEVERITY_RANK``."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}

_STATE_SEVERITY = {
    State.UP: Severity.INFO,
    State.DOWN: Severity.CRITICAL,
    State.UNREACHABLE: Severity.WARNING,
    State.UNKNOWN: Severity.WARNING,
    State.MAINTENANCE: Severity.INFO,
}


@dataclass(frozen=True)
class DeviceStatus:
    """The engine's view of one device after a sweep.

    ``state``/``since`` may be a soft failure (``hard`` False): then ``since`` is the time of the first failed
    check and ``hard_state``/``hard_since`` still hold the last confirmed state. When ``hard`` is True,
    ``hard_state == state``. ``attempts`` counts consecutive failed checks (0 after a success).
    ``flap_history`` holds the classified raw state of the last ``FLAP_HISTORY_LEN`` checks, oldest first.
    """

    device_id: int
    state: State
    hard: bool
    since: datetime
    attempts: int = 0
    cause: Cause = Cause.NONE
    root_cause_device_id: int | None = None
    flapping: bool = False
    flap_history: tuple[State, ...] = ()
    percent_state_change: float = 0.0
    last_check_at: datetime | None = None
    last_ok_at: datetime | None = None
    hard_state: State = State.UNKNOWN
    hard_since: datetime | None = None

    @property
    def last_raw_failed(self) -> bool:
        """True when the most recent check of this device failed."""
        return bool(self.flap_history) and self.flap_history[-1] in FAILING_STATES


@dataclass(frozen=True)
class HardView:
    """The confirmed (hard) state of a device: what state intervals and availability are built from."""

    state: State
    cause: Cause
    root_cause_device_id: int | None
    since: datetime


_HARD_CAUSE = {
    State.UP: Cause.NONE,
    State.UNKNOWN: Cause.NO_DATA,
    State.MAINTENANCE: Cause.MAINTENANCE,
}


def hard_view(status: DeviceStatus) -> HardView:
    """Return the confirmed state of ``status`` (its current state if hard, else the last hard one)."""
    if status.hard:
        return HardView(status.state, status.cause, status.root_cause_device_id, status.since)
    since = status.hard_since or status.since
    return HardView(status.hard_state, _HARD_CAUSE.get(status.hard_state, Cause.NONE), None, since)


def initial_status(device_id: int, now: datetime) -> DeviceStatus:
    """Status of a device the engine has never seen: UNKNOWN (no data yet), hard."""
    return DeviceStatus(
        device_id=device_id,
        state=State.UNKNOWN,
        hard=True,
        since=now,
        cause=Cause.NO_DATA,
        hard_state=State.UNKNOWN,
        hard_since=now,
    )


@dataclass(frozen=True)
class Transition:
    """A hard change reported by one sweep.

    ``kind`` is STATE_CHANGE (hard state, cause or root cause changed), FLAP_START or FLAP_STOP.
    ``old_state`` is None for a device seen for the first time. ``since`` is when the new hard state began
    (earlier than ``at`` when a soft failure was confirmed: it starts at the first failed check).
    ``notify`` is the engine's verdict: False during maintenance, while flapping, or for a first sighting.
    """

    device_id: int
    kind: EventKind
    at: datetime
    old_state: State | None
    new_state: State
    cause: Cause
    root_cause_device_id: int | None
    since: datetime
    notify: bool
    old_cause: Cause | None = None
    old_root_cause_device_id: int | None = None
    percent_state_change: float | None = None
    details: dict[str, object] = field(default_factory=dict)

    @property
    def severity(self) -> Severity:
        """CRITICAL for DOWN, WARNING for UNREACHABLE/UNKNOWN/flap start; a recovery to UP carries the
        severity of the state it recovers from, so a channel that got the problem also gets its end."""
        if self.kind is EventKind.FLAP_START:
            return Severity.WARNING
        if self.kind is not EventKind.STATE_CHANGE:
            return Severity.INFO
        if self.new_state is State.UP and self.old_state is not None:
            return _STATE_SEVERITY[self.old_state]
        return _STATE_SEVERITY[self.new_state]

    @property
    def group_root(self) -> int | None:
        """The device whose failure this transition is a consequence of, for grouping notifications:
        the root cause of a newly unreachable device, or of an unreachable device that recovered."""
        if self.new_state is State.UNREACHABLE:
            return self.root_cause_device_id
        if self.new_state is State.UP and self.old_state is State.UNREACHABLE:
            return self.old_root_cause_device_id
        return None

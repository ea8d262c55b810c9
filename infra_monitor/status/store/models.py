"""Tables of the status engine: current status, state intervals, events, maintenance windows, the
notification outbox, poller heartbeats and problems (a root-cause DOWN with the devices cut off behind it,
their membership over time and the actions taken on it).

All datetimes are stored in UTC and read back timezone-aware (``UTCDateTime`` from the inventory base).
Enumerated columns hold the string values of :mod:`infra_monitor.status.engine.states` /
:mod:`infra_monitor.status.maintenance.windows` enums.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, Time, text
from sqlmodel import Field, SQLModel

from inventory.models.base import UTCDateTime, utcnow

# BIGINT on PostgreSQL, INTEGER (rowid alias, auto-increment) on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class DeviceStatusRow(SQLModel, table=True):
    """The engine's current view of each device, one row per device (see ``states.DeviceStatus``)."""

    __tablename__ = "device_status"
    __table_args__ = (Index("ix_device_status_state", "state"),)

    device_id: int = Field(primary_key=True, foreign_key="device.id", ondelete="CASCADE")
    state: str = Field(max_length=12)
    hard: bool = True
    since: datetime = UTCDateTime()
    attempts: int = 0
    cause: str = Field(max_length=20)
    root_cause_device_id: int | None = Field(default=None, foreign_key="device.id", ondelete="SET NULL",
                                             index=True)
    flapping: bool = False
    flap_history: str = Field(default="", max_length=21, description="one letter per check, oldest first")
    percent_state_change: float = 0.0
    last_check_at: datetime | None = UTCDateTime(default=None)
    last_ok_at: datetime | None = UTCDateTime(default=None)
    hard_state: str = Field(max_length=12)
    hard_since: datetime | None = UTCDateTime(default=None)
    updated_at: datetime = UTCDateTime(default_factory=utcnow)


class StateIntervalRow(SQLModel, table=True):
    """A hard state of a device during [start, end); ``end`` is NULL while it lasts."""

    __tablename__ = "state_interval"
    __table_args__ = (
        Index("ix_state_interval_device_start", "device_id", "start"),
        Index("ix_state_interval_root", "root_cause_device_id", "start"),
        Index("ix_state_interval_open", "device_id", sqlite_where=text("\"end\" IS NULL"),
              postgresql_where=text("\"end\" IS NULL")),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    device_id: int = Field(foreign_key="device.id", ondelete="CASCADE")
    state: str = Field(max_length=12)
    cause: str = Field(max_length=20)
    root_cause_device_id: int | None = Field(default=None, foreign_key="device.id", ondelete="SET NULL")
    start: datetime = UTCDateTime()
    end: datetime | None = UTCDateTime(default=None)


class EventRow(SQLModel, table=True):
    """Something operators should see in the log: a hard state change, flap start/stop, a window."""

    __tablename__ = "event"
    __table_args__ = (
        Index("ix_event_time", "time"),
        Index("ix_event_device_time", "device_id", "time"),
        Index("ix_event_site_time", "site_id", "time"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    time: datetime = UTCDateTime()
    kind: str = Field(max_length=20)
    device_id: int | None = Field(default=None, foreign_key="device.id", ondelete="CASCADE")
    site_id: int | None = Field(default=None, foreign_key="site.id", ondelete="SET NULL")
    severity: str = Field(max_length=10)
    old_state: str | None = Field(default=None, max_length=12)
    new_state: str | None = Field(default=None, max_length=12)
    cause: str | None = Field(default=None, max_length=20)
    root_cause_device_id: int | None = Field(default=None, foreign_key="device.id", ondelete="SET NULL")
    maintenance_window_id: int | None = Field(default=None, foreign_key="maintenance_window.id",
                                              ondelete="SET NULL")
    message: str = Field(default="", max_length=500)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class MaintenanceWindowRow(SQLModel, table=True):
    """A planned maintenance (see ``maintenance.MaintenanceWindow`` for the meaning per kind).

    ``active_since`` is kept by the sweep: set when the window is seen active (a maintenance_start event),
    cleared when it is seen inactive again (maintenance_end).
    """

    __tablename__ = "maintenance_window"
    __table_args__ = (Index("ix_maintenance_window_scope", "scope_type", "scope_id"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    scope_type: str = Field(default="all", max_length=10)
    scope_id: int | None = None
    kind: str = Field(default="one_off", max_length=10)
    start: datetime | None = UTCDateTime(default=None)
    end: datetime | None = UTCDateTime(default=None)
    days: list[int] = Field(default_factory=list, sa_type=JSON, description="0 = Monday … 6 = Sunday")
    start_time: time | None = Field(default=None, sa_type=Time, description="local time in tz")
    duration_min: int | None = None
    cron: str | None = Field(default=None, max_length=100)
    tz: str = Field(default="Asia/Ho_Chi_Minh", max_length=64)
    created_by: str = Field(default="", max_length=100)
    comment: str = Field(default="", max_length=1000)
    created_at: datetime = UTCDateTime(default_factory=utcnow)
    active_since: datetime | None = UTCDateTime(default=None)


class NotificationRow(SQLModel, table=True):
    """Outbox: one message for one channel, delivered (with retries) by the notifier, never by a sweep."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    channel: str = Field(max_length=100)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    status: str = Field(default="pending", max_length=10)
    attempts: int = 0
    next_attempt_at: datetime = UTCDateTime(default_factory=utcnow)
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = UTCDateTime(default_factory=utcnow)
    sent_at: datetime | None = UTCDateTime(default=None)


class PollerHeartbeatRow(SQLModel, table=True):
    """Last sweep per (poller group, probe kind): tells a silent poller from silent devices."""

    __tablename__ = "poller_heartbeat"

    poller_group: str = Field(primary_key=True, max_length=50)
    kind: str = Field(primary_key=True, max_length=10)
    last_sweep_started: datetime | None = UTCDateTime(default=None)
    last_sweep_finished: datetime | None = UTCDateTime(default=None)
    targets: int = 0
    overruns: int = 0


class PollerInstanceRow(SQLModel, table=True):
    """One poller process (PostgreSQL): its group, vantage point, the shards it leases, when it last beat.

    Written by :mod:`infra_monitor.shards`; a process whose ``last_seen`` is older than three heartbeats is
    gone (its shards' advisory locks went with its connection)."""

    __tablename__ = "poller_instance"
    __table_args__ = (Index("ix_poller_instance_group", "poller_group", "last_seen"),)

    poller_id: str = Field(primary_key=True, max_length=100)
    poller_group: str = Field(max_length=50)
    vantage: str = Field(max_length=50)
    host: str = Field(default="", max_length=100)
    pid: int = 0
    backend_pid: int = Field(default=0, description="PostgreSQL backend of its lease connection")
    shard_count: int = 64
    heartbeat_s: float = Field(default=10.0, description="how often it beats: stale after three beats")
    shards: list[int] = Field(default_factory=list, sa_type=JSON)
    started_at: datetime = UTCDateTime()
    last_seen: datetime = UTCDateTime()


class ProblemRow(SQLModel, table=True):
    """A device hard DOWN as root cause, from ``opened_at`` until it recovers (``resolved_at``).

    The root device's name and site are copied when the problem opens so the history survives the device's
    removal. ``peak_members`` is the most devices seen UNREACHABLE behind it at once.
    """

    __tablename__ = "problem"
    __table_args__ = (
        # one open problem per root device, whatever two writers might do
        Index("ix_problem_open", "root_device_id", unique=True, sqlite_where=text("resolved_at IS NULL"),
              postgresql_where=text("resolved_at IS NULL")),
        Index("ix_problem_opened", "opened_at"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    root_device_id: int | None = Field(default=None, foreign_key="device.id", ondelete="SET NULL")
    device_name: str = Field(default="", max_length=200)
    site_id: int | None = Field(default=None, foreign_key="site.id", ondelete="SET NULL")
    opened_at: datetime = UTCDateTime()
    resolved_at: datetime | None = UTCDateTime(default=None)
    resolve_reason: str | None = Field(default=None, max_length=20)
    peak_members: int = 0
    acknowledged: bool = False
    ack_by: str | None = Field(default=None, max_length=100)
    ack_at: datetime | None = UTCDateTime(default=None)
    ack_comment: str = Field(default="", max_length=1000)
    assignee: str | None = Field(default=None, max_length=100)
    updated_at: datetime = UTCDateTime(default_factory=utcnow)


class ProblemMemberRow(SQLModel, table=True):
    """A device UNREACHABLE behind a problem's root cause during [since, until); ``until`` NULL while it lasts."""

    __tablename__ = "problem_member"
    __table_args__ = (Index("ix_problem_member_problem", "problem_id", "since"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    problem_id: int = Field(foreign_key="problem.id", ondelete="CASCADE", sa_type=BigId)
    device_id: int | None = Field(default=None, foreign_key="device.id", ondelete="SET NULL")
    device_name: str = Field(default="", max_length=200)
    since: datetime = UTCDateTime()
    until: datetime | None = UTCDateTime(default=None)


class ProblemActionRow(SQLModel, table=True):
    """One entry of a problem's history: opened, acknowledged, unacknowledged, assigned, commented, resolved."""

    __tablename__ = "problem_action"
    __table_args__ = (Index("ix_problem_action_problem", "problem_id", "at"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    problem_id: int = Field(foreign_key="problem.id", ondelete="CASCADE", sa_type=BigId)
    at: datetime = UTCDateTime()
    action: str = Field(max_length=20)
    actor: str = Field(default="system", max_length=100)
    comment: str = Field(default="", max_length=1000)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)

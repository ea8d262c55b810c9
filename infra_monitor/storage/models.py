"""Tables for measurements, one result per check. Raw rows are short-lived; rollups (5 min, 1 h, 1 d) are kept
for years.

A check is ``(device_id, check_key)``: ``icmp``, ``snmp``, ``tcp:22``, ``service:12:tcp:443``,
``service:4:dns``… (the target's ``check_key``); ``kind`` says which probe kind ran it and ``service_id`` which
service it checks (None for the device's own checks). The hot fields every reader filters or aggregates on
(success, the kind's latency as ``rtt_*_ms``, its loss as ``loss_pct``) are real columns; everything else the
kind measured (HTTP status code, TLS expiry days, DNS answers…) is kept as it came in the ``measurements``
JSON column, with the result's text facts (HTTP version, DNS answers, warnings) in ``info`` on the latest row.
``latest_result.availability`` says whether the check counts toward its device's reachability.

Rollups keep sums and counts (not averages) so buckets merge exactly and averages over any period are
exact: ``avg = sum / n``.

Rows inserted without a ``check_key`` (older writers) take their ``kind`` as key, like migration 0007 did.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, Numeric
from sqlmodel import Field, SQLModel

from inventory.models.base import UTCDateTime

# BIGINT on PostgreSQL, INTEGER (rowid alias, auto-increment) on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")
COUNTER = Numeric(20, 0)  # Counter64 values exceed a signed BIGINT
CHECK_KEY_MAX = 300  # longer keys (custom-field URLs) are cut by the writer
KIND_MAX = 20


def _kind_as_key(context: Any) -> str:
    """Default ``check_key``: the row's kind (the one check per kind a device had before 0007)."""
    return str(context.get_current_parameters()["kind"])[:CHECK_KEY_MAX]


def CheckKey(**kw: Any) -> Any:
    return Field(max_length=CHECK_KEY_MAX, sa_column_kwargs={"default": _kind_as_key}, **kw)


class ProbeResultRow(SQLModel, table=True):
    __tablename__ = "probe_result"
    __table_args__ = (Index("ix_probe_result_check_ts", "device_id", "check_key", "ts"),
                      Index("ix_probe_result_ts", "ts"))

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    ts: datetime = UTCDateTime()
    device_id: int = Field(foreign_key="device.id", ondelete="CASCADE")
    check_key: str = CheckKey()
    kind: str = Field(max_length=KIND_MAX)
    service_id: int | None = None
    success: bool
    rtt_min_ms: float | None = None
    rtt_avg_ms: float | None = None
    rtt_max_ms: float | None = None
    loss_pct: float | None = None
    error: str | None = Field(default=None, max_length=200)
    measurements: dict[str, float] | None = Field(default=None, sa_type=JSON)
    poller_group: str = Field(default="default", max_length=50)
    vantage: str | None = Field(default=None, max_length=50, description="where it was probed from (0010)")


class InterfaceSampleRow(SQLModel, table=True):
    __tablename__ = "interface_sample"
    __table_args__ = (Index("ix_interface_sample_if_ts", "interface_id", "ts"), Index("ix_interface_sample_ts", "ts"))

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    ts: datetime = UTCDateTime()
    interface_id: int = Field(foreign_key="interface.id", ondelete="CASCADE")
    oper_status: int | None = None
    in_bps: float | None = None
    out_bps: float | None = None
    in_util_pct: float | None = None
    out_util_pct: float | None = None
    in_errors: int | None = Field(default=None, description="errors since the previous sample")
    out_errors: int | None = None


class LatestResult(SQLModel, table=True):
    """The last result per check (device, check key): what the status page reads, one row each."""

    __tablename__ = "latest_result"
    __table_args__ = {"sqlite_with_rowid": False}

    device_id: int = Field(foreign_key="device.id", ondelete="CASCADE", primary_key=True)
    check_key: str = CheckKey(primary_key=True)
    kind: str = Field(max_length=KIND_MAX, index=True)
    service_id: int | None = Field(default=None, foreign_key="service.id", ondelete="CASCADE", index=True)
    availability: bool = Field(default=True, description="counts toward the device's reachability")
    ts: datetime = UTCDateTime()
    success: bool
    rtt_avg_ms: float | None = None
    loss_pct: float | None = None
    error: str | None = Field(default=None, max_length=200)
    sys_uptime_s: float | None = None
    measurements: dict[str, float] | None = Field(default=None, sa_type=JSON)
    info: dict[str, str] | None = Field(default=None, sa_type=JSON)


class VantageResult(SQLModel, table=True):
    """The last result per check and vantage point (0010): a device watched from two places (its group's
    pollers and a group listed in its ``also_polled_by``) has one row per place. Its state comes from
    ``latest_result`` (its own group only); these rows show where the vantage points disagree."""

    __tablename__ = "vantage_result"
    __table_args__ = {"sqlite_with_rowid": False}

    device_id: int = Field(foreign_key="device.id", ondelete="CASCADE", primary_key=True)
    check_key: str = CheckKey(primary_key=True)
    vantage: str = Field(primary_key=True, max_length=50)
    poller_group: str = Field(max_length=50)
    kind: str = Field(max_length=KIND_MAX)
    availability: bool = True
    ts: datetime = UTCDateTime()
    success: bool
    error: str | None = Field(default=None, max_length=200)


class CounterState(SQLModel, table=True):
    """The previous SNMP counter reading per interface, so rates survive a restart of the poller."""

    __tablename__ = "counter_state"

    interface_id: int = Field(foreign_key="interface.id", ondelete="CASCADE", primary_key=True)
    ts: datetime = UTCDateTime()
    sys_uptime_s: float | None = None
    in_octets: Decimal | None = Field(default=None, sa_type=COUNTER)
    out_octets: Decimal | None = Field(default=None, sa_type=COUNTER)
    in_errors: Decimal | None = Field(default=None, sa_type=COUNTER)
    out_errors: Decimal | None = Field(default=None, sa_type=COUNTER)
    counter_bits: int = 64


class Rollup(SQLModel, table=True):
    """Results per check in a 5-minute (300), 1-hour (3600) or 1-day (86400) bucket."""

    __tablename__ = "rollup"
    # Clustered by (resolution, device, check, bucket) on SQLite: a year of one check is one range read.
    __table_args__ = {"sqlite_with_rowid": False}

    resolution: int = Field(primary_key=True)
    device_id: int = Field(foreign_key="device.id", ondelete="CASCADE", primary_key=True)
    check_key: str = CheckKey(primary_key=True)
    bucket: datetime = UTCDateTime(primary_key=True)
    kind: str = Field(max_length=KIND_MAX)
    count: int = 0
    successes: int = 0
    rtt_min_ms: float | None = None
    rtt_max_ms: float | None = None
    rtt_sum_ms: float = 0.0
    rtt_n: int = 0
    loss_sum_pct: float = 0.0
    loss_n: int = 0


class InterfaceRollup(SQLModel, table=True):
    """Interface bit rates in a 5-minute, 1-hour or 1-day bucket: average (sum/n) and maximum."""

    __tablename__ = "interface_rollup"
    __table_args__ = {"sqlite_with_rowid": False}

    resolution: int = Field(primary_key=True)
    interface_id: int = Field(foreign_key="interface.id", ondelete="CASCADE", primary_key=True)
    bucket: datetime = UTCDateTime(primary_key=True)
    n: int = 0
    in_bps_sum: float = 0.0
    in_bps_max: float | None = None
    out_bps_sum: float = 0.0
    out_bps_max: float | None = None
    util_max_pct: float | None = None
    errors: int = 0


# 5 minutes (graphs over a day), 1 hour (a week to a year), 1 day (a year at a glance, yearly availability):
# daily buckets start at local midnight (see ``writer.bucket_start``).
RESOLUTIONS = (300, 3600, 86400)

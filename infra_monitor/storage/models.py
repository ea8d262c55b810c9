"""Tables for measurements. Raw rows are short-lived; rollups (5 min, 1 h) are kept for years.

Rollups keep sums and counts (not averages) so buckets merge exactly and averages over any period are
exact: ``avg = sum / n``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Index, Integer, Numeric
from sqlmodel import Field, SQLModel

from inventory.models.base import UTCDateTime

# BIGINT on PostgreSQL, INTEGER (rowid alias, auto-increment) on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")
COUNTER = Numeric(20, 0)  # Counter64 values exceed a signed BIGINT


class ProbeResultRow(SQLModel, table=True):
    __tablename__ = "probe_result"
    __table_args__ = (Index("ix_probe_result_device_ts", "device_id", "ts"), Index("ix_probe_result_ts", "ts"))

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    ts: datetime = UTCDateTime()
    device_id: int = Field(foreign_key="device.id", ondelete="CASCADE")
    kind: str = Field(max_length=10)
    success: bool
    rtt_min_ms: float | None = None
    rtt_avg_ms: float | None = None
    rtt_max_ms: float | None = None
    loss_pct: float | None = None
    error: str | None = Field(default=None, max_length=200)
    poller_group: str = Field(default="default", max_length=50)


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
    """The last result per (device, kind): what the status page reads, one row each."""

    __tablename__ = "latest_result"
    __table_args__ = {"sqlite_with_rowid": False}

    device_id: int = Field(foreign_key="device.id", ondelete="CASCADE", primary_key=True)
    kind: str = Field(max_length=10, primary_key=True)
    ts: datetime = UTCDateTime()
    success: bool
    rtt_avg_ms: float | None = None
    loss_pct: float | None = None
    error: str | None = Field(default=None, max_length=200)
    sys_uptime_s: float | None = None


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
    """Probe results per device and kind in a 5-minute (300), 1-hour (3600) or 1-day (86400) bucket."""

    __tablename__ = "rollup"
    # Clustered by (resolution, device, kind, bucket) on SQLite: a year of one device is one range read.
    __table_args__ = {"sqlite_with_rowid": False}

    resolution: int = Field(primary_key=True)
    device_id: int = Field(foreign_key="device.id", ondelete="CASCADE", primary_key=True)
    kind: str = Field(max_length=10, primary_key=True)
    bucket: datetime = UTCDateTime(primary_key=True)
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

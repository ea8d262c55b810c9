"""What the read model returns: pydantic models shared by the pages, the ``/api/status`` JSON and the CLI.

Times are timezone-aware UTC datetimes (the pages and the CLI show them in local time); percentages are
0–100 floats; rates are bits per second except ``commit_rate_kbps`` (kbps, as in the inventory).
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

STATES = ("up", "down", "unreachable", "unknown", "maintenance")
LEVELS = ("datacenter", "department", "district", "commune", "unit")
COVERAGE_LEVELS = ("datacenter", "department", "district", "commune", "vc")


class StateCounts(BaseModel):
    up: int = 0
    down: int = 0
    unreachable: int = 0
    unknown: int = 0
    maintenance: int = 0

    @property
    def total(self) -> int:
        return self.up + self.down + self.unreachable + self.unknown + self.maintenance


class CoverageRow(BaseModel):
    """One level of the plan: target, what exists, what is connected and what answers now."""

    level: str = Field(description="datacenter, department, district, commune or vc (videoconference)")
    target: int | None = Field(None, description="plan target valid at the as-of date (or the last one)")
    plan: str | None = None
    plan_valid_to: date | None = Field(None, description="set when the plan's target is no longer in force")
    inventoried: int = Field(0, description="sites (or VC endpoints) in the inventory, retired excluded")
    not_inventoried: int | None = Field(None, description="target - inventoried, never negative")
    connected: int = Field(0, description="with an active circuit whose Z side is at the site")
    reachable: int = Field(0, description="site state UP now")
    states: StateCounts = Field(default_factory=StateCounts)
    availability_24h: float | None = Field(None, description="percent of counted time UP, from state intervals")
    availability_30d: float | None = None


class Problem(BaseModel):
    kind: str = Field(description="down, flapping or maintenance")
    device_id: int
    device_name: str
    site_slug: str
    site_name: str
    state: str
    since: datetime | None = None
    cause: str | None = None
    flapping: bool = False
    unreachable_behind: int = Field(0, description="devices UNREACHABLE with this device as root cause")


class EventOut(BaseModel):
    id: int
    at: datetime
    kind: str
    device_id: int | None = None
    device_name: str | None = None
    site_slug: str | None = None
    site_name: str | None = None
    old_state: str | None = None
    new_state: str | None = None
    cause: str | None = None
    root_cause_device_id: int | None = None
    root_cause_name: str | None = None
    severity: str | None = None
    message: str | None = None


class PollerFreshness(BaseModel):
    poller_group: str
    kind: str
    finished_at: datetime | None
    age_s: float | None
    stale: bool


class Freshness(BaseModel):
    """Is the data current? ``stale`` when no sweep finished within ``web.stale_after_s``."""

    stale_after_s: int
    last_sweep_at: datetime | None
    age_s: float | None
    stale: bool
    pollers: list[PollerFreshness] = Field(default_factory=list)


class Overview(BaseModel):
    generated_at: datetime
    as_of: date
    province_name: str
    sites: StateCounts
    devices: StateCounts
    coverage: list[CoverageRow]
    problems: list[Problem]
    problems_total: int = Field(0, description="problems in all; ``problems`` holds the first ones")
    events: list[EventOut]
    freshness: Freshness


class SiteRow(BaseModel):
    id: int
    slug: str
    name: str
    category: str
    status: str
    region_code: str | None = None
    region_name: str | None = None
    district_code: str | None = None
    district_name: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    state: str
    since: datetime | None = None
    devices: StateCounts = Field(default_factory=StateCounts)
    connected: bool = False


class SiteList(BaseModel):
    count: int
    states: StateCounts
    results: list[SiteRow]


class DeviceState(BaseModel):
    id: int
    name: str
    site_id: int
    role: str | None = None
    status: str
    monitoring_enabled: bool
    address: str | None = None
    state: str = Field(description="confirmed (hard) state")
    hard: bool = True
    pending_state: str | None = Field(None, description="unconfirmed (soft) state while checks are retried")
    attempts: int = 0
    since: datetime | None = None
    cause: str | None = None
    root_cause_device_id: int | None = None
    root_cause_name: str | None = None
    root_cause_site_slug: str | None = None
    flapping: bool = False
    last_check_at: datetime | None = None


class CircuitOut(BaseModel):
    id: int
    cid: str
    side: str = Field(description="A (this site is upstream) or Z (this site is served)")
    provider: str
    type: str
    status: str
    commit_rate_kbps: int | None = None
    device_id: int | None = None
    interface_id: int | None = None
    interface_name: str | None = None
    in_bps: float | None = Field(None, description="average of the latest 5-minute bucket")
    out_bps: float | None = None
    util_pct: float | None = Field(None, description="max(in, out) average against the committed rate")
    measured_at: datetime | None = None


class VcEndpointOut(BaseModel):
    id: int
    device_id: int
    device_name: str
    protocol: str
    uri: str
    e164: str
    room: str
    state: str


class Measurement(BaseModel):
    device_id: int
    device_name: str
    kind: str
    at: datetime
    success: bool
    rtt_avg_ms: float | None = None
    loss_pct: float | None = None
    error: str | None = None


class MaintenanceOut(BaseModel):
    id: int
    name: str
    kind: str
    scope_type: str
    active_now: bool
    next_start: datetime | None = None
    next_end: datetime | None = None
    description: str = ""


class SiteDetail(BaseModel):
    site: SiteRow
    address: str = ""
    description: str = ""
    devices: list[DeviceState]
    circuits: list[CircuitOut]
    vc_endpoints: list[VcEndpointOut]
    measurements: list[Measurement]
    events: list[EventOut]
    maintenance: list[MaintenanceOut]
    availability_24h: float | None = None
    availability_30d: float | None = None


class InterfaceOut(BaseModel):
    id: int
    name: str
    type: str
    speed_kbps: int | None = None
    enabled: bool
    description: str = ""
    in_bps: float | None = None
    out_bps: float | None = None
    util_pct: float | None = None
    measured_at: datetime | None = None


class DeviceDetail(BaseModel):
    device: DeviceState
    site: SiteRow
    interfaces: list[InterfaceOut]
    measurements: list[Measurement]
    events: list[EventOut]
    availability_24h: float | None = None
    availability_30d: float | None = None


class SeriesLine(BaseModel):
    """One line of a graph: ``points`` are ``[epoch_ms, value | null]``, sorted by time."""

    key: str = Field(description="rtt_min, rtt_avg, rtt_max, loss, in_bps, out_bps, commit_bps…")
    label: str
    unit: str
    points: list[tuple[int, float | None]]


class Series(BaseModel):
    metric: str
    period: str
    resolution_s: int = Field(description="seconds per point after downsampling")
    start: datetime
    end: datetime
    subject: str = Field(description="what is plotted (device or circuit)")
    lines: list[SeriesLine]

"""What the read model returns: pydantic models shared by the pages, the ``/api/status`` JSON and the CLI.

Times are timezone-aware UTC datetimes (the pages and the CLI show them in local time); percentages are
0–100 floats; rates are bits per second except ``commit_rate_kbps`` (kbps, as in the inventory).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from infra_monitor.status.store.listing import EventGroup

STATES = ("up", "down", "unreachable", "unknown", "maintenance")
LEVELS = ("datacenter", "department", "district", "commune", "unit")
COVERAGE_LEVELS = ("datacenter", "department", "district", "commune", "vc")



DATA_S = ("seconds of the window the availability figure stands on (counted time per device, maintenance "
          "and no data left out): 300 of 86,400 means five minutes of data")

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
    availability_24h_data_s: float = Field(0.0, description=DATA_S)
    availability_30d_data_s: float = Field(0.0, description=DATA_S)


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
    message: str | None = Field(None, description="the engine's English text (logs, notifications); pages show "
                                "the structured fields in the page's language instead")
    details: dict[str, Any] = Field(default_factory=dict)


class PollerFreshness(BaseModel):
    poller_group: str
    kind: str
    finished_at: datetime | None
    age_s: float | None
    stale: bool
    targets: int = Field(0, description="targets of its last sweep")
    idle: bool = Field(False, description="its last sweep had no targets: neither fresh nor stale")


class PollerProcessOut(BaseModel):
    """One poller process (PostgreSQL's shard leases): stale after three of its heartbeats without a beat."""

    poller_id: str
    poller_group: str
    vantage: str
    host: str
    pid: int
    shards: int = Field(description="shards of its group it holds")
    shard_count: int
    last_seen: datetime
    age_s: float
    stale: bool


class VantageOut(BaseModel):
    """What one vantage point says about a device: ``up`` True/False, None when it is silent (no fresh data)."""

    vantage: str
    poller_group: str
    up: bool | None
    at: datetime
    error: str | None = None


class VantageDisagreement(BaseModel):
    """A device one vantage point sees UP and another DOWN; its state is its own group's vantage's."""

    device_id: int
    device: str
    site_slug: str
    site_name: str
    state: str
    vantages: list[VantageOut]


class FailingCheck(BaseModel):
    """A device whose latest result of a kind failed while the device is UP (another check answers)."""

    device_id: int
    device: str
    site_slug: str
    site: str
    error: str = ""
    at: datetime


class KindHealth(BaseModel):
    """One probe kind across the inventory, from the latest result per device and the poller heartbeats."""

    kind: str
    targets: int = Field(description="targets of the last sweeps (all poller groups)")
    answering: int = Field(description="devices whose latest recent result succeeded")
    failing: int = Field(description="devices whose latest recent result failed")
    failing_while_up: int = Field(description="failing devices that are UP: failures no state shows")
    failing_devices: list[FailingCheck] = Field(default_factory=list, description="the first of them, by name")
    last_sweep_at: datetime | None = None
    verdict: str = Field(description="ok, partial, failing, no_targets or never_swept")


class Freshness(BaseModel):
    """Is the data current? ``stale`` when no sweep finished within ``web.stale_after_s``."""

    stale_after_s: int
    last_sweep_at: datetime | None
    age_s: float | None
    stale: bool
    pollers: list[PollerFreshness] = Field(default_factory=list)
    poller_processes: list[PollerProcessOut] = Field(default_factory=list,
                                                     description="poller processes sharing groups (PostgreSQL)")


class HostedDown(BaseModel):
    id: int
    name: str


class HostedSummary(BaseModel):
    """The plan's systems hosted in the data center (services counting toward ``hosted_systems``): how many are
    monitored, their states now and their availability over 24 hours (from their checks' state intervals)."""

    inventoried: int
    monitored: int = Field(description="active, monitoring on, on a monitored device")
    up: int
    down: int = Field(description="down or misconfigured now")
    unknown: int = Field(description="monitored but without a current check result")
    availability_24h: float | None = Field(None, description="service-time weighted percent up; None: no data")
    availability_24h_data_s: float = Field(0.0, description="counted seconds per monitored service, on average")
    down_services: list[HostedDown] = Field(default_factory=list, description="the first ones down, by name")


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
    probes: list[KindHealth] = Field(default_factory=list, description="each enabled probe kind's health")
    feed: list[EventGroup] = Field(default_factory=list, description="latest events grouped under root causes")
    hosted: HostedSummary | None = Field(None, description="systems hosted in the data center")
    vantage_disagreements: list[VantageDisagreement] = Field(
        default_factory=list, description="devices seen UP from one vantage point and DOWN from another")


class HeartbeatRun(BaseModel):
    """Consecutive half-hour cells of a site's heartbeat bar (the last 24 h) in one state."""

    first: int = Field(description="index of the first cell (0 = 24 hours ago)")
    cells: int
    state: str
    start: datetime
    end: datetime


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
    heartbeat: list[HeartbeatRun] = Field(default_factory=list, description="state in the last 24 h, oldest first")


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
    availability_24h_data_s: float = Field(0.0, description=DATA_S)
    availability_30d_data_s: float = Field(0.0, description=DATA_S)


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


class ConfigError(BaseModel):
    """A probe of this device the poller cannot run: its inventory record breaks a rule (never a secret)."""

    kind: str = Field(description="icmp, snmp, tcp or http")
    reason: str


class DeviceDetail(BaseModel):
    device: DeviceState
    site: SiteRow
    interfaces: list[InterfaceOut]
    measurements: list[Measurement]
    events: list[EventOut]
    availability_24h: float | None = None
    availability_30d: float | None = None
    availability_24h_data_s: float = Field(0.0, description=DATA_S)
    availability_30d_data_s: float = Field(0.0, description=DATA_S)
    config_errors: list[ConfigError] = Field(default_factory=list,
                                             description="probe targets the poller leaves out, and why")
    vantages: list[VantageOut] = Field(default_factory=list,
                                       description="each vantage point's view, when several watch the device")


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

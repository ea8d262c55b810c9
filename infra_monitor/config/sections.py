"""The configuration's sections: one validated pydantic model per ``[section]`` of the TOML file, and
``[probes.<kind>]`` built from the probe registry (each kind's own settings model)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator, model_validator

from probes.plugin import KindSettings

ENV_PREFIX = "INFRA_MONITOR_"
ENV_CONFIG = "INFRA_MONITOR_CONFIG"
# INFRA_MONITOR_ variables read as they are, not configuration keys: the file, the secret key, the test suite's
# PostgreSQL URL (set in the environment the suite runs the program in), the tests' pseudo-localisation switch
ENV_NOT_KEYS = frozenset({ENV_CONFIG, "INFRA_MONITOR_SECRET_KEY", "INFRA_MONITOR_TEST_PG_URL",
                          "INFRA_MONITOR_PSEUDO_I18N"})


class ConfigError(Exception):
    """The configuration is invalid; the message says where and what is allowed."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class DatabaseConfig(_Section):
    url: str = Field("sqlite:///./infra-monitor.db", description="SQLAlchemy URL")
    echo: bool = False
    pool_size: int = Field(5, ge=1, le=100)
    busy_timeout_ms: int = Field(5000, ge=0, le=600_000)

    @field_validator("url")
    @classmethod
    def _known_backend(cls, v: str) -> str:
        if not (v.startswith("sqlite:///") or v.startswith("postgresql+psycopg://")):
            raise ValueError("must start with 'sqlite:///' or 'postgresql+psycopg://'")
        return v


class GeneralConfig(_Section):
    timezone: str = "Asia/Ho_Chi_Minh"
    language: Literal["vi", "en"] = "vi"
    province_name: str = "Bắc Giang"

    @field_validator("timezone")
    @classmethod
    def _valid_tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {v!r} (e.g. 'Asia/Ho_Chi_Minh')") from exc
        return v


class WebConfig(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    base_url: str = Field("", description="absolute URL users reach the app at (links in API answers); "
                                          "empty = http://<host>:<port>")
    admin_token: str = Field("", description="token with the admin role for automation (Token/Bearer); empty = none")
    public_summary: bool = Field(False, description="serve an anonymous read-only summary at /public")
    stale_after_s: int = Field(180, ge=10, description="data older than this is shown as stale")
    max_body_bytes: int = Field(10 * 1024 * 1024, ge=1024, le=1024 * 1024 * 1024,
                                description="request bodies larger than this are refused with 413")
    max_list_items: int = Field(1000, ge=1, le=1_000_000, description="longest list accepted in a request field")
    shutdown_timeout_s: float = Field(10.0, gt=0, le=600, description="longest wait for requests on SIGTERM")
    session_hours: float = Field(12.0, gt=0, le=24 * 90, description="a web sign-in lasts this long")
    login_max_failures: int = Field(5, ge=1, le=100, description="wrong passwords in a row before lock-out")
    lockout_minutes: float = Field(15.0, gt=0, le=24 * 60, description="how long an account stays locked")
    login_rate_per_minute: int = Field(10, ge=1, le=10_000, description="sign-in attempts per client address")

    @field_validator("base_url")
    @classmethod
    def _absolute(cls, v: str) -> str:
        v = v.strip().rstrip("/")
        if v and not re.fullmatch(r"https?://[^/\s?#]+(/[^\s?#]*)?", v):
            raise ValueError("must be an absolute http:// or https:// URL such as 'https://monitor.example.vn'")
        return v

    def public_base(self) -> str:
        """The origin (and path prefix) that absolute links start with."""
        return self.base_url or f"http://{self.host}:{self.port}"


class LoggingConfig(_Section):
    format: Literal["kv", "json"] = "kv"
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class ProbesConfig(_Section):
    """``[probes.<kind>]`` sections, one per registered probe kind (:mod:`probes.registry`), each validated by
    the kind's own settings model. A kind without a section gets its defaults; a section naming no registered
    kind is refused with the known kinds named. ``for name, cfg in settings.probes`` lists every kind."""

    @model_validator(mode="wrap")
    @classmethod
    def _by_registry(cls, data: Any, handler: Any) -> Any:
        if cls is not ProbesConfig:
            return handler(data)
        model = probes_model()
        if isinstance(data, dict):
            unknown = [k for k in data if k not in model.model_fields]
            if unknown:
                raise ValueError(f"[probes.{unknown[0]}] is not a probe kind; known kinds: "
                                 f"{', '.join(model.model_fields)}")
        return model.model_validate(data)

    def kind(self, name: str) -> KindSettings:
        """The settings of kind ``name`` (:class:`KeyError` naming the known kinds when it is not registered)."""
        value = getattr(self, name, None)
        if not isinstance(value, KindSettings):
            raise KeyError(f"unknown probe kind {name!r}; known kinds: {', '.join(type(self).model_fields)}")
        return value

    def __reduce__(self) -> Any:
        """Pickled as its sections (``serve`` hands the settings to worker processes): the receiving process
        rebuilds the model from its own registry."""
        return (_rebuild_probes, (self.model_dump(),))

    if TYPE_CHECKING:
        def __getattr__(self, name: str) -> Any: ...


def _rebuild_probes(data: dict[str, Any]) -> ProbesConfig:
    return ProbesConfig.model_validate(data)


_probes_models: dict[tuple[tuple[str, type[KindSettings]], ...], type[ProbesConfig]] = {}


def probes_model() -> type[ProbesConfig]:
    """The ``[probes]`` model for the kinds registered now (built once per set of kinds)."""
    from probes.registry import KINDS

    key = tuple((name, k.settings) for name, k in KINDS.items())
    model = _probes_models.get(key)
    if model is None:
        fields: dict[str, Any] = {name: (cls, Field(default_factory=cls)) for name, cls in key}
        model = _probes_models[key] = create_model("ProbesConfig", __base__=ProbesConfig, **fields)
    return model


def _default_probes() -> ProbesConfig:
    return ProbesConfig.model_validate({})


class PollerConfig(_Section):
    group: str = Field("default", min_length=1, description="poller group this process serves")
    run_in_serve: bool = True
    backlog_max_results: int = Field(50_000, ge=1, le=10_000_000,
                                     description="probe results kept in memory while the database cannot take "
                                                 "them (locked, down); the oldest sweeps are dropped beyond")
    write_deadline_s: float = Field(60.0, ge=0, le=3600,
                                    description="probe --once: how long to keep retrying results the database "
                                                "refuses (locked, down) before exiting 1")
    # Several processes of one group (PostgreSQL only, see infra_monitor.shards):
    name: str = Field("", max_length=100, description="this process's poller id (default hostname:pid)")
    vantage: str = Field("", max_length=50, description="where this poller probes from (default: the group name)")
    shards: int = Field(64, ge=1, le=4096, description="how many shards the group's devices are hashed into")
    heartbeat_s: float = Field(10.0, gt=0, le=3600,
                               description="how often a poller heart-beats; peers silent for 3 beats are gone")

    @property
    def vantage_name(self) -> str:
        """The vantage point this poller's results carry: ``vantage``, else the group's name."""
        return self.vantage or self.group


class RetentionConfig(_Section):
    raw_days: int = Field(14, ge=1, le=3650)
    rollup_5m_days: int = Field(90, ge=1, le=3650)
    rollup_1h_days: int = Field(3650, ge=1, le=36500)
    delete_batch: int = Field(5000, ge=100, le=1_000_000)

    @model_validator(mode="after")
    def _ordered(self) -> RetentionConfig:
        if not self.raw_days <= self.rollup_5m_days <= self.rollup_1h_days:
            raise ValueError("retention must satisfy raw_days <= rollup_5m_days <= rollup_1h_days")
        return self


class StatusConfig(_Section):
    flap_high_threshold: float = Field(25.0, gt=0, le=100)
    flap_low_threshold: float = Field(20.0, gt=0, le=100)
    stale_after_intervals: int = Field(3, ge=1, le=100)

    @model_validator(mode="after")
    def _thresholds(self) -> StatusConfig:
        if self.flap_low_threshold > self.flap_high_threshold:
            raise ValueError("flap_low_threshold must not exceed flap_high_threshold")
        return self


class WebhookChannel(_Section):
    name: str
    url: str
    secret: str = ""
    min_severity: Literal["info", "warning", "critical"] = "warning"
    levels: list[str] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list)
    timeout_s: float = Field(5.0, gt=0, le=120)

    @field_validator("url")
    @classmethod
    def _http(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return v


class EmailChannel(_Section):
    name: str
    host: str
    port: int = Field(587, ge=1, le=65535)
    starttls: bool = True
    username: str = ""
    password: str = ""
    sender: str
    recipients: list[str] = Field(min_length=1)
    min_severity: Literal["info", "warning", "critical"] = "warning"
    levels: list[str] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list)
    timeout_s: float = Field(10.0, gt=0, le=120)


class NotificationsConfig(_Section):
    webhooks: list[WebhookChannel] = Field(default_factory=list)
    email: list[EmailChannel] = Field(default_factory=list)
    max_attempts: int = Field(8, ge=1, le=100)
    backoff_initial_s: float = Field(5.0, gt=0, le=3600)


ReportFormat = Literal["json", "csv", "xlsx", "pdf"]


def _default_formats() -> list[ReportFormat]:
    return ["pdf", "xlsx"]


class ReportSchedule(_Section):
    """A report written on a schedule: monthly (previous month) or quarterly (previous quarter)."""

    kind: Literal["coverage", "availability", "datacenter", "capacity", "videoconference"]
    every: Literal["month", "quarter"] = "month"
    formats: list[ReportFormat] = Field(default_factory=_default_formats, min_length=1)
    language: Literal["vi", "en"] = "vi"
    email: list[str] = Field(default_factory=list, description="names of [[notifications.email]] channels")


class ReportsConfig(_Section):
    issuer: str = Field("Sở Thông tin và Truyền thông", max_length=200, description="issuing body, top left of a pdf")
    issuer_parent: str = Field("UBND tỉnh Bắc Giang", max_length=200, description="the body above the issuer")
    place: str = Field("Bắc Giang", max_length=100, description="place in the date line")
    recipients: list[str] = Field(default_factory=lambda: ["Như trên;", "Lưu: VT."])
    threshold_pct: float = Field(99.0, ge=0, le=100)
    utilisation_threshold_pct: float = Field(80.0, gt=0, le=1000)
    tier_reference: Literal["tcvn9250-2012", "tia-942", "uptime"] = "tcvn9250-2012"
    output_dir: str = Field("./reports", min_length=1, description="where scheduled reports are written")
    run_at_hour: int = Field(6, ge=0, le=23, description="local hour on the 1st of the month for scheduled reports")
    schedules: list[ReportSchedule] = Field(default_factory=list)


class MeetingsConfig(_Section):
    """[meetings]: readiness sweeps before each videoconference meeting (minutes before the start)."""

    lead_times_min: list[int] = Field(default_factory=lambda: [60, 15], min_length=1,
                                      description="minutes before the start at which the poller checks readiness")
    saturation_pct: float = Field(90.0, gt=0, le=1000, description="uplink utilisation above which a link is saturated")
    check_timeout_s: float = Field(5.0, gt=0, le=120, description="deadline of one room's probes")
    utilisation_window_min: int = Field(15, ge=1, le=1440, description="how far back the latest rollups are read")

    @field_validator("lead_times_min")
    @classmethod
    def _positive(cls, v: list[int]) -> list[int]:
        if any(m <= 0 or m > 7 * 24 * 60 for m in v):
            raise ValueError("each lead time must be between 1 and 10080 minutes")
        return sorted(set(v), reverse=True)


class SecurityConfig(_Section):
    key_file: str = Field("", description="file of Fernet keys, one per line, newest first, mode 0600 "
                                          "(INFRA_MONITOR_SECRET_KEY wins when set); empty = none")


class Settings(_Section):
    database: DatabaseConfig = Field(default_factory=lambda: DatabaseConfig())
    general: GeneralConfig = Field(default_factory=lambda: GeneralConfig())
    web: WebConfig = Field(default_factory=lambda: WebConfig())
    logging: LoggingConfig = Field(default_factory=lambda: LoggingConfig())
    probes: ProbesConfig = Field(default_factory=_default_probes)
    poller: PollerConfig = Field(default_factory=lambda: PollerConfig())
    retention: RetentionConfig = Field(default_factory=lambda: RetentionConfig())
    status: StatusConfig = Field(default_factory=lambda: StatusConfig())
    notifications: NotificationsConfig = Field(default_factory=lambda: NotificationsConfig())
    reports: ReportsConfig = Field(default_factory=lambda: ReportsConfig())
    security: SecurityConfig = Field(default_factory=lambda: SecurityConfig())
    meetings: MeetingsConfig = Field(default_factory=lambda: MeetingsConfig())

    source: str = Field("<defaults>", exclude=True, description="where the settings came from")

    @model_validator(mode="after")
    def _report_channels(self) -> Settings:
        known = {c.name for c in self.notifications.email}
        for i, sch in enumerate(self.reports.schedules):
            unknown = [n for n in sch.email if n not in known]
            if unknown:
                raise ValueError(f"reports.schedules[{i}].email: no [[notifications.email]] channel named "
                                 f"{', '.join(repr(n) for n in unknown)} (known: {sorted(known) or 'none'})")
        return self



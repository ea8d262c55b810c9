"""Plain configuration of the status engine (a dataclass the pure modules take as input).

``StatusConfig.from_settings`` maps the validated TOML settings (:mod:`infra_monitor.config`) onto it:
per-probe-kind retries and intervals, flap thresholds, staleness and notification retry policy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from probes.registry import KINDS

if TYPE_CHECKING:
    from infra_monitor.config import Settings

SEVERITIES = ("info", "warning", "critical")


@dataclass(frozen=True)
class ChannelSpec:
    """What a notification channel wants to hear (its delivery settings live with its sender).

    ``min_severity``: info < warning < critical. ``levels``: region levels (province/district/commune) of the
    devices concerned; ``regions``: region codes or slugs, matching the region and everything below it.
    Empty means no restriction.
    """

    name: str
    min_severity: str = "warning"
    levels: frozenset[str] = frozenset()
    regions: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.min_severity not in SEVERITIES:
            raise ValueError(f"channel {self.name!r}: min_severity must be one of {', '.join(SEVERITIES)}")


@dataclass(frozen=True)
class StatusConfig:
    """Tunables of the engine.

    ``retries``: consecutive failed checks before a failure is hard (1 = immediately); ``retries_by_kind``
    overrides it per probe kind: a device checked by several kinds uses the largest of their values, since
    it is UP while any of them succeeds. ``interval_s`` is the sweep interval used to decide staleness:
    a device with no check for more than ``stale_after_intervals * interval_s`` seconds is UNKNOWN.
    """

    retries: int = 3
    retries_by_kind: Mapping[str, int] = field(default_factory=dict)
    flap_high_threshold: float = 25.0
    flap_low_threshold: float = 20.0
    stale_after_intervals: int = 3
    interval_s: float = 60.0
    notify_max_attempts: int = 8
    notify_backoff_initial_s: float = 5.0
    notify_backoff_max_s: float = 3600.0
    channels: tuple[ChannelSpec, ...] = ()
    timezone: str = "Asia/Ho_Chi_Minh"  # the calendar of the region hierarchy's validity dates

    def __post_init__(self) -> None:
        if self.retries < 1 or any(v < 1 for v in self.retries_by_kind.values()):
            raise ValueError("retries must be at least 1")
        if self.flap_low_threshold > self.flap_high_threshold:
            raise ValueError("flap_low_threshold must not exceed flap_high_threshold")

    def retries_for(self, kinds: Iterable[str] = ()) -> int:
        """Retries for a device checked by ``kinds`` (the global value when none is configured)."""
        values = [self.retries_by_kind[k] for k in kinds if k in self.retries_by_kind]
        return max(values) if values else self.retries

    @property
    def stale_after_s(self) -> float:
        return self.stale_after_intervals * self.interval_s

    @classmethod
    def from_settings(cls, settings: Settings) -> StatusConfig:
        """Build from the application settings (enabled kinds that can check a device's reachability only: a
        service-only kind such as dns decides neither retries nor staleness)."""
        kinds = {
            name: getattr(settings.probes, name)
            for name, kind in KINDS.items()
            if kind.availability and getattr(settings.probes, name, None) is not None
            and getattr(settings.probes, name).enabled
        }
        intervals = [k.interval_s for k in kinds.values()]
        return cls(
            retries=max((k.retries for k in kinds.values()), default=3),
            retries_by_kind={name: k.retries for name, k in kinds.items()},
            flap_high_threshold=settings.status.flap_high_threshold,
            flap_low_threshold=settings.status.flap_low_threshold,
            stale_after_intervals=settings.status.stale_after_intervals,
            interval_s=max(intervals, default=60.0),
            timezone=settings.general.timezone,
            notify_max_attempts=settings.notifications.max_attempts,
            notify_backoff_initial_s=settings.notifications.backoff_initial_s,
            channels=tuple(
                ChannelSpec(name=c.name, min_severity=c.min_severity, levels=frozenset(c.levels),
                            regions=frozenset(c.regions))
                for c in settings.notifications.webhooks
            ) + tuple(
                ChannelSpec(name=c.name, min_severity=c.min_severity, levels=frozenset(c.levels),
                            regions=frozenset(c.regions))
                for c in settings.notifications.email
            ),
        )

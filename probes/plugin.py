"""The probe-kind plugin contract: everything one kind of check needs lives in one ``ProbeKind`` object.

A kind module (``probes/icmp.py``, ``probes/dns.py``…) declares, blackbox_exporter-style but typed:

- ``name`` and ``settings``: a pydantic model read from ``[probes.<name>]`` (validated, with defaults);
  :class:`KindSettings` holds what every kind has (interval, timeout, concurrency, retries before a hard state);
- ``build_targets(inventory, settings)``: plain records in (:class:`DeviceRecord`, :class:`ServiceRecord`,
  :class:`VcEndpointRecord`, filled by ``infra_monitor/targets.py`` from the database), :class:`TargetBuild`
  out (the targets, and the records that could not become one, with why);
- ``budget_s(settings, n_targets)``: how long one probe may take from its start (the deadline);
- ``prepare(ctx, targets, settings)``: open what the kind needs before any deadline runs;
- ``probe(target, settings, deadline, ctx) -> ProbeResult``: the one prober signature, never raises;
- ``measurements``: what it measures (:class:`MeasurementSpec`: name, unit, vi/en labels, rolled up or not,
  and which one is the check's "latency" / "loss" for storage and graphs);
- ``info``: which of the texts its results carry in ``info`` the pages show (:class:`InfoSpec`: name, vi/en
  labels, and a catalogue prefix when the value is a word to translate); the others are stored, not shown.

:mod:`probes.registry` maps names to kinds; configuration, scheduling, storage, the pages and the CLI read it.
Nothing here touches a database or the inventory package.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

if TYPE_CHECKING:
    from probes.base import ProbeContext, ProbeResult, SnmpCredentials, Target


class KindSettings(BaseModel):
    """What every kind's ``[probes.<kind>]`` section has. ``retries`` = consecutive failures before a hard state."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)

    enabled: bool = True
    interval_s: float = Field(60.0, gt=0, le=86400)
    timeout_s: float = Field(2.0, gt=0, le=600)
    retries: int = Field(3, ge=1, le=20, description="consecutive failures before a hard state")
    concurrency: int = Field(256, ge=1, le=10_000)
    jitter_s: float = Field(2.0, ge=0, le=3600)

    @model_validator(mode="after")
    def _timeout_fits_interval(self) -> KindSettings:
        if self.timeout_s > self.interval_s:
            raise ValueError(f"timeout_s ({self.timeout_s}) must not be longer than interval_s ({self.interval_s})")
        return self


@dataclass(frozen=True)
class MeasurementSpec:
    """One measurement a kind reports: ``role`` "latency"/"loss" marks the one stored in the hot columns and
    drawn as the check's RTT/loss graph; ``rolled_up`` ones are kept in the rollups (average, min, max)."""

    name: str
    unit: str
    label_vi: str
    label_en: str
    rolled_up: bool = False
    role: Literal["latency", "loss", ""] = ""

    def label(self, lang: str) -> str:
        return self.label_vi if lang == "vi" else self.label_en


@dataclass(frozen=True)
class InfoSpec:
    """One text of a result's ``info`` the pages show. With ``translate`` the value is a word (``busy``) the
    pages look up as ``translate + value`` in the catalogues; otherwise it is shown as measured."""

    name: str
    label_vi: str
    label_en: str
    translate: str = ""

    def label(self, lang: str) -> str:
        return self.label_vi if lang == "vi" else self.label_en


@dataclass(frozen=True)
class DeviceRecord:
    """A monitored device as the probes see it. ``snmp`` is None (no profile), credentials, or why it has none."""

    id: int
    name: str
    site: str
    address: str
    snmp: SnmpCredentials | str | None = None
    interfaces: tuple[str, ...] = ()
    custom_fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ServiceRecord:
    """A hosted service checked by a kind (``kind``); ``address`` is its device's primary address."""

    id: int
    name: str
    device_id: int
    kind: str
    address: str
    protocol: str = "tcp"
    ports: tuple[int, ...] = ()
    url: str = ""
    expected_status: tuple[int, ...] = ()
    expected_content: str = ""
    dns_name: str = ""
    dns_record_type: str = "A"
    dns_expected: tuple[str, ...] = ()
    tls_expiry_warning_days: int = 14


@dataclass(frozen=True)
class VcEndpointRecord:
    """A videoconference endpoint (codec) of a monitored device; ``address`` is its device's primary address,
    ``protocol`` ("sip" or "h323") picks the kind that checks it."""

    id: int
    device_id: int
    protocol: str
    address: str
    uri: str = ""
    e164: str = ""
    mcu_id: int | None = None
    room: str = ""


@dataclass(frozen=True)
class InventoryRecords:
    """What ``build_targets`` reads: devices (in id order), services and videoconference endpoints (of those
    devices)."""

    devices: Sequence[DeviceRecord] = ()
    services: Sequence[ServiceRecord] = ()
    vc_endpoints: Sequence[VcEndpointRecord] = ()

    @cached_property
    def _by_id(self) -> dict[int, DeviceRecord]:
        return {d.id: d for d in self.devices}

    def device(self, device_id: int) -> DeviceRecord | None:
        """One dictionary look-up (each kind asks once per service: a scan would grow with devices × services)."""
        return self._by_id.get(device_id)


@dataclass(frozen=True)
class Problem:
    """A record that could not become a target: the device, the check it would have been, why."""

    device_id: int
    check: str
    reason: str


@dataclass
class TargetBuild:
    targets: list[Target] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


Prober = Callable[["Target", Any, float, "ProbeContext"], Awaitable["ProbeResult"]]


def _no_prepare(ctx: ProbeContext, targets: Sequence[Target], settings: Any) -> None:
    return None


def _timeout_budget(settings: Any, n_targets: int) -> float:
    return float(settings.timeout_s)


@dataclass(frozen=True)
class ProbeKind:
    """One probe kind: see the module docstring for each member."""

    name: str
    settings: type[KindSettings]
    build_targets: Callable[[InventoryRecords, Any], TargetBuild]
    probe: Prober
    measurements: tuple[MeasurementSpec, ...] = ()
    info: tuple[InfoSpec, ...] = ()
    budget_s: Callable[[Any, int], float] = _timeout_budget
    prepare: Callable[[ProbeContext, Sequence[Target], Any], None] = _no_prepare
    label_vi: str = ""
    label_en: str = ""
    # whether the kind can check a device's own reachability (icmp, snmp, a device's tcp/http ports); a kind
    # that only checks services (dns) never decides a device's state, retries or staleness
    availability: bool = True

    def measurement(self, role: str) -> MeasurementSpec | None:
        """The measurement playing ``role`` ("latency" or "loss"), if any."""
        return next((m for m in self.measurements if m.role == role), None)

    def label(self, lang: str) -> str:
        text = self.label_vi if lang == "vi" else self.label_en
        return text or self.name.upper()

"""Which devices are monitored (the one rule), and the inventory graph the status engine reads.

A device is monitored when its monitoring is enabled and its status is one the pollers check
(``DeviceStatusChoices.MONITORED``: active, staged, failed). :func:`is_monitored` says it for one device,
:func:`monitored_condition` as a SQL condition (targets, the status page's frame, the status engine).

:func:`read_graph` is everything the status engine needs from the inventory to build its device graph, as
plain rows (three queries): devices with their parent and whether they are monitored, circuit terminations,
sites with their region. The engine never reads inventory tables itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, String, and_, cast, or_, select
from sqlalchemy.engine import Connection

from inventory.choices import DeviceStatusChoices
from inventory.models import Circuit, CircuitTermination, Device, Site

DEVICE = Device.__table__.c  # type: ignore[attr-defined]
SITE = Site.__table__.c  # type: ignore[attr-defined]
CIRCUIT = Circuit.__table__.c  # type: ignore[attr-defined]
TERM = CircuitTermination.__table__.c  # type: ignore[attr-defined]


def is_monitored(monitoring_enabled: bool | None, status: str | None) -> bool:
    """The rule for one device."""
    return bool(monitoring_enabled) and status in DeviceStatusChoices.MONITORED


def monitored_condition(device: Any = DEVICE) -> ColumnElement[bool]:
    """:func:`is_monitored` as a SQL condition over the device table (or its columns / model)."""
    return and_(device.monitoring_enabled.is_(True), device.status.in_(DeviceStatusChoices.MONITORED))


ALSO_POLLED_BY = "also_polled_by"  # custom field: the other poller groups that watch a device (vantage points)
GROUP_NAME_MAX = 50


def also_polled_by(device: Any) -> list[str]:
    """The other poller groups watching ``device`` (its ``also_polled_by`` custom field), its own group left out.
    A value :func:`also_polled_by_errors` refuses yields nothing."""
    value = (getattr(device, "custom_fields", None) or {}).get(ALSO_POLLED_BY)
    if also_polled_by_errors(value):
        return []
    return [g for g in dict.fromkeys(value or []) if g != getattr(device, "poller_group", None)]


def also_polled_by_errors(value: Any) -> list[str]:
    """Why an ``also_polled_by`` value is not a list of poller group names (none when it is, or absent)."""
    if value is None:
        return []
    if not isinstance(value, list):
        return [f"{ALSO_POLLED_BY} must be a list of poller group names, got {value!r}"]
    return [f"{ALSO_POLLED_BY}: {g!r} is not a poller group name (1 to {GROUP_NAME_MAX} characters)"
            for g in value if not isinstance(g, str) or not g.strip() or len(g) > GROUP_NAME_MAX]


def watched_by(group: str, device: Any = DEVICE) -> ColumnElement[bool]:
    """SQL condition: devices of ``group`` or that may list it in ``also_polled_by`` (a text pre-filter; the
    caller keeps the rows :func:`also_polled_by` confirms)."""
    return or_(device.poller_group == group,
               cast(device.custom_fields, String).like(f'%"{ALSO_POLLED_BY}"%'))


@dataclass(frozen=True)
class GraphDevice:
    id: int
    site_id: int
    parent_id: int | None
    name: str
    monitored: bool


@dataclass(frozen=True)
class GraphTermination:
    circuit_id: int
    circuit_status: str
    side: str  # "A" or "Z"
    device_id: int | None
    site_id: int | None


@dataclass(frozen=True)
class GraphSite:
    id: int
    name: str
    region_id: int | None


@dataclass(frozen=True)
class InventoryGraph:
    devices: list[GraphDevice]
    terminations: list[GraphTermination]
    sites: list[GraphSite]


def read_graph(conn: Connection) -> InventoryGraph:
    """Devices, circuit terminations and sites as plain rows (three queries)."""
    devices = [GraphDevice(r.id, r.site_id, r.parent_id, r.name or "", is_monitored(r.monitoring_enabled, r.status))
               for r in conn.execute(select(DEVICE.id, DEVICE.site_id, DEVICE.parent_id, DEVICE.name,
                                            DEVICE.monitoring_enabled, DEVICE.status))]
    terms = [GraphTermination(r.id, r.status, r.term_side, r.device_id, r.site_id)
             for r in conn.execute(select(CIRCUIT.id, CIRCUIT.status, TERM.term_side, TERM.device_id, TERM.site_id)
                                   .where(TERM.circuit_id == CIRCUIT.id))]
    sites = [GraphSite(r.id, r.name or "", r.region_id)
             for r in conn.execute(select(SITE.id, SITE.name, SITE.region_id))]
    return InventoryGraph(devices, terms, sites)

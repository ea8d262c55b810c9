"""One service's monitoring status for the status API (``/api/status/services/{id}``): its state now, each
check's latest result, and its availability over 24 hours and 30 days with the part of the window each figure
stands on. Inventory fields stay in ``/api/ipam/services/{id}/`` (NetBox's ``ipam.Service``); this is the
status side of the same object.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, Field
from sqlalchemy.engine import Connection

from infra_monitor.readmodel.services import service_detail
from infra_monitor.storage.check_intervals import DEFAULT_GAP

DATA_S = "seconds of the window with data for every check of the service (the figure's basis)"


class ServiceCheckStatus(BaseModel):
    key: str = Field(description="check key: service:12:tcp:443, service:4:http…")
    label: str = Field(description="the check as shown: tcp:443, http, dns")
    state: str = Field(description="up, down, warning or unknown (no current result)")
    error: str | None = None
    latency_ms: float | None = None
    checked_at: datetime | None = Field(None, description="when its last result was measured (UTC)")


class AvailabilityFigure(BaseModel):
    pct: float | None = Field(description="percent of the counted time the service was up; None: nothing counted")
    data_s: float = Field(description=DATA_S)
    window_s: float


class ServiceStatus(BaseModel):
    id: int
    name: str
    device_id: int
    device: str
    kind: str
    monitored: bool = Field(description="active, monitoring on, on a monitored device: its checks run")
    counts_toward: str | None
    state: str = Field(description="up, down, warning, error (its checks cannot be built) or unknown")
    problems: list[str] = Field(default_factory=list, description="configuration errors: why checks cannot run")
    checks: list[ServiceCheckStatus]
    availability: dict[str, AvailabilityFigure] = Field(description="by window: 24h and 30d; up while every "
                                                                    "check is up, down while any is down")


def service_status(conn: Connection, service_id: int, stale_before: datetime | None, now: datetime,
                   max_gap: timedelta = DEFAULT_GAP) -> ServiceStatus | None:
    """The status of one service, or None when it does not exist."""
    detail = service_detail(conn, service_id, stale_before, now=now, max_gap=max_gap)
    if detail is None:
        return None
    r = detail.row
    return ServiceStatus(
        id=r.id, name=r.name, device_id=r.device_id, device=r.device, kind=r.kind,
        monitored=r.status == "active" and r.monitored and detail.device_monitored, counts_toward=r.counts_toward,
        state=r.state, problems=list(detail.problems),
        checks=[ServiceCheckStatus(key=c.key, label=c.label, state=c.state, error=c.error, latency_ms=c.latency_ms,
                                   checked_at=c.checked_at) for c in r.checks],
        availability={
            "24h": AvailabilityFigure(pct=r.availability_24h, data_s=r.availability_24h_data_s, window_s=86400.0),
            "30d": AvailabilityFigure(pct=r.availability_30d, data_s=r.availability_30d_data_s,
                                      window_s=30 * 86400.0)})

"""``/api/status/…``: the status page's data as JSON (the same read model as the pages and the CLI).

Read-only and documented in the OpenAPI spec (``/api/docs``) through the read model's response models.
"""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any, Literal, get_args

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError

from infra_monitor.readmodel import ReadModel, SiteFilter
from infra_monitor.readmodel.checks import check_series
from infra_monitor.readmodel.details import DeviceChecksDetail
from infra_monitor.readmodel.schemas import Overview, Series, SiteDetail, SiteList
from infra_monitor.readmodel.series import PERIODS
from infra_monitor.readmodel.service_status import ServiceStatus, service_status
from web.api.inventory.crud import MAX_ID, DbId, Detail
from web.templating import readmodel

router = APIRouter(prefix="/api/status", tags=["status"])
ReadDep = Annotated[ReadModel, Depends(readmodel)]
Metric = Literal["rtt", "loss", "util"]
Period = Literal["1h", "6h", "24h", "7d", "30d", "1y"]
assert set(get_args(Period)) == set(PERIODS), "the API's periods are the read model's"
PeriodQuery = Annotated[Period, Query(description="graph range: 1h and 6h from raw results, 24h from 5-minute "
                                                  "rollups, 7d, 30d and 1y from hourly rollups")]
State = Literal["up", "down", "unreachable", "unknown", "maintenance"]
Level = Literal["datacenter", "department", "district", "commune", "unit"]
Sort = Literal["state", "name", "since", "level", "district"]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Detail, "description": "No such site or device"}}


def _each_parameter_once(request: Request) -> None:
    """A 422 for a query parameter given twice (FastAPI would silently take the last value)."""
    seen = Counter(key for key, _ in request.query_params.multi_items())
    twice = sorted(key for key, n in seen.items() if n > 1)
    if twice:
        raise RequestValidationError([{"type": "value_error", "loc": ("query", key), "input": None,
                                       "msg": "Give this parameter once."} for key in twice])


ONCE = [Depends(_each_parameter_once)]


@router.get("/overview", response_model=Overview, summary="Counts by state, coverage, problems, events, freshness")
def get_overview(rm: ReadDep) -> Overview:
    return rm.overview()


@router.get("/sites", response_model=SiteList, summary="Sites with their aggregated state", dependencies=ONCE)
def get_sites(
    rm: ReadDep,
    state: Annotated[State | None, Query(description="only sites in this state")] = None,
    level: Annotated[Level | None, Query(description="site category")] = None,
    district: Annotated[str | None, Query(description="region code: that region and everything below")] = None,
    q: Annotated[str | None, Query(description="words of the name, accents optional")] = None,
    sort: Annotated[Sort, Query(description="state (worst first), name, since, level, district")] = "state",
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    offset: Annotated[int, Query(ge=0)] = 0,
    heartbeat: Annotated[bool, Query(description="each row's 24-hour heartbeat bar (one more query; keep "
                                                 "`limit` small)")] = False,
) -> SiteList:
    return rm.sites(SiteFilter(state=state, level=level, district=district, q=q, sort=sort, limit=limit,
                               offset=offset), heartbeat=heartbeat)


@router.get("/sites/{slug}", response_model=SiteDetail, summary="One site: devices, circuits, VC, events",
            responses=NOT_FOUND)
def get_site(slug: str, rm: ReadDep) -> SiteDetail:
    detail = rm.site(slug)
    if detail is None:
        raise HTTPException(404, f"no site with slug {slug!r}")
    return detail


@router.get("/sites/{slug}/series", response_model=Series, summary="Graph series of a site", responses=NOT_FOUND,
            dependencies=ONCE)
def get_site_series(
    slug: str,
    rm: ReadDep,
    metric: Metric = "rtt",
    period: PeriodQuery = "24h",
    device: Annotated[int | None, Query(ge=1, le=MAX_ID, description="a device of the site (default: gateway)")] = None,
    circuit: Annotated[int | None, Query(ge=1, le=MAX_ID, description="a circuit at the site (util; default: "
                                                                      "Z-side ones)")] = None,
) -> Series:
    site_id = rm.site_id(slug)
    if site_id is None:
        raise HTTPException(404, f"no site with slug {slug!r}")
    return rm.site_series(site_id, metric, period, device_id=device, circuit_id=circuit)


@router.get("/devices/{device_id}", response_model=DeviceChecksDetail,
            summary="One device with its interfaces and every check", responses=NOT_FOUND)
def get_device(device_id: DbId, rm: ReadDep) -> Any:
    detail = rm.device(device_id)
    if detail is None:
        raise HTTPException(404, f"no device with id {device_id}")
    return detail


@router.get("/devices/{device_id}/series", response_model=Series, summary="Graph series of a device",
            responses=NOT_FOUND, dependencies=ONCE)
def get_device_series(device_id: DbId, rm: ReadDep, metric: Metric = "rtt", period: PeriodQuery = "24h") -> Series:
    name = rm.device_name(device_id)
    if name is None:
        raise HTTPException(404, f"no device with id {device_id}")
    return rm.device_series(device_id, name, metric, period)


CheckMetric = Literal["rtt", "loss", "success"]


@router.get("/devices/{device_id}/checks/series", response_model=Series, summary="Graph series of one check",
            responses=NOT_FOUND, dependencies=ONCE)
def get_check_series(
    device_id: DbId,
    rm: ReadDep,
    check: Annotated[str, Query(min_length=1, max_length=300, description="the check key: icmp, tcp:22, "
                                                                         "service:12:tcp:443…")],
    metric: Annotated[CheckMetric, Query(description="rtt: the kind's latency; loss; success: % of results that "
                                                     "succeeded")] = "rtt",
    period: PeriodQuery = "24h",
) -> Series:
    name = rm.device_name(device_id)
    if name is None:
        raise HTTPException(404, f"no device with id {device_id}")
    with rm.engine.connect() as conn:
        return check_series(conn, device_id, check, metric, period, rm.now(), subject=f"{name} {check}")


@router.get("/services/{service_id}", response_model=ServiceStatus, responses=NOT_FOUND,
            summary="One service: its state, each check's latest result, availability over 24 h and 30 days")
def get_service_status(service_id: DbId, rm: ReadDep) -> ServiceStatus:
    from infra_monitor.readmodel.services import stale_limit
    from infra_monitor.storage.check_intervals import staleness

    now = rm.now()
    with rm.engine.connect() as conn:
        status = service_status(conn, service_id, stale_limit(rm.settings, now), now, staleness(rm.settings))
    if status is None:
        raise HTTPException(404, f"no service with id {service_id}")
    return status

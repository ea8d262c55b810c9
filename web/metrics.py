"""``/metrics``: the Prometheus exposition of :mod:`infra_monitor.metrics`, for a viewer's token.

Prometheus scrapes it with ``authorization: {type: Bearer, credentials_file: …}`` holding a read-only API
token (``infra-monitor token create --read-only``); like every read endpoint it needs one (docs/metrics.md).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CollectorRegistry, generate_latest

from infra_monitor.metrics import MonitorCollector

router = APIRouter(tags=["metrics"])
# The text format every Prometheus since 2.0 (and VictoriaMetrics, Grafana Agent) reads.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@router.get("/metrics", summary="Prometheus metrics (probe results, device states, the monitor's health)",
            response_class=Response,
            responses={200: {"content": {CONTENT_TYPE: {}}},
                       401: {"description": "no token or session (never the sign-in page)"}})
def metrics(request: Request) -> Response:
    registry = CollectorRegistry(auto_describe=False)
    rm = request.app.state.readmodel
    registry.register(MonitorCollector(request.app.state.engine, request.app.state.settings, rm.regions()))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE,
                    headers={"Cache-Control": "no-store"})

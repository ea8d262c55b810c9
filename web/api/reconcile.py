"""REST API of reconciliation, mounted under ``/api`` by :mod:`web.app`.

``GET /api/reconcile/`` (filters ``device`` id, ``site`` slug, ``kind`` of difference, repeatable):
``{count, counts, results}`` where ``results`` are the devices (status ``ok``/``differences``/``failed``/
``not_observed``, ``observed_at``, ``differences``) and ``counts`` the differences per kind;
``GET /api/reconcile/devices/{id}``: one device; ``POST /api/reconcile/accept`` ``{device, kind, object[,
inventory]}`` (operator role): the observed value goes into the inventory (``inventory``, when given, is the
inventory value the caller saw: a different current value is refused as stale). Answers 200 with the
change's object and the source recorded in the change log; 400 ``{field: [message]}`` for bad input or a
value the inventory's validation refuses, 404 nothing to accept, 409 stale or not acceptable.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from infra_monitor.reconcile.accept import UNSET, AcceptError, accept
from infra_monitor.reconcile.diff import KINDS
from infra_monitor.reconcile.store import counts, reconcile
from web.api.inventory.auth import Writer, require_operator, require_viewer
from web.api.inventory.crud import INVALID_JSON, REQUEST_ID_HEADER, DbId, json_body, request_id_of
from web.deps import get_session, get_write_session

router = APIRouter(prefix="/reconcile", tags=["reconcile"])
DifferenceKind = Literal[KINDS]  # type: ignore[valid-type]  # the spec lists the kinds; others are refused


class AcceptIn(BaseModel):
    device: int
    kind: DifferenceKind
    object: str
    inventory: str | None = None


@router.get("/", operation_id="reconcile_list", summary="Differences between SNMP observations and the inventory")
def reconcile_list(session: Session = Depends(get_session), _viewer: Writer = Depends(require_viewer),
                   device: int | None = Query(None, description="device id"),
                   site: str | None = Query(None, description="site slug"),
                   kind: list[DifferenceKind] | None = Query(None, description="kind of difference (repeatable)"),
                   ) -> Response:
    items = reconcile(session, device_id=device, site=site, kinds=frozenset(kind) if kind else None)
    return JSONResponse({"count": len(items), "counts": counts(items), "results": [i.as_dict() for i in items]})


FIELD_ERRORS = {"description": "Invalid or refused fields: {field: [messages]} (as the inventory API)"}


@router.get("/devices/{device_id}", operation_id="reconcile_device", summary="One device's differences",
            responses={404: {"description": "No device that discovery observes has this id"}})
def reconcile_device(device_id: DbId, session: Session = Depends(get_session),
                     _viewer: Writer = Depends(require_viewer)) -> Response:
    items = reconcile(session, device_id=device_id)
    return JSONResponse(items[0].as_dict()) if items else JSONResponse({"detail": "Not found."}, 404)


def _body_errors(body: Any) -> dict[str, list[str]]:
    if body is INVALID_JSON:
        return {"non_field_errors": ["The request body is not valid JSON."]}
    if not isinstance(body, dict):
        return {"non_field_errors": ["Expected a JSON object {device, kind, object[, inventory]}."]}
    errors = {k: ["Unknown field. Accepted fields: device, kind, object, inventory."] for k in body
              if k not in AcceptIn.model_fields}
    for k in ("device", "kind", "object"):
        if k not in body:
            errors[k] = ["This field is required."]
    if "device" in body and (not isinstance(body["device"], int) or isinstance(body["device"], bool)):
        errors["device"] = ["Must be a device id (an integer)."]
    for k in ("kind", "object"):
        if k in body and not isinstance(body[k], str):
            errors[k] = ["Must be a string."]
    if "kind" in body and isinstance(body["kind"], str) and body["kind"] not in KINDS:
        errors["kind"] = [f"{body['kind']!r} is not a kind of difference; known: {', '.join(KINDS)}"]
    if body.get("inventory") is not None and not isinstance(body["inventory"], str):
        errors["inventory"] = ["Must be a string or null."]
    return errors


@router.post("/accept", operation_id="reconcile_accept", summary="Accept an observed value into the inventory",
             responses={400: FIELD_ERRORS, 404: {"description": "Nothing to accept: {field: [messages]}"},
                        409: {"description": "Stale observation or a difference only a person decides: "
                                             "{field: [messages]}"}},
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": AcceptIn.model_json_schema()}}}})
async def reconcile_accept(request: Request, session: Session = Depends(get_write_session),
                           writer: Writer = Depends(require_operator)) -> Response:
    from starlette.concurrency import run_in_threadpool

    body = await json_body(request)
    request_id = request_id_of(request)
    errors = _body_errors(body)
    if errors:
        return JSONResponse(errors, 400, headers={REQUEST_ID_HEADER: request_id})
    expected = body.get("inventory", UNSET)

    def run() -> Response:
        try:
            done = accept(session, body["device"], body["kind"], body["object"], actor=writer.actor,
                          request_id=request_id, expected_inventory=expected)
        except AcceptError as exc:
            return JSONResponse(exc.errors, exc.status, headers={REQUEST_ID_HEADER: request_id})
        return JSONResponse(done.as_dict(), headers={REQUEST_ID_HEADER: request_id})

    return await run_in_threadpool(run)

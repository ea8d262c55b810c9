"""REST API of the event log and of maintenance windows, mounted under ``/api`` by :mod:`web.app`.

``/api/status/events/`` (read-only, filters ``since``, ``site``, ``device``, ``kind``, ``severity``) and
``/api/status/maintenance/`` with ``/{id}/`` (list with ``active`` computed now, create, retrieve, partial
update, delete). Conventions are the inventory API's: ``{count, next, previous, results}`` pages with
``limit``/``offset``, bad input as 400 ``{"field": ["message"]}``, reads need any signed-in user or token,
writes the operator role (401 without a valid token or session, 403 below the role), the ``X-Request-ID`` of a write
is its change-log request id. Times without an offset are local: ``general.timezone`` for ``since``, the
window's ``tz`` for its ``start``/``end``; responses carry UTC.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, time
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.json_schema import SkipJsonSchema
from sqlalchemy.orm import Session

from infra_monitor.status.engine.states import EventKind, Severity
from infra_monitor.status.maintenance.manage import (
    UnknownWindow,
    WindowInputError,
    WindowSpec,
    add_window,
    parse_when,
    remove_window,
    resolve_device,
    resolve_site,
    spec_of,
    update_window,
)
from infra_monitor.status.maintenance.windows import DEFAULT_TZ
from infra_monitor.status.store.listing import (
    EventFilter,
    EventLogEntry,
    WindowOut,
    group_by_root,
    list_events,
    list_windows,
)
from infra_monitor.status.store.models import MaintenanceWindowRow
from web.api.inventory.auth import Writer, require_operator
from web.api.inventory.crud import (
    INVALID_JSON,
    REQUEST_ID_HEADER,
    WRITE_RESPONSES,
    DbId,
    Detail,
    FieldErrors,
    LimitParam,
    OffsetParam,
    json_body,
    request_id_of,
)
from web.api.inventory.filters import FilterError, declared, given_once
from web.api.inventory.pagination import page_body, parse_page
from web.deps import get_session, get_settings, get_write_session

log = logging.getLogger(__name__)

router = APIRouter(prefix="/status")
ScopeName = Literal["device", "site", "region", "all"]
KindName = Literal["one_off", "weekly", "cron"]
_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no")
_NULLABLE = frozenset({"start", "end", "start_time", "duration_min", "cron"})
_PLAIN_FIELDS = ("name", "kind", "start", "end", "days", "start_time", "duration_min", "cron", "tz", "comment")
_EVENT_PARAMS = ("since", "site", "device", "kind", "severity", "group", "limit", "offset")
SinceParam = Annotated[str | None, Query(description="ISO 8601 or DD/MM/YYYY[ HH:MM]; without offset = local time"),
                       declared({"type": "string", "format": "date-time"}, empty=True)]
KindParam = Annotated[str | None, Query(description="kind of event"),
                      declared({"type": "string", "enum": [k.value for k in EventKind]}, empty=True)]
SeverityParam = Annotated[str | None, Query(description="severity of event"),
                          declared({"type": "string", "enum": [s.value for s in Severity]}, empty=True)]
ActiveParam = Annotated[str | None, Query(description="true: only windows active now; false: only the others"),
                        declared({"type": "boolean"}, empty=True)]


class EventLogPage(BaseModel):
    count: int
    next: str | None
    previous: str | None
    results: list[EventLogEntry]


class WindowPage(BaseModel):
    count: int
    next: str | None
    previous: str | None
    results: list[WindowOut]


class WindowIn(BaseModel):
    """A new maintenance window. Give the scope by ``scope_id`` or by ``scope`` (its natural key)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    scope_type: ScopeName = "all"
    scope_id: int | None = Field(None, description="id of the device, site or region")
    scope: str | None = Field(None, description="instead of scope_id: SITE-SLUG/DEVICE-NAME, a site slug or a "
                                                "region code")
    kind: KindName = "one_off"
    start: datetime | None = Field(None, description="one-off start, or first moment of a recurrence; "
                                                     "without offset = local time in tz")
    end: datetime | None = Field(None, description="one-off end, or end of a recurrence; without offset = local")
    days: list[int | str] = Field(default_factory=list, description="weekly: 0 (Monday) … 6 or mon…sun")
    start_time: time | None = Field(None, description="weekly: HH:MM local time in tz")
    duration_min: int | None = Field(None, ge=1, description="recurring: minutes each occurrence lasts")
    cron: str | None = Field(None, max_length=100, description="cron: five fields (weekdays best by name)")
    tz: str = Field(DEFAULT_TZ, max_length=64)
    comment: str = Field("", max_length=1000)


class WindowPatch(BaseModel):
    """Fields to change; the others keep their values. Changing ``scope_type`` needs the new scope too."""

    model_config = ConfigDict(extra="forbid")

    # None means "not given" for the fields the spec does not declare nullable (a null there is a 400)
    name: Annotated[str, Field(min_length=1, max_length=200)] | SkipJsonSchema[None] = None
    scope_type: ScopeName | SkipJsonSchema[None] = None
    scope_id: int | None = None
    scope: str | None = None
    kind: KindName | SkipJsonSchema[None] = None
    start: datetime | None = None
    end: datetime | None = None
    days: list[int | str] | SkipJsonSchema[None] = None
    start_time: time | None = None
    duration_min: int | None = Field(None, ge=1)
    cron: str | None = Field(None, max_length=100)
    tz: Annotated[str, Field(max_length=64)] | SkipJsonSchema[None] = None
    comment: Annotated[str, Field(max_length=1000)] | SkipJsonSchema[None] = None


def _errors(errors: dict[str, list[str]], request_id: str | None = None) -> JSONResponse:
    return JSONResponse(errors, 400, headers={REQUEST_ID_HEADER: request_id} if request_id else None)


def _not_found() -> JSONResponse:
    return JSONResponse({"detail": "Not found."}, 404)


def _whole_numbers(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, dict):
        return {k: _whole_numbers(v) for k, v in value.items()}
    return [_whole_numbers(v) for v in value] if isinstance(value, list) else value


def window_body(model: type[WindowIn] | type[WindowPatch], body: dict[str, Any]) -> Any:
    """``body`` validated the way the spec reads it: strict JSON types (no number read as a time, no string
    as a number) where 2.0 is an integer, as in JSON Schema. Raises ValidationError."""
    return model.model_validate_json(json.dumps(_whole_numbers(body)), strict=True)


def _parse(model: type[WindowIn] | type[WindowPatch], body: Any) -> Any:
    if body is INVALID_JSON:
        raise WindowInputError({"non_field_errors": ["The request body is not valid JSON."]})
    if not isinstance(body, dict):
        raise WindowInputError({"non_field_errors": ["Expected a JSON object of field values."]})
    try:
        parsed = window_body(model, body)
    except ValidationError as exc:
        out: dict[str, list[str]] = {}
        for err in exc.errors():
            key = str(err["loc"][0]) if err["loc"] else "non_field_errors"
            msg = {"extra_forbidden": f"Unknown field. Accepted fields: {', '.join(model.model_fields)}.",
                   "missing": "This field is required."}.get(err["type"], f"{err['msg']}.")
            out.setdefault(key, []).append(msg)
        raise WindowInputError(out) from None
    if parsed.scope is not None and parsed.scope_id is not None:
        raise WindowInputError({"scope": ["Give scope or scope_id, not both."]})
    return parsed


def _doc(model: type[BaseModel]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": model.model_json_schema()}}}}


def _local_zone(request: Request) -> ZoneInfo:
    return ZoneInfo(get_settings(request).general.timezone)


# ---------------------------------------------------------------- events -------------------------------------


def _since(raw: str, zone: ZoneInfo) -> datetime:
    """``since`` in UTC; a moment within a day of year 1 or 9999 is as far as a datetime goes."""
    when = parse_when(raw, zone)
    try:
        return when.astimezone(UTC)
    except OverflowError:
        return (datetime.min if when.year == 1 else datetime.max).replace(tzinfo=UTC)


def _device(session: Session, raw: str) -> int:
    try:
        return resolve_device(session, raw)
    except OverflowError:  # an id beyond the database's integers names no device
        raise ValueError(f"no device with id {raw.strip()}") from None


@router.get("/events/", response_model=EventLogPage, operation_id="status_events_list", tags=["events"],
            summary="The event log, newest first", responses={400: {"model": FieldErrors}})
def events_list(
    request: Request,
    session: Session = Depends(get_session),
    since: SinceParam = None,
    site: str | None = Query(None, description="site slug: its own events and its devices'"),
    device: str | None = Query(None, description="device id or SITE-SLUG/DEVICE-NAME"),
    kind: KindParam = None,
    severity: SeverityParam = None,
    group: str | None = Query(None, description="root: each result an {event, members} row, the devices "
                                                "unreachable behind a root cause in one sweep under its DOWN"),
    limit: LimitParam = None,
    offset: OffsetParam = None,
) -> Response:
    errors: dict[str, list[str]] = {"group": [f"'{group}' is not one of root, none."]} if group not in (
        None, "", "root", "none") else {}
    f: dict[str, Any] = {}
    checks: list[tuple[str, str | None, Any]] = [
        ("since", since, lambda v: _since(v, _local_zone(request))),
        ("site_id", site, lambda v: resolve_site(session, v)),
        ("device_id", device, lambda v: _device(session, v)),
        ("kind", kind, lambda v: EventKind(v).value),
        ("severity", severity, lambda v: Severity(v).value),
    ]
    for key, raw, convert in checks:
        if raw is None or raw == "":
            continue
        try:
            f[key] = convert(raw)
        except ValueError as exc:
            name = key.removesuffix("_id")
            allowed = {"kind": EventKind, "severity": Severity}.get(name)
            message = f"'{raw}' is not one of {', '.join(allowed)}." if allowed else f"{exc}."
            errors[name] = [message]
    try:
        given_once(list(request.query_params.multi_items()), _EVENT_PARAMS)
        page = parse_page(limit, offset)
    except FilterError as exc:
        errors.update(exc.errors)
    if errors:
        return _errors(errors)
    count, results = list_events(session, EventFilter(**f), page.limit, page.offset)
    rows = group_by_root(results) if group == "root" else results
    return JSONResponse(page_body(request.url, page, count, [e.model_dump(mode="json") for e in rows]))


# ---------------------------------------------------------------- maintenance windows ------------------------


@router.get("/maintenance/", response_model=WindowPage, operation_id="status_maintenance_list",
            tags=["maintenance"], summary="Maintenance windows, with whether each is active now",
            responses={400: {"model": FieldErrors}})
def maintenance_list(
    request: Request,
    session: Session = Depends(get_session),
    active: ActiveParam = None,
    limit: LimitParam = None,
    offset: OffsetParam = None,
) -> Response:
    errors: dict[str, list[str]] = {}
    wanted: bool | None = None
    if active:
        if active.lower() not in (*_TRUE, *_FALSE):
            errors["active"] = [f"'{active}' is not a boolean (true or false)."]
        wanted = active.lower() in _TRUE
    try:
        given_once(list(request.query_params.multi_items()), ("active", "limit", "offset"))
        page = parse_page(limit, offset)
    except FilterError as exc:
        errors.update(exc.errors)
    if errors:
        return _errors(errors)
    windows = list_windows(session, datetime.now(UTC), active=wanted)
    shown = windows[page.offset:page.offset + page.limit]
    return JSONResponse(page_body(request.url, page, len(windows), [w.model_dump(mode="json") for w in shown]))


@router.get("/maintenance/{window_id}/", response_model=WindowOut, operation_id="status_maintenance_retrieve",
            tags=["maintenance"], summary="One maintenance window", responses={404: {"model": Detail}})
def maintenance_retrieve(window_id: DbId, session: Session = Depends(get_session)) -> Response:
    found = list_windows(session, datetime.now(UTC), window_id=window_id)
    return JSONResponse(found[0].model_dump(mode="json")) if found else _not_found()


def _saved(session: Session, window_id: DbId, code: int, request_id: str) -> JSONResponse:
    [shown] = list_windows(session, datetime.now(UTC), window_id=window_id)
    return JSONResponse(shown.model_dump(mode="json"), code, headers={REQUEST_ID_HEADER: request_id})


@router.post("/maintenance/", status_code=201, response_model=WindowOut, operation_id="status_maintenance_create",
             tags=["maintenance"], summary="Plan a maintenance window", openapi_extra=_doc(WindowIn),
             responses=WRITE_RESPONSES)
def maintenance_create(request: Request, session: Session = Depends(get_write_session),
                       writer: Writer = Depends(require_operator), raw: Any = Depends(json_body)) -> Response:
    request_id = request_id_of(request)
    try:
        body: WindowIn = _parse(WindowIn, raw)
        by_key = body.scope is not None
        spec = WindowSpec(
            name=body.name, scope_type=body.scope_type, scope_ref=body.scope if by_key else body.scope_id,
            scope_field="scope" if by_key else "scope_id", kind=body.kind, start=body.start, end=body.end,
            days=body.days, start_time=body.start_time, duration_min=body.duration_min, cron=body.cron,
            tz=body.tz, comment=body.comment,
        )
        window_id = add_window(session, spec, writer.actor, request_id)
    except WindowInputError as exc:
        session.rollback()
        return _errors(exc.errors, request_id)
    return _saved(session, window_id, 201, request_id)


@router.patch("/maintenance/{window_id}/", response_model=WindowOut, operation_id="status_maintenance_partial_update",
              tags=["maintenance"], summary="Change fields of a maintenance window", openapi_extra=_doc(WindowPatch),
              responses=WRITE_RESPONSES)
def maintenance_update(window_id: DbId, request: Request, session: Session = Depends(get_write_session),
                       writer: Writer = Depends(require_operator), raw: Any = Depends(json_body)) -> Response:
    request_id = request_id_of(request)
    row = session.get(MaintenanceWindowRow, window_id)
    if row is None:
        return _not_found()
    try:
        patch: WindowPatch = _parse(WindowPatch, raw)
        spec = spec_of(row)
        given = patch.model_fields_set
        nulls = {k: ["This field may not be null."] for k in given
                 if getattr(patch, k) is None and k not in _NULLABLE and k not in ("scope", "scope_id")}
        if nulls:
            raise WindowInputError(nulls)
        for key in given.intersection(_PLAIN_FIELDS):
            setattr(spec, key, getattr(patch, key))
        if "scope_type" in given and patch.scope_type is not None and patch.scope_type != row.scope_type:
            spec.scope_type, spec.scope_ref = patch.scope_type, None
        if "scope" in given or "scope_id" in given:
            by_key = patch.scope is not None
            spec.scope_ref = patch.scope if by_key else patch.scope_id
            spec.scope_field = "scope" if by_key else "scope_id"
        update_window(session, window_id, spec, writer.actor, request_id)
    except WindowInputError as exc:
        session.rollback()
        return _errors(exc.errors, request_id)
    return _saved(session, window_id, 200, request_id)


@router.delete("/maintenance/{window_id}/", status_code=204, response_class=Response,
               operation_id="status_maintenance_destroy", tags=["maintenance"],
               summary="Delete a maintenance window", responses=WRITE_RESPONSES)
def maintenance_destroy(window_id: DbId, request: Request, session: Session = Depends(get_write_session),
                        writer: Writer = Depends(require_operator)) -> Response:
    request_id = request_id_of(request)
    try:
        remove_window(session, window_id, writer.actor, datetime.now(UTC), request_id)
    except UnknownWindow:
        return _not_found()
    return Response(status_code=204, headers={REQUEST_ID_HEADER: request_id})

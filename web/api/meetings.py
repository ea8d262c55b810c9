"""REST API of videoconference meetings, mounted under ``/api`` by :mod:`web.app` (NetBox conventions).

``GET/POST /api/vc/meetings/`` (``{count, next, previous, results}`` with ``limit``/``offset``; ``?upcoming=true``
only those not over), ``GET/PATCH/PUT/DELETE /api/vc/meetings/{id}/``, ``GET /api/vc/meetings/{id}/readiness``
(the board of the latest check) and ``POST /api/vc/meetings/{id}/check`` (an operator's "check now": recorded
for the poller, 202; 409 with a message when no poller runs — the web never probes). Reads need any signed-in
user or token, writes the operator role. A body is ``{title, start (ISO 8601 with offset), duration_min, mcu
(device id or name), participants: [{endpoint}|{site}|{level, district?}], notes}``; bad input is 400
``{"field": ["message"]}``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from infra_monitor.meetings.manage import MeetingIn, MeetingInputError, create, list_meetings, update
from infra_monitor.meetings.models import Meeting
from infra_monitor.meetings.schedule import poller_running, request_check
from infra_monitor.meetings.views import BoardOut, MeetingOut, board, meeting_out
from web.api.inventory.auth import Writer, require_operator, require_viewer
from web.api.inventory.crud import INVALID_JSON, DbId, Detail, FieldErrors, LimitParam, OffsetParam, json_body
from web.api.inventory.filters import FilterError
from web.api.inventory.pagination import page_body, parse_page
from web.deps import get_session, get_write_session

router = APIRouter(prefix="/vc/meetings", tags=["vc"])
FIELDS = ("title", "start", "duration_min", "mcu", "participants", "notes")


class MeetingBody(BaseModel):
    """A meeting as written (POST, PUT): the spec of the body; the rules are :mod:`infra_monitor.meetings.manage`."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    start: datetime = Field(description="ISO 8601 with an offset; stored in UTC; in the future")
    duration_min: int = Field(60, ge=1, le=1440)
    mcu: int | str = Field(description="the MCU device: id or name")
    participants: list[dict[str, Any]] = Field(
        min_length=1, description="each {endpoint: id|codec device name}, {site: id|slug} or "
                                  "{level: commune|district|department, district?: region id|code|slug}")
    notes: str = Field("", max_length=2000)


class MeetingPatch(BaseModel):
    """PATCH: any of the fields of :class:`MeetingBody`."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, min_length=1, max_length=200)
    start: datetime | None = None
    duration_min: int | None = Field(None, ge=1, le=1440)
    mcu: int | str | None = None
    participants: list[dict[str, Any]] | None = Field(None, min_length=1)
    notes: str | None = Field(None, max_length=2000)


def _body(model: type[BaseModel]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": model.model_json_schema()}}}}


BAD: dict[int | str, dict[str, Any]] = {400: {"model": FieldErrors,
                                              "description": "Invalid fields: {field: [messages]}"}}
MISSING: dict[int | str, dict[str, Any]] = {404: {"model": Detail, "description": "No such meeting"}}


class MeetingPage(BaseModel):
    count: int
    next: str | None
    previous: str | None
    results: list[MeetingOut]


class CheckRequested(BaseModel):
    request_id: int
    meeting_id: int
    requested_at: datetime


def _not_found() -> JSONResponse:
    return JSONResponse({"detail": "Not found."}, 404)


def _parse(raw: Any, required: bool) -> tuple[dict[str, Any], dict[str, list[str]]]:
    if raw is INVALID_JSON:
        return {}, {"non_field_errors": ["The request body is not valid JSON."]}
    if not isinstance(raw, dict):
        return {}, {"non_field_errors": ["Expected a JSON object of field values."]}
    errors = {k: [f"Unknown field. Accepted fields: {', '.join(FIELDS)}."] for k in raw if k not in FIELDS}
    body = {k: v for k, v in raw.items() if k in FIELDS}
    if "start" in body:
        try:
            body["start"] = datetime.fromisoformat(str(body["start"]).replace("Z", "+00:00").replace("z", "+00:00"))
            if body["start"].tzinfo is not None:
                body["start"].astimezone(UTC)   # a time UTC cannot hold (year 1 at +14:00…) is refused here
        except (ValueError, OverflowError):
            errors["start"] = [f"{str(body['start'])[:40]!r} is not an ISO 8601 time with an offset."]
    if "participants" in body and not isinstance(body["participants"], list):
        errors["participants"] = ["Expected a list of {endpoint}, {site} or {level, district} objects."]
    for k in ("title", "notes"):
        if k in body and not isinstance(body[k], str):
            errors[k] = ["Must be a string."]
    if required:
        errors.update({k: ["This field is required."] for k in ("title", "start", "mcu", "participants")
                       if k not in raw})
    return body, errors


@router.get("/", response_model=MeetingPage, operation_id="vc_meetings_list", summary="List meetings",
            responses=BAD)
def meetings_list(request: Request, session: Session = Depends(get_session), _v: Writer = Depends(require_viewer),
                  upcoming: bool = Query(False, description="only meetings not over yet, soonest first"),
                  limit: LimitParam = None, offset: OffsetParam = None) -> Response:
    try:
        page = parse_page(limit, offset)
    except FilterError as exc:
        return JSONResponse(exc.errors, 400)
    count, items = list_meetings(session, page.limit, page.offset, datetime.now(UTC) if upcoming else None)
    return JSONResponse(page_body(request.url, page, count,
                                  [meeting_out(session, m).model_dump(mode="json") for m in items]))


@router.post("/", response_model=MeetingOut, status_code=201, operation_id="vc_meetings_create",
             summary="Create a meeting", responses=BAD, openapi_extra=_body(MeetingBody))
def meetings_create(session: Session = Depends(get_write_session), writer: Writer = Depends(require_operator),
                    raw: Any = Depends(json_body)) -> Response:
    body, errors = _parse(raw, True)
    if errors:
        return JSONResponse(errors, 400)
    data = MeetingIn(title=body["title"], start=body["start"], duration_min=body.get("duration_min", 60),
                     mcu=body["mcu"], participants=body["participants"], notes=body.get("notes", ""))
    try:
        m = create(session, data, writer.username, datetime.now(UTC))
    except MeetingInputError as exc:
        session.rollback()
        return JSONResponse(exc.errors, 400)
    out = meeting_out(session, m).model_dump(mode="json")
    session.commit()
    return JSONResponse(out, 201)


@router.get("/{meeting_id}/", response_model=MeetingOut, operation_id="vc_meetings_retrieve", summary="One meeting",
            responses=MISSING)
def meetings_retrieve(meeting_id: DbId, session: Session = Depends(get_session),
                      _v: Writer = Depends(require_viewer)) -> Response:
    m = session.get(Meeting, meeting_id)
    return JSONResponse(meeting_out(session, m).model_dump(mode="json")) if m else _not_found()


def _change(session: Session, meeting_id: int, raw: Any, full: bool) -> Response:
    m = session.get(Meeting, meeting_id)
    if m is None:
        return _not_found()
    body, errors = _parse(raw, full)
    if errors:
        return JSONResponse(errors, 400)
    try:
        update(session, m, body, datetime.now(UTC))
    except MeetingInputError as exc:
        session.rollback()
        return JSONResponse(exc.errors, 400)
    out = meeting_out(session, m).model_dump(mode="json")
    session.commit()
    return JSONResponse(out)


@router.patch("/{meeting_id}/", response_model=MeetingOut, operation_id="vc_meetings_partial_update",
              summary="Change some fields of a meeting", responses={**BAD, **MISSING},
              openapi_extra=_body(MeetingPatch))
def meetings_patch(meeting_id: DbId, session: Session = Depends(get_write_session),
                   _w: Writer = Depends(require_operator), raw: Any = Depends(json_body)) -> Response:
    return _change(session, meeting_id, raw, False)


@router.put("/{meeting_id}/", response_model=MeetingOut, operation_id="vc_meetings_update",
            summary="Replace a meeting", responses={**BAD, **MISSING}, openapi_extra=_body(MeetingBody))
def meetings_put(meeting_id: DbId, session: Session = Depends(get_write_session),
                 _w: Writer = Depends(require_operator), raw: Any = Depends(json_body)) -> Response:
    return _change(session, meeting_id, raw, True)


@router.delete("/{meeting_id}/", status_code=204, operation_id="vc_meetings_destroy", summary="Delete a meeting",
               responses=MISSING)
def meetings_delete(meeting_id: DbId, session: Session = Depends(get_write_session),
                    _w: Writer = Depends(require_operator)) -> Response:
    m = session.get(Meeting, meeting_id)
    if m is None:
        return _not_found()
    session.delete(m)
    session.commit()
    return Response(status_code=204)


@router.get("/{meeting_id}/readiness", response_model=BoardOut, operation_id="vc_meetings_readiness",
            summary="The readiness board: rooms not ready first with reasons, changes since the previous check",
            responses=MISSING)
def meetings_readiness(meeting_id: DbId, session: Session = Depends(get_session),
                       _v: Writer = Depends(require_viewer)) -> Response:
    m = session.get(Meeting, meeting_id)
    return JSONResponse(board(session, m).model_dump(mode="json")) if m else _not_found()


@router.post("/{meeting_id}/check", status_code=202, operation_id="vc_meetings_check",
             summary="Ask the poller to check readiness now (409 when no poller runs)",
             responses={**MISSING, 409: {"model": Detail, "description": "No poller runs: nothing would pick it up"},
                        202: {"model": CheckRequested, "description": "Recorded; the poller runs it within seconds"}})
def meetings_check(meeting_id: DbId, session: Session = Depends(get_write_session),
                   writer: Writer = Depends(require_operator)) -> Response:
    m = session.get(Meeting, meeting_id)
    if m is None:
        return _not_found()
    now = datetime.now(UTC)
    if not poller_running(session, now):
        return JSONResponse({"detail": "No poller is running: the check cannot be done from the web. Start "
                                       "'infra-monitor serve' or 'infra-monitor poller', or run "
                                       f"'infra-monitor meeting check {meeting_id}' on the probe server."}, 409)
    req = request_check(session, meeting_id, writer.username, now)
    session.commit()
    return JSONResponse({"request_id": req.id, "meeting_id": meeting_id, "requested_at": req.requested_at.isoformat()},
                        202)

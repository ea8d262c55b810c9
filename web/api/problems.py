"""REST API of problems, mounted under ``/api`` by :mod:`web.app`.

``GET /api/status/problems`` (filters ``state`` open|resolved|all, ``level``, ``district`` (region id, code or
slug), ``site``, ``since``, ``until``, ``acknowledged``; NetBox-style ``{count, next, previous, results}`` with
``limit``/``offset``), ``GET /api/status/problems/{id}`` (with members and history), and the operator's
writes ``POST …/{id}/acknowledge`` ``{comment}``, ``…/unacknowledge``, ``…/assign`` ``{assignee}``,
``…/comment`` ``{comment}``. Reads need any signed-in user or token, writes the operator role. Bad input is
400 ``{"field": ["message"]}``, an unknown id 404. The history records the real principal.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from infra_monitor.readmodel.schemas import LEVELS
from infra_monitor.status.store import problems as actions
from infra_monitor.status.store.problem_listing import ProblemOut, get_problem, list_problems, parse_problem_filter
from web.api.inventory.auth import Writer, require_operator, require_viewer
from web.api.inventory.crud import INVALID_JSON, DbId, Detail, FieldErrors, LimitParam, OffsetParam, json_body
from web.api.inventory.filters import FilterError, given_once
from web.api.inventory.pagination import page_body, parse_page
from web.api.status import Level
from web.deps import get_session, get_settings, get_write_session

router = APIRouter(prefix="/status", tags=["problems"])
_PARAMS = ("state", "level", "district", "site", "since", "until", "acknowledged", "limit", "offset")
WhenParam = Annotated[str | None, Query(description="ISO 8601 or DD/MM/YYYY[ HH:MM]; without offset = local time")]
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": Detail, "description": "No such problem"},
    400: {"model": FieldErrors, "description": "Invalid fields: {field: [messages]} (as the inventory API)"},
}


class ProblemPage(BaseModel):
    count: int
    next: str | None
    previous: str | None
    results: list[ProblemOut]


class AckIn(BaseModel):
    comment: str = ""


class AssignIn(BaseModel):
    assignee: str | None


class CommentIn(BaseModel):
    comment: str


def _body(model: type[BaseModel], required: bool) -> dict[str, Any]:
    """The request body in the OpenAPI document (the handler reads it with ``json_body`` itself)."""
    return {"requestBody": {"required": required,
                            "content": {"application/json": {"schema": model.model_json_schema()}}}}


def _invalid(errors: dict[str, list[str]]) -> JSONResponse:
    return JSONResponse(errors, 400)


def _not_found() -> JSONResponse:
    return JSONResponse({"detail": "Not found."}, 404)


@router.get("/problems", response_model=ProblemPage, operation_id="status_problems_list",
            summary="Problems: open first, newest first", responses={400: ERRORS[400]})
def problems_list(
    request: Request,
    session: Session = Depends(get_session),
    _viewer: Writer = Depends(require_viewer),
    state: Literal["open", "resolved", "all"] | None = Query(None, description="open (default), resolved or all"),
    level: Level | None = Query(None, description=f"site category: {', '.join(LEVELS)}"),
    district: str | None = Query(None, description="region id, code or slug: that region and below"),
    site: str | None = Query(None, description="site slug"),
    since: WhenParam = None,
    until: WhenParam = None,
    acknowledged: bool | None = Query(None, description="only acknowledged (true) or not (false) problems"),
    limit: LimitParam = None,
    offset: OffsetParam = None,
) -> Response:
    now = datetime.now(UTC)
    zone = ZoneInfo(get_settings(request).general.timezone)
    raw = {"state": state, "level": level, "district": district, "site": site, "since": since, "until": until,
           "acknowledged": None if acknowledged is None else str(acknowledged).lower()}
    flt, errors = parse_problem_filter(session, zone, raw, now)
    try:
        given_once(list(request.query_params.multi_items()), _PARAMS)
        page = parse_page(limit, offset)
    except FilterError as exc:
        errors.update(exc.errors)
    if errors:
        return _invalid(errors)
    count, results = list_problems(session, flt, page.limit, page.offset, now)
    return JSONResponse(page_body(request.url, page, count, [p.model_dump(mode="json") for p in results]))


@router.get("/problems/{problem_id}", response_model=ProblemOut, operation_id="status_problems_retrieve",
            summary="One problem with its members and history", responses={404: ERRORS[404]})
def problems_retrieve(problem_id: DbId, session: Session = Depends(get_session),
                      _viewer: Writer = Depends(require_viewer)) -> Response:
    found = get_problem(session, problem_id, datetime.now(UTC))
    return JSONResponse(found.model_dump(mode="json")) if found else _not_found()


def _write(session: Session, problem_id: int, raw: Any, fields: dict[str, bool],
           act: Callable[[dict[str, Any], datetime], None]) -> Response:
    """Validate the body (``fields``: name → required), run ``act``, commit, answer with the problem."""
    if raw is INVALID_JSON:
        return _invalid({"non_field_errors": ["The request body is not valid JSON."]})
    body = {} if raw is None else raw
    if not isinstance(body, dict):
        return _invalid({"non_field_errors": ["Expected a JSON object of field values."]})
    errors = {k: [f"Unknown field. Accepted fields: {', '.join(fields) or 'none'}."] for k in body if k not in fields}
    errors.update({k: ["This field is required."] for k, needed in fields.items() if needed and k not in body})
    errors.update({k: ["Must be a string."] for k, v in body.items()
                   if k in fields and v is not None and not isinstance(v, str)})
    if errors:
        return _invalid(errors)
    now = datetime.now(UTC)
    try:
        act(body, now)
    except actions.ProblemNotFound:
        session.rollback()
        return _not_found()
    except actions.ProblemInputError as exc:
        session.rollback()
        return _invalid(exc.errors)
    session.commit()
    found = get_problem(session, problem_id, now)
    assert found is not None
    return JSONResponse(found.model_dump(mode="json"))


@router.post("/problems/{problem_id}/acknowledge", response_model=ProblemOut,
             operation_id="status_problems_acknowledge", summary="Acknowledge a problem (optional comment)",
             responses=ERRORS, openapi_extra=_body(AckIn, False))
def problems_acknowledge(problem_id: DbId, session: Session = Depends(get_write_session),
                         writer: Writer = Depends(require_operator), raw: Any = Depends(json_body)) -> Response:
    return _write(session, problem_id, raw, {"comment": False}, lambda b, now: actions.acknowledge(
        session, problem_id, writer.username, now, b.get("comment"), actor=writer.actor))


@router.post("/problems/{problem_id}/unacknowledge", response_model=ProblemOut,
             operation_id="status_problems_unacknowledge", summary="Withdraw the acknowledgement", responses=ERRORS,
             openapi_extra=_body(AckIn, False))
def problems_unacknowledge(problem_id: DbId, session: Session = Depends(get_write_session),
                           writer: Writer = Depends(require_operator), raw: Any = Depends(json_body)) -> Response:
    return _write(session, problem_id, raw, {"comment": False}, lambda b, now: actions.unacknowledge(
        session, problem_id, writer.actor, now, b.get("comment")))


@router.post("/problems/{problem_id}/assign", response_model=ProblemOut, operation_id="status_problems_assign",
             summary="Assign to a user (null clears)", responses=ERRORS,
             openapi_extra=_body(AssignIn, True))
def problems_assign(problem_id: DbId, session: Session = Depends(get_write_session),
                    writer: Writer = Depends(require_operator), raw: Any = Depends(json_body)) -> Response:
    return _write(session, problem_id, raw, {"assignee": True}, lambda b, now: actions.assign(
        session, problem_id, b.get("assignee"), writer.actor, now))


@router.post("/problems/{problem_id}/comment", response_model=ProblemOut, operation_id="status_problems_comment",
             summary="Add a comment to the history", responses=ERRORS,
             openapi_extra=_body(CommentIn, True))
def problems_comment(problem_id: DbId, session: Session = Depends(get_write_session),
                     writer: Writer = Depends(require_operator), raw: Any = Depends(json_body)) -> Response:
    return _write(session, problem_id, raw, {"comment": True}, lambda b, now: actions.add_comment(
        session, problem_id, b.get("comment"), writer.actor, now))

"""Generic NetBox-style endpoints for one resource: list, retrieve, create, update (PUT/PATCH), delete.

``/<domain>/<plural>/`` and ``/<domain>/<plural>/{id}/``. A list costs a constant number of queries whatever
the page size (count, page, one ``IN`` query per relation). Writes need the admin token, run inside one
``change_context`` whose request id (the ``X-Request-ID`` header, or a new uuid) is returned in the response,
validate with :func:`inventory.validation.clean`, and answer 400 ``{field: [message]}``, 404, or 409 when a
delete would leave references behind. PUT needs every required field and leaves absent optional fields as
they are (so write-only secrets survive a GET → PUT round trip); PATCH takes any subset. A POST of a JSON list
is NetBox's bulk create (:mod:`web.api.inventory.bulk`).
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Query, Request, status
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, RootModel
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from inventory.changelog import change_context
from inventory.validation import clean
from web.api.inventory import schemas
from web.api.inventory.auth import Writer, require_writer
from web.api.inventory.bulk import bulk_create
from web.api.inventory.filters import (
    CONTROL_PARAMS,
    FilterError,
    FilterSet,
    declared,
    given_once,
    order_by,
    orderable,
    parse_value,
)
from web.api.inventory.pagination import LIMIT_SCHEMA, MAX_LIMIT, OFFSET_SCHEMA, page_body, parse_page
from web.api.inventory.resources import REGISTRY, RequestContext, Resource
from web.api.inventory.serialize import serialize_one, serialize_page
from web.api.inventory.writes import WriteError, WriteLookup, api_errors, blocking_references, label, parse_body
from web.deps import get_session, get_settings, get_write_session
from web.limits import check_items

log = logging.getLogger(__name__)

ROOT_ROUTE = "inventory_api_root"
REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,36}$")
INVALID_JSON = object()  # json_body's answer for a body that does not parse
MAX_ID = 2**63 - 1       # ids are BIGINT: a larger number cannot name a row (and must not reach the driver)
DbId = Annotated[int, Path(ge=1, le=MAX_ID, description="object id")]
# Parsed by the handlers (a bad value is a 400 naming the parameter); the spec says what is valid.
BriefParam = Annotated[str | None, Query(description="true: only id, url, display and the identifying fields"),
                       declared({"type": "boolean"}, empty=True)]
LimitParam = Annotated[str | None, Query(description=f"page size (default 50; 0 or above {MAX_LIMIT}: {MAX_LIMIT})"),
                       LIMIT_SCHEMA]
OffsetParam = Annotated[str | None, Query(description="index of the first result"), OFFSET_SCHEMA]


class FieldErrors(RootModel[dict[str, list[str]]]):
    """Validation errors: ``{"field": ["message", …]}`` (unknown fields and bad filters named the same way)."""


class CreateErrors(RootModel[dict[str, list[str]] | list[dict[str, list[str]]]]):
    """``{field: [message]}``; for a list body (bulk create) one such object per item, ``{}`` for good ones."""


class Detail(BaseModel):
    detail: str


class ReferenceOut(BaseModel):
    object_type: str
    id: int
    display: str


class Conflict(BaseModel):
    detail: str
    referenced_by: list[ReferenceOut]


WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": FieldErrors, "description": "Invalid fields: {field: [messages]}"},
    401: {"model": Detail, "description": "No valid session or API token (missing, wrong, expired or revoked)"},
    403: {"model": Detail, "description": "The role or the token scope does not allow this write"},
    404: {"model": Detail, "description": "No such object"},
}


def api_root(request: Request) -> str:
    return str(request.url_for(ROOT_ROUTE))


def request_id_of(request: Request) -> str:
    """The caller's ``X-Request-ID`` when it is a sane token (≤ 36 characters), else a new uuid4."""
    given = request.headers.get(REQUEST_ID_HEADER, "")
    return given if _REQUEST_ID_RE.match(given) else str(uuid.uuid4())


async def json_body(request: Request) -> Any:
    """The parsed JSON body, None when empty, ``INVALID_JSON`` when it does not parse."""
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):   # RecursionError: nested deeper than the interpreter allows
        return INVALID_JSON
    check_items(value, get_settings(request).web.max_list_items)  # TooManyItems: a 400 before per-item work
    return value


def _json(body: Any, status_code: int = 200, request_id: str | None = None) -> JSONResponse:
    headers = {REQUEST_ID_HEADER: request_id} if request_id else None
    return JSONResponse(body, status_code=status_code, headers=headers)


def _context(request: Request, res: Resource) -> RequestContext:
    raw = request.query_params.get("as_of")
    as_of: date | None = None
    if raw is not None:
        if res.as_of_filter is None:
            raise FilterError({"as_of": ["This endpoint is not dated; as_of is accepted by regions only."]})
        try:
            as_of = parse_value(raw, date)
        except ValueError as exc:
            raise FilterError({"as_of": [str(exc)]}) from None
    return RequestContext(api_root=api_root(request), as_of=as_of, today=_today(request))


def _today(request: Request) -> date:
    return datetime.now(ZoneInfo(get_settings(request).general.timezone)).date()


class Endpoints:
    """The handlers of one resource, registered on its domain router by :func:`register`."""

    def __init__(self, res: Resource) -> None:
        self.res = res
        self.filterset = FilterSet(res)
        self.out = schemas.out_model(res, REGISTRY.of)
        self.page = schemas.page_model(res, self.out)
        self.create_model = schemas.request_model(res, partial=False)
        self.patch_model = schemas.request_model(res, partial=True)

    # --- reads ------------------------------------------------------------------------------------------

    def list_objects(self, request: Request, session: Session, brief: str | None, limit: str | None,
                     offset: str | None, ordering: str | None) -> Response:
        res = self.res
        try:
            params = list(request.query_params.multi_items())
            given_once(params, CONTROL_PARAMS)
            ctx = _context(request, res)
            page = parse_page(limit, offset)
            conds = self.filterset.conditions(params, ctx)
            if ctx.as_of is not None and res.as_of_filter is not None:
                conds.append(res.as_of_filter(ctx.as_of))
            keys = order_by(res, ordering)
            brief_only = _flag("brief", brief)
        except FilterError as exc:
            return _json(exc.errors, 400)
        model: Any = res.model
        count = session.scalar(select(func.count()).select_from(model).where(*conds)) or 0
        rows = list(session.scalars(
            select(model).where(*conds).order_by(*keys).offset(page.offset).limit(page.limit)
        ))
        results = serialize_page(session, res, rows, ctx, brief_only=brief_only)
        return _json(page_body(request.url, page, count, results))

    def retrieve(self, request: Request, session: Session, obj_id: int) -> Response:
        try:
            ctx = _context(request, self.res)
        except FilterError as exc:
            return _json(exc.errors, 400)
        obj = _get(session, self.res, obj_id)
        if obj is None:
            return _json({"detail": "Not found."}, 404)
        return _json(serialize_one(session, self.res, obj, ctx))

    # --- writes -----------------------------------------------------------------------------------------

    def create(self, request: Request, session: Session, writer: Writer, body: Any) -> Response:
        if isinstance(body, list):  # NetBox's bulk create: a list body, all objects or none
            return bulk_create(self, request, session, writer, body)

        def apply() -> Any:
            values = self.values(session, self.create_model, body)
            return self.res.model(**values)

        return self._save(request, session, writer, apply, status.HTTP_201_CREATED, "create")

    def update(self, request: Request, session: Session, writer: Writer, body: Any, obj_id: int,
               partial: bool) -> Response:
        obj = _get(session, self.res, obj_id)
        if obj is None:
            return _json({"detail": "Not found."}, 404)

        def apply() -> Any:
            values = self.values(session, self.patch_model if partial else self.create_model, body)
            with session.no_autoflush:
                for column, value in values.items():
                    setattr(obj, column, value)
            return obj

        return self._save(request, session, writer, apply, status.HTTP_200_OK, "update")

    def delete(self, request: Request, session: Session, writer: Writer, obj_id: int) -> Response:
        res = self.res
        request_id = request_id_of(request)
        obj = _get(session, res, obj_id)
        if obj is None:
            return _json({"detail": "Not found."}, 404, request_id)
        shown = f"{label(res.model)} {res.display_of(obj)!r}"
        refs = blocking_references(session, res, obj_id)
        if refs:
            detail = (f"Cannot delete {shown}: {len(refs)} object(s) still refer to it; "
                      "delete or reassign them first.")
            return _json({"detail": detail, "referenced_by": refs}, 409, request_id)
        try:
            with change_context(writer.actor, request_id):
                session.delete(obj)
                session.flush()
            session.commit()
        except IntegrityError as exc:
            session.rollback()
            return _json({"detail": f"Cannot delete {shown}: {_db_reason(exc)}", "referenced_by": []}, 409,
                         request_id)
        log.info("event=api_write action=delete object_type=%s id=%s request_id=%s actor=%s",
                 res.object_type, obj_id, request_id, writer.actor)
        return Response(status_code=204, headers={REQUEST_ID_HEADER: request_id})

    def values(self, session: Session, model: type[BaseModel], body: Any) -> dict[str, Any]:
        if body is INVALID_JSON:
            raise WriteError({"non_field_errors": ["The request body is not valid JSON."]})
        return parse_body(session, self.res, model, body)

    def _save(self, request: Request, session: Session, writer: Writer, apply: Callable[[], Any],
              code: int, action: str) -> Response:
        res = self.res
        request_id = request_id_of(request)
        try:
            with change_context(writer.actor, request_id):
                obj = apply()
                with session.no_autoflush:
                    errors = clean(session, obj, WriteLookup(session, obj))
                if errors:
                    raise WriteError(api_errors(res, errors))
                session.add(obj)
                session.flush()
            session.commit()
        except WriteError as exc:
            session.rollback()
            return _json(exc.errors, 400, request_id)
        except IntegrityError as exc:
            session.rollback()
            return _json({"detail": f"The database refused the {action}: {_db_reason(exc)}"}, 409, request_id)
        log.info("event=api_write action=%s object_type=%s id=%s request_id=%s actor=%s",
                 action, res.object_type, obj.id, request_id, writer.actor)
        ctx = RequestContext(api_root=api_root(request), today=_today(request))
        body = serialize_one(session, res, obj, ctx)
        return _json(body, code, request_id)


def _flag(name: str, raw: str | None) -> bool:
    try:
        return bool(parse_value(raw, bool)) if raw else False
    except ValueError as exc:
        raise FilterError({name: [str(exc)]}) from None


def _get(session: Session, res: Resource, obj_id: int) -> Any:
    """The object, or None when absent (an id beyond SQL INTEGER cannot exist)."""
    return session.get(res.model, obj_id) if 0 < obj_id < 2**31 else None


def _db_reason(exc: IntegrityError) -> str:
    """The database's own first line (constraint name), never the statement or its parameters (secrets)."""
    return str(exc.orig).splitlines()[0] if exc.orig is not None else "integrity error"


def register(router: APIRouter, res: Resource) -> Endpoints:
    """Add the five routes of ``res`` to its domain ``router`` (whose prefix is ``/<domain>``)."""
    ep = Endpoints(res)
    base = f"/{res.plural}/"
    item = f"/{res.plural}/{{obj_id}}/"
    op = f"{res.domain}_{res.plural.replace('-', '_')}"
    name = res.model.__name__
    filters_doc = ", ".join(sorted(ep.filterset.names()))
    extra_doc = " Accepts `as_of=YYYY-MM-DD`: the structure valid at that date." if res.as_of_filter else ""

    columns = "|".join(re.escape(c) for c in orderable(res))
    ordering_pattern = f"^(?:-?(?:{columns})(?:,-?(?:{columns}))*)?$"  # empty: the default order (id)

    def list_endpoint(
        request: Request,
        brief: BriefParam = None,
        limit: LimitParam = None,
        offset: OffsetParam = None,
        session: Session = Depends(get_session),
        ordering: str | None = Query(None, description="column(s) to order by, comma-separated; prefix '-' for "
                                     "descending", json_schema_extra={"pattern": ordering_pattern}),
    ) -> Response:
        return ep.list_objects(request, session, brief, limit, offset, ordering)

    def retrieve_endpoint(request: Request, obj_id: DbId, session: Session = Depends(get_session)) -> Response:
        return ep.retrieve(request, session, obj_id)

    router.add_api_route(
        base, list_endpoint, methods=["GET"], response_model=ep.page, operation_id=f"{op}_list",
        summary=f"List {res.plural}",
        description=f"Filters (repeatable, `null` matches empty): {filters_doc}; lookups `__n`, `__gte`, "
                    f"`__lte`, `__gt`, `__lt`, `__ic` on columns.{extra_doc}",
        responses={400: {"model": FieldErrors, "description": "Unknown or malformed filter"}},
    )
    router.add_api_route(
        item, retrieve_endpoint, methods=["GET"], response_model=ep.out, operation_id=f"{op}_retrieve",
        summary=f"One {name}", responses={404: {"model": Detail}},
    )
    if res.read_only:
        return ep

    def create_endpoint(request: Request, session: Session = Depends(get_write_session),
                        writer: Writer = Depends(require_writer), body: Any = Depends(json_body)) -> Response:
        return ep.create(request, session, writer, body)

    def put_endpoint(request: Request, obj_id: DbId, session: Session = Depends(get_write_session),
                     writer: Writer = Depends(require_writer), body: Any = Depends(json_body)) -> Response:
        return ep.update(request, session, writer, body, obj_id, partial=False)

    def patch_endpoint(request: Request, obj_id: DbId, session: Session = Depends(get_write_session),
                       writer: Writer = Depends(require_writer), body: Any = Depends(json_body)) -> Response:
        return ep.update(request, session, writer, body, obj_id, partial=True)

    def delete_endpoint(request: Request, obj_id: DbId, session: Session = Depends(get_write_session),
                        writer: Writer = Depends(require_writer)) -> Response:
        return ep.delete(request, session, writer, obj_id)

    conflict: dict[int | str, dict[str, Any]] = {
        409: {"model": Conflict, "description": "Still referenced, or refused by the database"}
    }
    created: Any = ep.out | list[ep.out]  # type: ignore[name-defined]
    router.add_api_route(
        base, create_endpoint, methods=["POST"], status_code=201, response_model=created,
        operation_id=f"{op}_create", summary=f"Create a {name}", openapi_extra=_body_doc(ep.create_model),
        description="A JSON list of such objects creates them all or none (NetBox's bulk create): 201 with the "
                    "list, or 400 with one {field: [messages]} per object.",
        responses={**WRITE_RESPONSES, **conflict,
                   400: {"model": CreateErrors, "description": "Invalid fields: {field: [messages]}, one per object "
                                                               "for a list"}},
    )
    router.add_api_route(
        item, put_endpoint, methods=["PUT"], response_model=ep.out, operation_id=f"{op}_update",
        summary=f"Replace a {name}", openapi_extra=_body_doc(ep.create_model),
        responses={**WRITE_RESPONSES, **conflict},
    )
    router.add_api_route(
        item, patch_endpoint, methods=["PATCH"], response_model=ep.out, operation_id=f"{op}_partial_update",
        summary=f"Change fields of a {name}", openapi_extra=_body_doc(ep.patch_model),
        responses={**WRITE_RESPONSES, **conflict},
    )
    router.add_api_route(
        item, delete_endpoint, methods=["DELETE"], status_code=204, response_class=Response,
        operation_id=f"{op}_destroy", summary=f"Delete a {name}", responses={**WRITE_RESPONSES, **conflict},
    )
    return ep


def _body_doc(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema()
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}

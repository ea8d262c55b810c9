"""NetBox's bulk create: ``POST /<domain>/<plural>/`` with a JSON **list** of objects, all or none.

pynetbox's ``endpoint.create([{…}, {…}])``. Every object is validated like a single write
(:func:`inventory.validation.clean`, each seeing the ones before it); if any fails nothing is written and the
answer is 400 with one ``{field: [messages]}`` per object, in order (``{}`` for the good ones), as NetBox
answers; otherwise 201 with the created objects in the order given. All of them share one request id, so
the change log groups them. (Bulk update and delete on the list URL are not offered; see docs/netbox.md.)
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from fastapi import Request, status
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from inventory.changelog import change_context
from inventory.validation import clean
from web.api.inventory.auth import Writer
from web.api.inventory.resources import RequestContext
from web.api.inventory.serialize import serialize_page
from web.api.inventory.writes import WriteError, WriteLookup, api_errors

if TYPE_CHECKING:
    from web.api.inventory.crud import Endpoints

log = logging.getLogger(__name__)


class _Refused(Exception):
    """Some object of the batch is invalid: roll everything back and answer ``body`` with ``code``."""

    def __init__(self, body: Any, code: int) -> None:
        super().__init__(str(code))
        self.body, self.code = body, code


def _answer(ep: Endpoints, request: Request, session: Session, writer: Writer, action: str, code: int,
            work: Any) -> Response:
    """Run ``work`` (→ the objects written) in one change context; commit, or answer its refusal."""
    from web.api.inventory.crud import REQUEST_ID_HEADER, _db_reason, _today, api_root, request_id_of

    request_id = request_id_of(request)
    headers = {REQUEST_ID_HEADER: request_id}
    try:
        with change_context(writer.actor, request_id):
            objs = work()
        session.commit()
    except _Refused as exc:
        session.rollback()
        return JSONResponse(exc.body, status_code=exc.code, headers=headers)
    except IntegrityError as exc:
        session.rollback()
        return JSONResponse({"detail": f"The database refused the bulk {action}: {_db_reason(exc)}"}, 409,
                            headers=headers)
    log.info("event=api_write action=bulk_%s object_type=%s count=%d request_id=%s actor=%s", action,
             ep.res.object_type, len(objs), request_id, writer.actor)
    ctx = RequestContext(api_root=api_root(request), today=_today(request))
    return JSONResponse(serialize_page(session, ep.res, objs, ctx), status_code=code, headers=headers)


def _validated(ep: Endpoints, session: Session, objs_and_errors: list[tuple[Any, dict[str, list[str]]]],
               ) -> list[Any]:
    errors: list[dict[str, list[str]]] = []
    for obj, earlier in objs_and_errors:
        problems = dict(earlier)
        if obj is not None and not problems:
            with session.no_autoflush:
                problems = api_errors(ep.res, clean(session, obj, WriteLookup(session, obj)))
            if not problems:
                session.add(obj)
                session.flush()  # the next objects' uniqueness checks see this one
        errors.append(problems)
    if any(errors):
        raise _Refused(errors, 400)
    return [obj for obj, _ in objs_and_errors]


def bulk_create(ep: Endpoints, request: Request, session: Session, writer: Writer, items: list[Any]) -> Response:
    def work() -> list[Any]:
        if not items:
            raise _Refused({"non_field_errors": ["Expected at least one object in the list."]}, 400)
        built: list[tuple[Any, dict[str, list[str]]]] = []
        for item in items:
            try:
                built.append((ep.res.model(**ep.values(session, ep.create_model, item)), {}))
            except WriteError as exc:
                built.append((None, exc.errors))
        return _validated(ep, session, built)

    return _answer(ep, request, session, writer, "create", status.HTTP_201_CREATED, work)

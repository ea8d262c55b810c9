"""The reconciliation pages: ``/reconcile`` (every observed device with its differences, filters by kind of
difference and site, counts per kind) and ``/reconcile/{device_id}`` (one device's differences and, for an
operator, one "accept" form per acceptable difference).

Both read :func:`infra_monitor.reconcile.store.reconcile`, the same as the API and the CLI. An accept form
posts with the session's CSRF token (checked by :class:`web.auth.AuthGate`), the difference (kind, object)
and the inventory value shown, to :func:`infra_monitor.reconcile.accept.accept`; success redirects back to the
device (303), a refusal (stale, gone, invalid) re-renders the device page with the message (409/404/400).
Both pages also list the last changes accepted from an observation (actor, time, source).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from sqlmodel import col, select
from starlette.concurrency import run_in_threadpool

from infra_monitor.accounts.principal import Principal
from infra_monitor.accounts.roles import OPERATOR
from infra_monitor.reconcile.accept import UNSET, AcceptError, accept
from infra_monitor.reconcile.diff import KINDS
from infra_monitor.reconcile.store import counts, reconcile
from inventory.models import Interface, ObjectChange
from web.api.inventory.crud import DbId, request_id_of
from web.auth import require_role
from web.deps import get_session, get_write_session
from web.templating import Page, page, readmodel, render

router = APIRouter(include_in_schema=False)
PageDep = Annotated[Page, Depends(page)]
Str = Annotated[str | None, Query()]
MAX_FORM = 16 * 1024
require_operator = require_role(OPERATOR)


def accepted_changes(session: Session, device_id: int | None = None, limit: int = 20) -> list[ObjectChange]:
    """The newest changes written from an observation (``source`` set), of one device's objects when given."""
    stmt = select(ObjectChange).where(col(ObjectChange.source).is_not(None)).order_by(col(ObjectChange.id).desc())
    rows = list(session.scalars(stmt.limit(limit if device_id is None else limit * 10)))
    if device_id is None:
        return rows
    ifaces = set(session.scalars(select(Interface.id).where(col(Interface.device_id) == device_id)))

    def mine(c: ObjectChange) -> bool:
        data = c.postchange_data or c.prechange_data or {}
        return ((c.object_type == "device" and c.object_id == device_id)
                or (c.object_type == "interface" and data.get("device_id") == device_id)
                or (c.object_type == "ip_address" and data.get("interface_id") in ifaces))

    return [c for c in rows if mine(c)][:limit]


@router.get("/reconcile", response_class=HTMLResponse)
def reconcile_page(p: PageDep, session: Session = Depends(get_session), kind: Str = None,
                   site: Str = None) -> HTMLResponse:
    everything = reconcile(session)
    chosen = frozenset({kind}) if kind in KINDS else None
    items = [i for i in everything if site in (None, "", i.site)]
    if chosen is not None:
        items = [i for i in reconcile(session, site=site or None, kinds=chosen) if i.differences]
    sites = sorted({(i.site, i.site_name) for i in everything})
    return render(p, "reconcile.html", active="nav_reconcile", items=items, kinds=KINDS, kind=kind if chosen else "",
                  site=site or "", sites=sites, counts=counts(items), total=counts(everything),
                  bad_kind=bool(kind) and chosen is None, changes=accepted_changes(session),
                  freshness=readmodel(p.request).freshness())


def _detail(p: Page, session: Session, device_id: int, status_code: int = 200,
            errors: dict[str, list[str]] | None = None, accepted: str = "") -> HTMLResponse:
    found = reconcile(session, device_id=device_id)
    rm = readmodel(p.request)
    if not found:
        return render(p, "error.html", status_code=404, active="", freshness=rm.freshness())
    who = p.principal
    return render(p, "reconcile_device.html", status_code=status_code, active="nav_reconcile", item=found[0],
                  can_act=bool(who and who.can(OPERATOR)), errors=errors or {}, accepted=accepted,
                  changes=accepted_changes(session, device_id), freshness=rm.freshness())


@router.get("/reconcile/{device_id}", response_class=HTMLResponse)
def reconcile_device_page(device_id: DbId, p: PageDep, session: Session = Depends(get_session),
                          accepted: Str = None) -> HTMLResponse:
    return _detail(p, session, device_id, accepted=accepted or "")


async def _form(request: Request) -> dict[str, str]:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM:
            raise HTTPException(413, detail=f"The form is larger than {MAX_FORM} bytes.")
    return {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}


def _accept(p: Page, session: Session, device_id: int, form: dict[str, str], who: Principal,
            request_id: str) -> Response:
    expected: Any = UNSET
    if "inventory" in form:
        expected = form["inventory"] if form.get("has_inventory") == "1" else None
    try:
        accept(session, device_id, form.get("kind", ""), form.get("obj", ""), actor=who.actor,
               request_id=request_id, expected_inventory=expected)
    except AcceptError as exc:
        session.rollback()
        return _detail(p, session, device_id, exc.status, exc.errors)
    return RedirectResponse(p.url(f"/reconcile/{device_id}", accepted=form.get("obj", "")), status_code=303)


@router.post("/reconcile/{device_id}/accept")
async def accept_form(device_id: DbId, request: Request, p: PageDep, session: Session = Depends(get_write_session),
                      who: Principal = Depends(require_operator)) -> Response:
    form = await _form(request)
    return await run_in_threadpool(_accept, p, session, device_id, form, who, request_id_of(request))

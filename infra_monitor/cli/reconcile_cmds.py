"""``infra-monitor reconcile``: the differences between what SNMP discovery observed and the inventory.

One row per difference (device, site, kind, object, inventory value, observed value, acceptable), then a
summary line (devices observed, differences, devices not observed or whose discovery failed). A rich table
on a terminal in the CLI's language, TSV otherwise (English column names and raw kinds), ``--json`` the same
objects as ``GET /api/reconcile/`` (one per device with its differences). Read only: accepting a value is an
operator's action on the page or through ``POST /api/reconcile/accept``. Run ``probe --once --kind
discovery`` first to observe the devices now.
"""

from __future__ import annotations

from typing import Annotated

import typer

from infra_monitor.cli.common import (
    EXIT_USAGE,
    ConfigOpt,
    FormatOpt,
    Table,
    Translate,
    emit,
    engine_for,
    fail,
    load,
    output_format,
    t,
    yes_no,
)


def _device_id(session: object, ref: str) -> int:
    """A device by id, ``SITE-SLUG/NAME`` or a name unique in the inventory (exit 2 naming the problem)."""
    from sqlalchemy.orm import Session
    from sqlmodel import col, select

    from infra_monitor.status.maintenance.manage import resolve_device
    from inventory.models import Device, Site

    assert isinstance(session, Session)
    text = ref.strip()
    if "/" in text or text.isdigit():
        try:
            return resolve_device(session, text)
        except ValueError as exc:
            fail(f"--device: {exc}", EXIT_USAGE)
    found = session.execute(select(Device.id, Site.slug).join(Site, col(Site.id) == col(Device.site_id))
                            .where(col(Device.name) == text)).all()
    if not found:
        fail(f"--device: no device named {text!r} (give SITE-SLUG/DEVICE-NAME or a device id)", EXIT_USAGE)
    if len(found) > 1:
        sites = ", ".join(sorted(f"{slug}/{text}" for _, slug in found))
        fail(f"--device: {len(found)} devices are named {text!r}: give one of {sites}", EXIT_USAGE)
    return int(found[0][0])


def _obj_shown(obj: str) -> str:
    """A difference's object for a person: ``interface:Gi0/3`` → ``giao diện Gi0/3``."""
    what, _, name = obj.partition(":")
    label = {"device": t("rc_obj_device"), "interface": t("rc_obj_interface"), "address": t("rc_obj_address"),
             "neighbour": t("rc_obj_neighbour")}.get(what, what)
    return f"{label} {name}" if name else label


def register(app: typer.Typer) -> None:
    @app.command()
    def reconcile(
        config: ConfigOpt = None,
        device: Annotated[str | None, typer.Option(help="device name, SITE-SLUG/DEVICE-NAME or id")] = None,
        site: Annotated[str | None, typer.Option(help="only the devices of this site (slug)")] = None,
        kind: Annotated[list[str] | None, typer.Option(help="only this kind of difference (repeatable)")] = None,
        fmt: FormatOpt = None,
        as_json: Annotated[bool, typer.Option("--json", help="JSON as GET /api/reconcile/ returns")] = False,
    ) -> None:
        """List per device how what SNMP discovery observed differs from the inventory."""
        from sqlalchemy.orm import Session

        from infra_monitor.reconcile.diff import KINDS
        from infra_monitor.reconcile.store import reconcile as run
        from web.probe_errors import explain  # the probers' English sentences, said in the CLI's language

        unknown = [k for k in kind or [] if k not in KINDS]
        if unknown:
            fail(f"--kind: {', '.join(unknown)} is not a kind of difference; known: {', '.join(KINDS)}", EXIT_USAGE)
        settings = load(config)
        with Session(engine_for(settings)) as session:
            device_id = _device_id(session, device) if device else None
            items = run(session, device_id=device_id, site=site, kinds=frozenset(kind) if kind else None)
        rows, shown = [], []
        for item in items:
            for d in item.differences:
                rows.append([d.device, d.site, d.kind, d.obj, d.inventory or "", d.observed or "",
                             "yes" if d.acceptable else "no"])
                inventory = t("rc_val_enabled") if d.kind == "oper_down" else d.inventory
                shown.append([d.device, d.site, t(f"rc_kind_{d.kind}"), _obj_shown(d.obj), inventory or "—",
                              d.observed or "—", yes_no(d.acceptable)])
        table = Table(["device", "site", "kind", "object", "inventory", "observed", "acceptable"], rows,
                      labels=[t("rc_col_device"), t("rc_col_site"), t("rc_col_kind"), t("rc_col_object"),
                              t("rc_col_inventory"), t("rc_col_observed"), t("rc_col_acceptable")], shown=shown)
        observed = sum(1 for i in items if i.status in ("ok", "differences"))
        silent = [i for i in items if i.status in ("failed", "not_observed")]

        def footer(tr: Translate) -> list[str]:
            lines = [tr("rc_cli_summary", devices=observed, differences=len(rows), silent=len(silent))]
            for i in silent:
                said = tr("rc_status_not_observed") if i.status == "not_observed" else explain(tr, i.error)
                lines.append(f"{i.site}/{i.device}: {said}")
            return lines

        emit([table], output_format(fmt, as_json), data=[i.as_dict() for i in items], footer=footer,
             empty=lambda tr: tr("rc_cli_none"))

"""Meetings: ``meeting add|list|show|check``.

The same rules and board as ``/api/vc/meetings/`` (:mod:`infra_monitor.meetings.manage`,
:mod:`infra_monitor.meetings.views`). ``meeting check`` probes directly (like ``probe --once``): ICMP, SIP or
H.323 per endpoint, the path and the MCU, stored as a check and shown as the board. Times are typed and shown
in local time (``general.timezone``) and stored in UTC; bad input exits 2 naming the option.
"""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from typing import Annotated, Any, NoReturn
from zoneinfo import ZoneInfo

import typer

from infra_monitor.cli.common import (
    EXIT_USAGE,
    ConfigOpt,
    FormatOpt,
    Table,
    emit,
    engine_for,
    fail,
    language,
    load,
    output_format,
    t,
)

_OPTION = {"title": "--title", "start": "--start", "duration_min": "--duration", "mcu": "--mcu",
           "participants": "--endpoint/--site/--level", "notes": "--notes"}
IdArg = Annotated[int, typer.Argument(metavar="ID", help="the meeting's id (see meeting list)")]


def _usage(errors: dict[str, list[str]]) -> NoReturn:
    for key, messages in errors.items():
        name = _OPTION.get(key, "--endpoint/--site/--level" if key.startswith("participants[") else key)
        for message in messages:
            typer.echo(t("cli_error", message=f"{name}: {message}"), err=True)
    raise typer.Exit(EXIT_USAGE)


def _level_spec(text: str) -> dict[str, Any]:
    level, _, district = text.partition(":")
    return {"level": level, "district": district} if district else {"level": level}


def _board_tables(b: Any, tz: ZoneInfo) -> list[Table]:
    from infra_monitor.i18n import translator
    from infra_monitor.meetings.texts import change_text, reasons_text
    from infra_monitor.readmodel.fmt import local_dt

    tr = translator(language())
    m = b.meeting
    facts = Table(["FIELD", "VALUE"], [
        ["meeting", f"#{m.id} {m.title}"], ["start", local_dt(m.start, tz)], ["duration_min", str(m.duration_min)],
        ["mcu", m.mcu["name"]], ["checked", local_dt(b.checked_at, tz) if b.checked_at else "-"],
        ["ready", str(b.ready)], ["not_ready", str(b.not_ready)]], title="meeting",
        labels=[t("mt_col_field"), t("mt_col_value")],
        shown=[[t("mt_title"), f"#{m.id} {m.title}"], [t("mt_start"), local_dt(m.start, tz)],
               [t("mt_duration"), str(m.duration_min)], [t("mt_mcu"), m.mcu["name"]],
               [t("mt_checked_at"), local_dt(b.checked_at, tz) if b.checked_at else t("mt_never_checked")],
               [t("mt_ready"), str(b.ready)], [t("mt_not_ready"), str(b.not_ready)]],
        caption=t("mt_board_title", title=m.title))
    rows = [[r.site, r.room, r.device, "ready" if r.ready else "not_ready", ",".join(x["code"] for x in r.reasons),
             r.change] for r in b.rooms]
    shown = [[r.site, r.room, r.device, tr("mt_ready") if r.ready else tr("mt_not_ready"),
              reasons_text(tr, r.reasons, language()), change_text(tr, r.change)] for r in b.rooms]
    rooms = Table(["SITE", "ROOM", "DEVICE", "VERDICT", "REASONS", "CHANGE"], rows, title="rooms",
                  labels=[t("site"), t("mt_room"), t("mt_device"), t("mt_verdict"), t("mt_reasons"), t("mt_change")],
                  shown=shown, caption=t("mt_rooms"),
                  style=lambda r: "bold red" if r[3] == "not_ready" else None)
    return [facts, rooms]


def register(app: typer.Typer) -> None:
    meeting_app = typer.Typer(help="Videoconference meetings and their readiness board.", no_args_is_help=True)
    app.add_typer(meeting_app, name="meeting")

    @meeting_app.command("add")
    def meeting_add(
        title: Annotated[str, typer.Option("--title", help="the meeting's title")],
        start: Annotated[str, typer.Option("--start", help="local DD/MM/YYYY HH:MM or ISO 8601")],
        duration: Annotated[int, typer.Option("--duration", help="minutes")] = 60,
        mcu: Annotated[str, typer.Option("--mcu", help="the MCU device (id or name)")] = "",
        endpoint: Annotated[list[str] | None, typer.Option("--endpoint", help="an endpoint (id or codec device "
                                                                              "name); repeatable")] = None,
        site: Annotated[list[str] | None, typer.Option("--site", help="every endpoint of a site (slug)")] = None,
        level: Annotated[list[str] | None, typer.Option("--level", help="commune, district or department, "
                                                                        "optionally :DISTRICT (region code)")] = None,
        notes: Annotated[str, typer.Option("--notes")] = "",
        user: Annotated[str | None, typer.Option("--user", help="who creates it (default cli:LOGIN)")] = None,
        config: ConfigOpt = None,
        fmt: FormatOpt = None,
    ) -> None:
        """Add a meeting (start in the future, at least one participant)."""
        from sqlalchemy.orm import Session

        from infra_monitor.db import writing
        from infra_monitor.meetings.manage import MeetingIn, MeetingInputError, create
        from infra_monitor.meetings.views import meeting_out
        from infra_monitor.status.maintenance.manage import parse_when

        settings = load(config)
        tz = ZoneInfo(settings.general.timezone)
        try:
            when = parse_when(start, tz)
        except ValueError as exc:
            _usage({"start": [str(exc)]})
        parts = ([{"endpoint": e} for e in endpoint or []] + [{"site": s} for s in site or []]
                 + [_level_spec(v) for v in level or []])
        data = MeetingIn(title=title, start=when, duration_min=duration, mcu=mcu or None, participants=parts,
                         notes=notes)
        with Session(writing(engine_for(settings))) as session:
            try:
                m = create(session, data, (user or f"cli:{getpass.getuser()}")[:100], datetime.now(UTC))
            except MeetingInputError as exc:
                session.rollback()
                _usage(exc.errors)
            out = meeting_out(session, m)
            session.commit()
        emit([Table(["ID", "TITLE"], [[str(out.id), out.title]])], output_format(fmt),
             data=out.model_dump(mode="json"))

    @meeting_app.command("list")
    def meeting_list(
        all_: Annotated[bool, typer.Option("--all", help="past meetings too")] = False,
        limit: Annotated[int, typer.Option(min=1)] = 100,
        config: ConfigOpt = None,
        fmt: FormatOpt = None,
    ) -> None:
        """Meetings: upcoming ones, soonest first (``--all``: every meeting, newest first)."""
        from sqlalchemy.orm import Session

        from infra_monitor.meetings.manage import list_meetings
        from infra_monitor.meetings.views import summaries
        from infra_monitor.readmodel.fmt import gmt_label, local_dt

        settings = load(config)
        tz = ZoneInfo(settings.general.timezone)
        with Session(engine_for(settings)) as session:
            _total, items = list_meetings(session, limit, 0, None if all_ else datetime.now(UTC))
            found = summaries(session, items)
            boards = [found[int(m.id or 0)] for m in items]
        rows = [[str(b.meeting["id"]), b.meeting["title"], local_dt(b.meeting["start"], tz, label=False),
                 str(b.meeting["duration_min"]), b.meeting["mcu"]["name"],
                 "" if b.check_id is None else str(b.ready), "" if b.check_id is None else str(b.not_ready)]
                for b in boards]
        headers = ["ID", "TITLE", f"START {gmt_label(tz)}", "DURATION_MIN", "MCU", "READY", "NOT_READY"]
        labels = [t("mt_col_id"), t("mt_title"), f"{t('mt_start')} {gmt_label(tz)}", t("mt_duration"), t("mt_mcu"),
                  t("mt_ready"), t("mt_not_ready")]
        emit([Table(headers, rows, labels=labels)], output_format(fmt),
             data=[b.model_dump(mode="json") for b in boards],
             empty=lambda tr: tr("mt_none"))

    @meeting_app.command("show")
    def meeting_show(meeting_id: IdArg, config: ConfigOpt = None, fmt: FormatOpt = None) -> None:
        """A meeting's readiness board: rooms not ready first with reasons, and what changed."""
        from sqlalchemy.orm import Session

        from infra_monitor.meetings.models import Meeting
        from infra_monitor.meetings.views import board

        settings = load(config)
        with Session(engine_for(settings)) as session:
            m = session.get(Meeting, meeting_id)
            if m is None:
                fail(t("mt_not_found", id=meeting_id), EXIT_USAGE)
            b = board(session, m)
        emit(_board_tables(b, ZoneInfo(settings.general.timezone)), output_format(fmt), data=b.model_dump(mode="json"))

    @meeting_app.command("check")
    def meeting_check(meeting_id: IdArg, config: ConfigOpt = None, fmt: FormatOpt = None,
                      user: Annotated[str | None, typer.Option("--user")] = None) -> None:
        """Check readiness now (probes from this machine), store it and show the board."""
        import asyncio

        from sqlalchemy.orm import Session

        from infra_monitor.meetings.models import Meeting
        from infra_monitor.meetings.store import run_check
        from infra_monitor.meetings.views import board
        from probes.base import ProbeContext

        settings = load(config)
        engine = engine_for(settings)
        with Session(engine) as session:
            if session.get(Meeting, meeting_id) is None:
                fail(t("mt_not_found", id=meeting_id), EXIT_USAGE)

        async def _run() -> int:
            async with ProbeContext() as ctx:
                return await run_check(engine, settings, meeting_id, ctx, trigger="cli",
                                       requested_by=(user or f"cli:{getpass.getuser()}")[:100])

        check_id = asyncio.run(_run())
        with Session(engine) as session:
            m = session.get(Meeting, meeting_id)
            assert m is not None
            b = board(session, m, check_id)
        emit(_board_tables(b, ZoneInfo(settings.general.timezone)), output_format(fmt), data=b.model_dump(mode="json"))

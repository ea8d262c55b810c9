"""Event log and maintenance windows: ``events`` and ``maintenance add|list|remove``.

Times are typed and shown in local time (``general.timezone`` for events, the window's ``--tz`` for windows,
both Asia/Ho_Chi_Minh by default, labelled ``(GMT+7)``) and stored in UTC. Bad input exits 2 with one line
per problem naming the option and what it accepts; nothing is written then. Every add and remove commits
one change-log record and one structured log line with actor ``cli``.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING, Annotated, NoReturn
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
    yes_no,
)
from infra_monitor.status.engine.states import EventKind, Severity
from infra_monitor.status.maintenance.windows import DEFAULT_TZ

if TYPE_CHECKING:
    from infra_monitor.status.store.listing import EventLogEntry, WindowOut

log = logging.getLogger(__name__)

ACTOR = "cli"
_SEVERITY_STYLE = {"critical": "bold red", "warning": "yellow"}
WHEN_HELP = "local time DD/MM/YYYY HH:MM"
# API field → the option that sets it, and what it accepts (said with every error about it).
OPTIONS: dict[str, tuple[str, str]] = {
    "name": ("--name", "1 to 200 characters"),
    "scope_device": ("--device", "SITE-SLUG/DEVICE-NAME or a device id"),
    "scope_site": ("--site", "the slug of an existing site"),
    "scope_region": ("--region", "the official code of an existing region"),
    "start": ("--start", WHEN_HELP),
    "end": ("--end", f"{WHEN_HELP}, after --start"),
    "days": ("--weekly", "comma-separated mon,tue,wed,thu,fri,sat,sun (or t2…t7, cn)"),  # = manage.DAYS_ALLOWED
    "start_time": ("--at", "local time HH:MM"),
    "duration_min": ("--duration", "minutes, a positive integer"),
    "cron": ("--cron", "five fields 'minute hour day-of-month month day-of-week', weekdays best by name, "
                       "e.g. '0 22 * * sat'"),
    "tz": ("--tz", "an IANA name such as Asia/Ho_Chi_Minh"),
    "comment": ("--comment", "at most 1000 characters"),
}


def _allowed(key: str) -> str:
    """What the option of ``key`` accepts, said in the CLI's language."""
    said = {"name": t("cli_allow_name"), "scope_device": t("cli_allow_device"), "scope_site": t("cli_allow_site"),
            "scope_region": t("cli_allow_region"), "start": t("cli_allow_when"),
            "end": t("cli_allow_end"), "days": t("cli_allow_days"), "start_time": t("cli_allow_at"),
            "duration_min": t("cli_allow_duration"), "cron": t("cli_allow_cron"), "tz": t("cli_allow_tz"),
            "comment": t("cli_allow_comment")}
    return said.get(key, OPTIONS.get(key, (key, ""))[1])


def _usage(problems: dict[str, list[str]]) -> NoReturn:
    for key, messages in problems.items():
        option, allowed = OPTIONS.get(key, (key, ""))
        for message in messages:
            said = not allowed or allowed.removeprefix("comma-separated ") in message
            hint = "" if said else " " + t("cli_allowed", allowed=_allowed(key))
            typer.echo(t("cli_error", message=f"{option}: {message}{hint}"), err=True)
    typer.echo(t("cli_nothing_written"), err=True)
    raise typer.Exit(EXIT_USAGE)


def _zone(name: str, key: str = "tz") -> ZoneInfo:
    from infra_monitor.status.maintenance.manage import zone_or_error

    try:
        return zone_or_error(name)
    except ValueError as exc:
        _usage({key: [str(exc)]})


def _when(text: str | None, tz: ZoneInfo, key: str, problems: dict[str, list[str]]) -> datetime | None:
    from infra_monitor.status.maintenance.manage import parse_when

    if text is None:
        return None
    try:
        return parse_when(text, tz)
    except ValueError as exc:
        problems.setdefault(key, []).append(str(exc))
        return None


def _at(text: str | None, problems: dict[str, list[str]]) -> time | None:
    if text is None:
        return None
    try:
        return datetime.strptime(text.strip(), "%H:%M").time()
    except ValueError:
        problems.setdefault("start_time", []).append(t("cli_not_time_of_day", text=repr(text)))
        return None


def _scope_text(w: WindowOut) -> str:
    if w.scope_type == "all":
        return "all"
    if w.scope is None:
        return f"{w.scope_type} #{w.scope_id} (missing)"
    return f"{w.scope_type} {w.scope}" + (f" ({w.scope_name})" if w.scope_type == "region" else "")


def _scope_shown(w: WindowOut) -> str:
    """The scope for a person: ``điểm xa-002``, ``đơn vị hành chính 213 (Huyện …)``, ``toàn bộ``."""
    if w.scope_type == "all":
        return t("cli_scope_all")
    kind = {"device": t("cli_scope_device"), "site": t("cli_scope_site"),
            "region": t("cli_scope_region")}.get(w.scope_type, w.scope_type)
    if w.scope is None:
        return t("cli_scope_missing", kind=kind, id=w.scope_id)
    return f"{kind} {w.scope}" + (f" ({w.scope_name})" if w.scope_type == "region" else "")


def _schedule_shown(w: WindowOut) -> str:
    """The window's schedule for a person (``listing.schedule_text`` is the English machine form)."""
    from infra_monitor.readmodel.fmt import local_dt

    tz = ZoneInfo(w.tz)
    if w.kind == "one_off":
        return f"{local_dt(w.start, tz, label=False)} → {local_dt(w.end, tz)}"
    if w.kind == "weekly" and w.start_time is not None:
        days = ",".join(_day_names()[d] for d in w.days)
        text = t("cli_sched_weekly", days=days, at=f"{w.start_time:%H:%M}", minutes=w.duration_min)
    else:
        text = t("cli_sched_cron", cron=w.cron, minutes=w.duration_min)
    if w.start is not None:
        text += " " + t("cli_sched_from", when=local_dt(w.start, tz))
    if w.end is not None:
        text += " " + t("cli_sched_until", when=local_dt(w.end, tz))
    return text


def _day_names() -> tuple[str, ...]:
    return (t("cli_day_mon"), t("cli_day_tue"), t("cli_day_wed"), t("cli_day_thu"), t("cli_day_fri"),
            t("cli_day_sat"), t("cli_day_sun"))


def _windows_table(windows: list[WindowOut]) -> Table:
    from infra_monitor.readmodel.fmt import local_dt

    rows, shown = [], []
    for w in windows:
        tz = ZoneInfo(w.tz)
        until = local_dt(w.active_until, tz) if w.active and w.active_until else None
        active = f"yes, until {until}" if until else ("yes" if w.active else "no")
        nxt = local_dt(w.next_start, tz) if w.next_start else ("invalid: " + w.problem if w.problem else "—")
        rows.append([str(w.id), w.name, _scope_text(w), w.schedule, active, nxt])
        shown.append([str(w.id), w.name, _scope_shown(w), _schedule_shown(w),
                      t("cli_active_until", when=until) if until else yes_no(w.active),
                      nxt if w.next_start or not w.problem else t("cli_window_invalid", problem=w.problem)])
    labels = [t("cli_mw_col_id"), t("cli_mw_col_name"), t("cli_mw_col_scope"), t("cli_mw_col_schedule"),
              t("cli_mw_col_active"), t("cli_mw_col_next")]
    return Table(["ID", "NAME", "SCOPE", "SCHEDULE", "ACTIVE", "NEXT OCCURRENCE"], rows, labels=labels, shown=shown)


def _severity_text(severity: str) -> str:
    return {"info": t("sev_info"), "warning": t("sev_warning"), "critical": t("sev_critical")}.get(severity, severity)


def _event_text(e: EventLogEntry) -> str:
    """What happened, for a person, from the event's fields (the stored ``message`` is English)."""
    from infra_monitor.readmodel.fmt import number

    d = e.details or {}
    if e.kind == "state_change" and e.new_state:
        text = (t(f"state_{e.old_state}") + " → " if e.old_state else "") + t(f"state_{e.new_state}")
        if e.cause and e.cause != "none":
            text += " (" + t(f"cause_{e.cause}") + (f": {e.root_cause}" if e.root_cause else "") + ")"
        return text
    if e.kind == "monitoring_started":
        return t("ev_started_n", n=int(d.get("count", 1)))
    text = t(f"ev_{e.kind}")
    if e.kind in ("flap_start", "flap_stop") and d.get("percent_state_change") is not None:
        text += " (" + t("ev_flap_pct", pct=number(float(d["percent_state_change"]), language(), 1)) + ")"
    if e.kind in ("maintenance_start", "maintenance_end") and d.get("window"):
        text += ": " + t("ev_window", name=d["window"])
    return text


def register(app: typer.Typer) -> None:
    maintenance_app = typer.Typer(help="Planned maintenance windows (excluded from availability).",
                                  no_args_is_help=True)
    app.add_typer(maintenance_app, name="maintenance")

    @app.command()
    def events(
        config: ConfigOpt = None,
        since: Annotated[str | None, typer.Option(help="local DD/MM/YYYY[ HH:MM]: only events from then")] = None,
        until: Annotated[str | None, typer.Option(help="local DD/MM/YYYY[ HH:MM]: only events before then")] = None,
        site: Annotated[str | None, typer.Option(help="site slug: its own events and its devices'")] = None,
        device: Annotated[str | None, typer.Option(help="SITE-SLUG/DEVICE-NAME or a device id")] = None,
        kind: Annotated[EventKind | None, typer.Option(help="only this kind of event")] = None,
        severity: Annotated[Severity | None, typer.Option(help="only this severity")] = None,
        limit: Annotated[int, typer.Option(min=1, help="newest first, at most this many")] = 50,
        fmt: FormatOpt = None,
        as_json: Annotated[bool, typer.Option("--json", help="JSON (times in UTC) as the API returns")] = False,
    ) -> None:
        """Show the event log newest first: state changes, flapping, maintenance start and end."""
        from sqlalchemy.orm import Session

        from infra_monitor.readmodel.fmt import gmt_label, local_dt
        from infra_monitor.status.maintenance.manage import parse_when, resolve_device, resolve_site
        from infra_monitor.status.store.listing import EventFilter, list_events

        settings = load(config)
        tz = ZoneInfo(settings.general.timezone)
        try:
            start = parse_when(since, tz) if since else None
        except ValueError as exc:
            fail(f"--since: {exc}", EXIT_USAGE)  # the shared parser's message (as the API says it)
        try:
            end = parse_when(until, tz) if until else None
        except ValueError as exc:
            fail(f"--until: {exc}", EXIT_USAGE)
        with Session(engine_for(settings)) as session:
            try:
                site_id = resolve_site(session, site) if site else None
            except ValueError as exc:
                fail(f"--site: {exc}", EXIT_USAGE)
            try:
                device_id = resolve_device(session, device) if device else None
            except ValueError as exc:
                fail(f"--device: {exc} " + t("cli_allowed", allowed=t("cli_allow_device")), EXIT_USAGE)
            flt = EventFilter(since=start, until=end, site_id=site_id, device_id=device_id,
                              kind=kind.value if kind else None, severity=severity.value if severity else None)
            total, page = list_events(session, flt, limit)
        filtered = flt.any()
        rows = [[local_dt(e.time, tz, label=False), e.severity, e.kind, e.device or e.site or "", e.message]
                for e in page]
        shown = [[local_dt(e.time, tz, label=False), _severity_text(e.severity), t(f"ev_{e.kind}"),
                  e.device or e.site or "", _event_text(e)] for e in page]
        labels = [t("cli_ev_col_time", gmt=gmt_label(tz)), t("cli_ev_col_severity"), t("cli_ev_col_kind"),
                  t("cli_ev_col_device"), t("cli_ev_col_message")]
        emit([Table([f"TIME {gmt_label(tz)}", "SEVERITY", "KIND", "DEVICE", "MESSAGE"], rows,
                    style=lambda r: _SEVERITY_STYLE.get(r[1]), labels=labels, shown=shown)],
             output_format(fmt, as_json), data=[e.model_dump(mode="json") for e in page],
             empty=lambda tr: tr("cli_no_events_matching") if filtered else tr("cli_no_events"),
             notes=[t("cli_events_partial", shown=len(page), total=total)] if total > len(page) else [])

    @maintenance_app.command("add")
    def maintenance_add(
        name: Annotated[str, typer.Option(help="what the work is", show_default=False)],
        config: ConfigOpt = None,
        device: Annotated[str | None, typer.Option(help="scope: one device, SITE-SLUG/DEVICE-NAME or id")] = None,
        site: Annotated[str | None, typer.Option(help="scope: every device of a site (slug)")] = None,
        region: Annotated[str | None, typer.Option(help="scope: a region and everything below it (code)")] = None,
        all_: Annotated[bool, typer.Option("--all", help="scope: everything")] = False,
        start: Annotated[str | None, typer.Option(help=f"{WHEN_HELP}; one-off start, or first day of recurrence")
                         ] = None,
        end: Annotated[str | None, typer.Option(help=f"{WHEN_HELP}; one-off end, or last day of recurrence")] = None,
        weekly: Annotated[str | None, typer.Option(help="weekdays, e.g. mon,wed (needs --at and --duration)")
                          ] = None,
        at: Annotated[str | None, typer.Option(help="HH:MM local start of each weekly occurrence")] = None,
        cron: Annotated[str | None, typer.Option(help="five-field cron expression (needs --duration)")] = None,
        duration: Annotated[int | None, typer.Option(help="minutes each recurring occurrence lasts")] = None,
        tz: Annotated[str, typer.Option(help="time zone of the times given and of the recurrence")] = DEFAULT_TZ,
        comment: Annotated[str, typer.Option(help="free text")] = "",
    ) -> None:
        """Plan a maintenance window: one-off (--start/--end), weekly (--weekly --at --duration) or cron."""
        from infra_monitor.db import write_session
        from infra_monitor.readmodel.fmt import local_dt
        from infra_monitor.status.maintenance.manage import WindowInputError, WindowSpec, add_window
        from infra_monitor.status.store.listing import list_windows

        scopes = {k: v for k, v in (("device", device), ("site", site), ("region", region)) if v is not None}
        if len(scopes) + int(all_) != 1:
            fail(t("cli_one_scope"), EXIT_USAGE)
        if weekly is not None and cron is not None:
            fail(t("cli_weekly_or_cron"), EXIT_USAGE)
        kind = "weekly" if weekly is not None else "cron" if cron is not None else "one_off"
        if kind == "one_off" and (start is None or end is None or at or duration):
            fail(t("cli_window_needs"), EXIT_USAGE)
        zone = _zone(tz)
        problems: dict[str, list[str]] = {}
        scope_type = next(iter(scopes), "all")
        spec = WindowSpec(
            name=name, scope_type=scope_type, scope_ref=scopes.get(scope_type), scope_field=f"scope_{scope_type}",
            kind=kind, start=_when(start, zone, "start", problems), end=_when(end, zone, "end", problems),
            days=[d for d in (weekly or "").split(",") if d.strip()], start_time=_at(at, problems),
            duration_min=duration, cron=cron, tz=tz, comment=comment, errors=problems,
        )
        settings = load(config)
        with write_session(engine_for(settings), expire_on_commit=False) as session:
            try:
                window_id = add_window(session, spec, ACTOR)
            except WindowInputError as exc:
                _usage(exc.errors)
            [shown] = list_windows(session, datetime.now(UTC), window_id=window_id)
        typer.echo(t("cli_window_added", id=window_id, name=repr(shown.name), scope=_scope_shown(shown),
                     schedule=_schedule_shown(shown)))
        typer.echo(t("cli_window_now", active=t("cli_active_yes") if shown.active else t("cli_active_no"),
                     next=local_dt(shown.next_start, zone) if shown.next_start else "—"))

    @maintenance_app.command("list")
    def maintenance_list(
        config: ConfigOpt = None,
        active: Annotated[bool, typer.Option("--active", help="only windows active now")] = False,
        fmt: FormatOpt = None,
        as_json: Annotated[bool, typer.Option("--json", help="JSON (times in UTC) as the API returns")] = False,
    ) -> None:
        """List maintenance windows, whether each is active now and when it next starts (local time)."""
        from sqlalchemy.orm import Session

        from infra_monitor.status.store.listing import list_windows

        settings = load(config)
        with Session(engine_for(settings)) as session:
            windows = list_windows(session, datetime.now(UTC), active=True if active else None)
        emit([_windows_table(windows)], output_format(fmt, as_json),
             data=[w.model_dump(mode="json") for w in windows],
             empty=lambda tr: tr("cli_no_windows_active") if active else tr("cli_no_windows"))

    @maintenance_app.command("remove")
    def maintenance_remove(
        window_id: Annotated[int, typer.Argument(metavar="ID", help="the window's id (see maintenance list)")],
        config: ConfigOpt = None,
    ) -> None:
        """Delete a maintenance window (its past events stay in the log)."""
        from infra_monitor.db import write_session
        from infra_monitor.status.maintenance.manage import UnknownWindow, remove_window

        settings = load(config)
        with write_session(engine_for(settings)) as session:
            try:
                name = remove_window(session, window_id, ACTOR, datetime.now(UTC))
            except UnknownWindow:
                fail(t("cli_no_window", id=window_id), EXIT_USAGE)
        typer.echo(t("cli_window_removed", id=window_id, name=repr(name)))

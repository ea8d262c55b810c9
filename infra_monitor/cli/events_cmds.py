"""Event log and maintenance windows: ``events`` and ``maintenance add|list|remove``.

Times are typed and shown in local time (``general.timezone`` for events, the window's ``--tz`` for windows,
both Asia/Ho_Chi_Minh by default, labelled ``(GMT+7)``) and stored in UTC. Bad input exits 2 with one line
per problem naming the option and what it accepts; nothing is written then. Every add and remove commits
one change-log record and one structured log line with actor ``cli``.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING, Annotated, NoReturn
from zoneinfo import ZoneInfo

import typer

from infra_monitor.cli.common import EXIT_USAGE, ConfigOpt, engine_for, fail, load
from infra_monitor.status.maintenance import DEFAULT_TZ
from infra_monitor.status.states import EventKind, Severity

if TYPE_CHECKING:
    from infra_monitor.status.listing import WindowOut

log = logging.getLogger(__name__)

ACTOR = "cli"
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


def _usage(problems: dict[str, list[str]]) -> NoReturn:
    for key, messages in problems.items():
        option, allowed = OPTIONS.get(key, (key, ""))
        for message in messages:
            said = not allowed or allowed.removeprefix("comma-separated ") in message
            hint = "" if said else f" (allowed: {allowed})"
            typer.echo(f"error: {option}: {message}{hint}", err=True)
    typer.echo("nothing was written", err=True)
    raise typer.Exit(EXIT_USAGE)


def _zone(name: str, key: str = "tz") -> ZoneInfo:
    from infra_monitor.status.manage import zone_or_error

    try:
        return zone_or_error(name)
    except ValueError as exc:
        _usage({key: [str(exc)]})


def _when(text: str | None, tz: ZoneInfo, key: str, problems: dict[str, list[str]]) -> datetime | None:
    from infra_monitor.status.manage import parse_when

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
        problems.setdefault("start_time", []).append(f"{text!r} is not a time of day")
        return None


def _scope_text(w: WindowOut) -> str:
    if w.scope_type == "all":
        return "all"
    if w.scope is None:
        return f"{w.scope_type} #{w.scope_id} (missing)"
    return f"{w.scope_type} {w.scope}" + (f" ({w.scope_name})" if w.scope_type == "region" else "")


def _print_windows(windows: list[WindowOut]) -> None:
    from infra_monitor.readmodel.fmt import local_dt

    rows = [("ID", "NAME", "SCOPE", "SCHEDULE", "ACTIVE", "NEXT OCCURRENCE")]
    for w in windows:
        tz = ZoneInfo(w.tz)
        active = f"yes, until {local_dt(w.active_until, tz)}" if w.active and w.active_until else (
            "yes" if w.active else "no")
        nxt = local_dt(w.next_start, tz) if w.next_start else ("invalid: " + w.problem if w.problem else "—")
        rows.append((str(w.id), w.name, _scope_text(w), w.schedule, active, nxt))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for r in rows:
        typer.echo("  ".join(c.ljust(widths[i]) for i, c in enumerate(r[:-1])) + "  " + r[-1])


def register(app: typer.Typer) -> None:
    maintenance_app = typer.Typer(help="Planned maintenance windows (excluded from availability).",
                                  no_args_is_help=True)
    app.add_typer(maintenance_app, name="maintenance")

    @app.command()
    def events(
        config: ConfigOpt = None,
        since: Annotated[str | None, typer.Option(help="local DD/MM/YYYY[ HH:MM]: only events from then")] = None,
        site: Annotated[str | None, typer.Option(help="site slug: its own events and its devices'")] = None,
        device: Annotated[str | None, typer.Option(help="SITE-SLUG/DEVICE-NAME or a device id")] = None,
        kind: Annotated[EventKind | None, typer.Option(help="only this kind of event")] = None,
        severity: Annotated[Severity | None, typer.Option(help="only this severity")] = None,
        limit: Annotated[int, typer.Option(min=1, help="newest first, at most this many")] = 50,
        as_json: Annotated[bool, typer.Option("--json", help="JSON (times in UTC) as the API returns")] = False,
    ) -> None:
        """Show the event log newest first: state changes, flapping, maintenance start and end."""
        from sqlalchemy.orm import Session

        from infra_monitor.readmodel.fmt import gmt_label, local_dt
        from infra_monitor.status.listing import EventFilter, list_events
        from infra_monitor.status.manage import parse_when, resolve_device, resolve_site

        settings = load(config)
        tz = ZoneInfo(settings.general.timezone)
        try:
            start = parse_when(since, tz) if since else None
        except ValueError as exc:
            fail(f"--since: {exc}", EXIT_USAGE)
        with Session(engine_for(settings)) as session:
            try:
                site_id = resolve_site(session, site) if site else None
            except ValueError as exc:
                fail(f"--site: {exc}", EXIT_USAGE)
            try:
                device_id = resolve_device(session, device) if device else None
            except ValueError as exc:
                fail(f"--device: {exc} (allowed: SITE-SLUG/DEVICE-NAME or a device id)", EXIT_USAGE)
            flt = EventFilter(since=start, site_id=site_id, device_id=device_id,
                              kind=kind.value if kind else None, severity=severity.value if severity else None)
            total, page = list_events(session, flt, limit)
        if as_json:
            typer.echo(json.dumps([e.model_dump(mode="json") for e in page], ensure_ascii=False, indent=1))
            return
        if not page:
            typer.echo("no events" + (" matching the filters" if since or site or device or kind or severity else ""))
            return
        typer.echo(f"{'TIME ' + gmt_label(tz):<24}{'SEVERITY':<10}{'KIND':<19}{'DEVICE':<28}MESSAGE")
        for e in page:
            who = e.device or e.site or ""
            typer.echo(f"{local_dt(e.time, tz, label=False):<24}{e.severity:<10}{e.kind:<19}{who:<28}{e.message}")
        if total > len(page):
            typer.echo(f"({len(page)} of {total} shown; use --limit or --since for more)")

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
        from sqlalchemy.orm import Session

        from infra_monitor.readmodel.fmt import local_dt
        from infra_monitor.status.listing import list_windows
        from infra_monitor.status.manage import WindowInputError, WindowSpec, add_window

        scopes = {k: v for k, v in (("device", device), ("site", site), ("region", region)) if v is not None}
        if len(scopes) + int(all_) != 1:
            fail("give exactly one scope: --device SITE/NAME, --site SLUG, --region CODE or --all", EXIT_USAGE)
        if weekly is not None and cron is not None:
            fail("--weekly and --cron exclude each other (allowed: one of --start/--end, --weekly, --cron)",
                 EXIT_USAGE)
        kind = "weekly" if weekly is not None else "cron" if cron is not None else "one_off"
        if kind == "one_off" and (start is None or end is None or at or duration):
            fail("a one-off window needs --start and --end; a recurring one --weekly DAYS --at HH:MM "
                 "--duration MIN or --cron EXPR --duration MIN", EXIT_USAGE)
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
        with Session(engine_for(settings), expire_on_commit=False) as session:
            try:
                window_id = add_window(session, spec, ACTOR)
            except WindowInputError as exc:
                _usage(exc.errors)
            [shown] = list_windows(session, datetime.now(UTC), window_id=window_id)
        typer.echo(f"added maintenance window #{window_id} {shown.name!r}: {_scope_text(shown)}, {shown.schedule}")
        typer.echo(f"active now: {'yes' if shown.active else 'no'}; next occurrence: "
                   f"{local_dt(shown.next_start, zone) if shown.next_start else '—'}")

    @maintenance_app.command("list")
    def maintenance_list(
        config: ConfigOpt = None,
        active: Annotated[bool, typer.Option("--active", help="only windows active now")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="JSON (times in UTC) as the API returns")] = False,
    ) -> None:
        """List maintenance windows, whether each is active now and when it next starts (local time)."""
        from sqlalchemy.orm import Session

        from infra_monitor.status.listing import list_windows

        settings = load(config)
        with Session(engine_for(settings)) as session:
            windows = list_windows(session, datetime.now(UTC), active=True if active else None)
        if as_json:
            typer.echo(json.dumps([w.model_dump(mode="json") for w in windows], ensure_ascii=False, indent=1))
        elif not windows:
            typer.echo("no maintenance windows" + (" active now" if active else ""))
        else:
            _print_windows(windows)

    @maintenance_app.command("remove")
    def maintenance_remove(
        window_id: Annotated[int, typer.Argument(metavar="ID", help="the window's id (see maintenance list)")],
        config: ConfigOpt = None,
    ) -> None:
        """Delete a maintenance window (its past events stay in the log)."""
        from sqlalchemy.orm import Session

        from infra_monitor.status.manage import UnknownWindow, remove_window

        settings = load(config)
        with Session(engine_for(settings)) as session:
            try:
                name = remove_window(session, window_id, ACTOR, datetime.now(UTC))
            except UnknownWindow:
                fail(f"ID: no maintenance window #{window_id} (see 'infra-monitor maintenance list')", EXIT_USAGE)
        typer.echo(f"removed maintenance window #{window_id} {name!r}")

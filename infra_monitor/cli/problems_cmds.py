"""Problems: ``problems list|show|ack|unack|assign|comment``.

The same lists and actions as ``/api/status/problems`` (:mod:`infra_monitor.status.store.listing`,
:mod:`infra_monitor.status.store.problems`). Times are typed and shown in local time (``general.timezone``,
labelled ``(GMT+7)``) and stored in UTC. Bad input exits 2 naming the option; an unknown id exits 2 too. The
history records the user given with ``--user`` (default: the login name of whoever runs the command).
"""

from __future__ import annotations

import getpass
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, NoReturn
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

if TYPE_CHECKING:
    from infra_monitor.status.store.problem_listing import ProblemOut

_STATE_STYLE = {"open": "bold red", "resolved": "green"}
_OPTION = {"state": "--all/--resolved", "level": "--level", "district": "--district", "site": "--site",
           "since": "--since", "until": "--until", "comment": "--comment", "assignee": "USER"}
WHEN = "local DD/MM/YYYY[ HH:MM]"
UserOpt = Annotated[str | None, typer.Option("--user", help="who does it (default: cli:LOGIN)")]
IdArg = Annotated[int, typer.Argument(metavar="ID", help="the problem's id (see problems list)")]


def _usage(errors: dict[str, list[str]]) -> NoReturn:
    for key, messages in errors.items():
        for message in messages:
            typer.echo(t("cli_error", message=f"{_OPTION.get(key, key)}: {message}"), err=True)
    raise typer.Exit(EXIT_USAGE)


def _user(user: str | None) -> str:
    return (user or f"cli:{getpass.getuser()}")[:100]


def _duration(seconds: float, lang: str = "en") -> str:
    from datetime import timedelta

    from infra_monitor.readmodel.fmt import duration

    return duration(timedelta(seconds=seconds), lang)


def _state_text(p: ProblemOut) -> str:
    """``Đang mở`` / ``Đã khắc phục (đã hoạt động trở lại)`` for a person."""
    if p.state == "open":
        return t("pr_tab_open")
    return t("pr_action_resolved") + (f" ({_reason_text(p.resolve_reason)})" if p.resolve_reason else "")


def _reason_text(reason: str) -> str:
    return {"recovered": t("pr_reason_recovered"), "removed": t("pr_reason_removed"),
            "cut_off": t("pr_reason_cut_off"), "maintenance": t("pr_reason_maintenance")}.get(reason, reason)


def _action_text(action: str) -> str:
    return {"opened": t("pr_action_opened"), "acknowledged": t("pr_action_acknowledged"),
            "unacknowledged": t("pr_action_unacknowledged"), "assigned": t("pr_action_assigned"),
            "commented": t("pr_action_commented"), "resolved": t("pr_action_resolved")}.get(action, action)


def _row(p: ProblemOut, tz: ZoneInfo) -> list[str]:
    from infra_monitor.readmodel.fmt import local_dt

    ack = f"yes ({p.ack_by})" if p.acknowledged else "no"
    return [str(p.id), p.state, p.device, p.site or "", p.district or "", local_dt(p.opened_at, tz, label=False),
            _duration(p.duration_s), f"{p.members_now}/{p.peak_members}", ack, p.assignee or ""]


def _shown_row(p: ProblemOut, tz: ZoneInfo) -> list[str]:
    from infra_monitor.readmodel.fmt import local_dt

    ack = t("cli_pr_acked", user=p.ack_by) if p.acknowledged else t("no")
    return [str(p.id), _state_text(p), p.device, p.site or "", p.district or "",
            local_dt(p.opened_at, tz, label=False), _duration(p.duration_s, language()),
            f"{p.members_now}/{p.peak_members}", ack, p.assignee or ""]


def _show(p: ProblemOut, tz: ZoneInfo, fmt: Any) -> None:
    from infra_monitor.readmodel.fmt import gmt_label, local_dt

    when = f"TIME {gmt_label(tz)}"
    lang = language()
    facts = Table(["FIELD", "VALUE"], [
        ["problem", f"#{p.id} {p.state}" + (f" ({p.resolve_reason})" if p.resolve_reason else "")],
        ["root cause", f"{p.device} @ {p.site or '—'} ({p.site_name or '—'})"],
        ["district / level", f"{p.district or '—'} / {p.level or '—'}"],
        ["opened", local_dt(p.opened_at, tz)],
        ["resolved", local_dt(p.resolved_at, tz) if p.resolved_at else "—"],
        ["duration", _duration(p.duration_s)],
        ["cut off now / peak", f"{p.members_now} / {p.peak_members}"],
        ["acknowledged", f"by {p.ack_by} at {local_dt(p.ack_at, tz)}: {p.ack_comment}" if p.acknowledged else "no"],
        ["assignee", p.assignee or "—"],
    ], title="problem", labels=[t("cli_pr_col_field"), t("cli_pr_col_value")], shown=[
        [t("cli_pr_field_problem"), f"#{p.id} {_state_text(p)}"],
        [t("pr_root"), f"{p.device} @ {p.site or '—'} ({p.site_name or '—'})"],
        [t("cli_pr_field_district_level"),
         f"{p.district or '—'} / {t(f'cat_{p.level}') if p.level else '—'}"],
        [t("pr_opened"), local_dt(p.opened_at, tz)],
        [t("pr_resolved"), local_dt(p.resolved_at, tz) if p.resolved_at else "—"],
        [t("pr_duration"), _duration(p.duration_s, lang)],
        [t("pr_cut_off"), f"{p.members_now} / {p.peak_members}"],
        [t("pr_ack"), t("cli_pr_acked_at", user=p.ack_by, when=local_dt(p.ack_at, tz), comment=p.ack_comment)
         if p.acknowledged else t("pr_not_acked")],
        [t("pr_assignee"), p.assignee or "—"],
    ], caption=t("pr_title", id=p.id))
    member_rows = [[m.device, local_dt(m.since, tz, label=False), local_dt(m.until, tz, label=False)
                    if m.until else "—"] for m in p.members or []]
    members = Table(["DEVICE", f"SINCE {gmt_label(tz)}", "UNTIL"], member_rows, title="cut off behind it",
                    labels=[t("cli_ev_col_device"), t("cli_pr_col_since", gmt=gmt_label(tz)), t("pr_member_until")],
                    shown=[[*r[:2], r[2] if m.until else t("pr_still_cut_off")]
                           for r, m in zip(member_rows, p.members or [], strict=True)],
                    caption=t("cli_pr_title_members"))
    history = Table([when, "ACTION", "ACTOR", "COMMENT"],
                    [[local_dt(h.at, tz, label=False), h.action, h.actor, h.comment] for h in p.history or []],
                    title="history", labels=[t("cli_ev_col_time", gmt=gmt_label(tz)), t("cli_pr_col_action"),
                                             t("cli_pr_col_actor"), t("cli_pr_col_comment")],
                    shown=[[local_dt(h.at, tz, label=False), _action_text(h.action),
                            t("cli_pr_system") if h.actor == "system" else h.actor, h.comment]
                           for h in p.history or []], caption=t("pr_history"))
    emit([facts, members, history], fmt, data=p.model_dump(mode="json"))


def register(app: typer.Typer) -> None:
    problems_app = typer.Typer(help="Problems: a root-cause DOWN with the devices cut off behind it; "
                                    "acknowledge, assign, comment.", no_args_is_help=True)
    app.add_typer(problems_app, name="problems")

    @problems_app.command("list")
    def problems_list(
        config: ConfigOpt = None,
        all_: Annotated[bool, typer.Option("--all", help="open and resolved")] = False,
        resolved: Annotated[bool, typer.Option("--resolved", help="only resolved ones (the history)")] = False,
        level: Annotated[str | None, typer.Option(help="site category: datacenter, department, district, "
                                                       "commune, unit")] = None,
        district: Annotated[str | None, typer.Option(help="region code, slug or id: that region and below")] = None,
        site: Annotated[str | None, typer.Option(help="site slug")] = None,
        since: Annotated[str | None, typer.Option(help=f"{WHEN}: problems still open at or after it")] = None,
        until: Annotated[str | None, typer.Option(help=f"{WHEN}: problems opened before it")] = None,
        limit: Annotated[int, typer.Option(min=1, help="at most this many")] = 100,
        fmt: FormatOpt = None,
    ) -> None:
        """List problems, open ones first, newest first (default: only open ones)."""
        from sqlalchemy.orm import Session

        from infra_monitor.readmodel.fmt import gmt_label
        from infra_monitor.status.store.problem_listing import list_problems, parse_problem_filter

        if all_ and resolved:
            fail(t("cli_pr_all_or_resolved"), EXIT_USAGE)
        settings = load(config)
        tz = ZoneInfo(settings.general.timezone)
        now = datetime.now(UTC)
        raw = {"state": "all" if all_ else "resolved" if resolved else "open", "level": level,
               "district": district, "site": site, "since": since, "until": until}
        with Session(engine_for(settings)) as session:
            flt, errors = parse_problem_filter(session, tz, raw, now)
            if errors:
                _usage(errors)
            total, page = list_problems(session, flt, limit, 0, now)
        headers = ["ID", "STATE", "ROOT CAUSE", "SITE", "DISTRICT", f"OPENED {gmt_label(tz)}", "DURATION",
                   "CUT OFF NOW/PEAK", "ACK", "ASSIGNEE"]
        labels = [t("cli_pr_col_id"), t("cli_pr_col_state"), t("cli_pr_col_root"), t("cli_pr_col_site"),
                  t("cli_pr_col_district"), t("cli_pr_col_opened", gmt=gmt_label(tz)), t("cli_pr_col_duration"),
                  t("cli_pr_col_cut_off"), t("cli_pr_col_ack"), t("cli_pr_col_assignee")]
        emit([Table(headers, [_row(p, tz) for p in page], style=lambda r: _STATE_STYLE.get(r[1]), labels=labels,
                    shown=[_shown_row(p, tz) for p in page])],
             output_format(fmt), data=[p.model_dump(mode="json") for p in page],
             empty=lambda tr: tr("cli_pr_none") if all_ or resolved else tr("cli_pr_none_open"),
             notes=[t("cli_pr_partial", shown=len(page), total=total)] if total > len(page) else [])

    @problems_app.command("show")
    def problems_show(
        problem_id: Annotated[int, typer.Argument(metavar="ID", help="the problem's id (see problems list)")],
        config: ConfigOpt = None,
        fmt: FormatOpt = None,
    ) -> None:
        """One problem: root cause, duration, the devices cut off behind it and its history."""
        from sqlalchemy.orm import Session

        from infra_monitor.status.store.problem_listing import get_problem

        settings = load(config)
        with Session(engine_for(settings)) as session:
            found = get_problem(session, problem_id, datetime.now(UTC))
        if found is None:
            fail(t("cli_pr_no_problem", id=problem_id), EXIT_USAGE)
        _show(found, ZoneInfo(settings.general.timezone), output_format(fmt))

    def _act(config: Any, problem_id: int, done: Callable[[], str], act: Any) -> None:
        from infra_monitor.db import write_session
        from infra_monitor.status.store.problems import ProblemInputError, ProblemNotFound

        settings = load(config)
        with write_session(engine_for(settings)) as session:
            try:
                act(session, datetime.now(UTC))
            except ProblemNotFound:
                fail(t("cli_pr_no_problem", id=problem_id), EXIT_USAGE)
            except ProblemInputError as exc:
                _usage(exc.errors)
            session.commit()
        typer.echo(t("cli_pr_done", id=problem_id, done=done()))

    @problems_app.command("ack")
    def problems_ack(problem_id: IdArg, config: ConfigOpt = None,
                     comment: Annotated[str, typer.Option(help="what is being done")] = "",
                     user: UserOpt = None) -> None:
        """Acknowledge a problem: someone is on it."""
        from infra_monitor.status.store.problems import acknowledge

        who = _user(user)
        _act(config, problem_id, lambda: t("cli_pr_acked_by", user=who),
             lambda s, now: acknowledge(s, problem_id, who, now, comment))

    @problems_app.command("unack")
    def problems_unack(problem_id: IdArg, config: ConfigOpt = None, user: UserOpt = None) -> None:
        """Withdraw the acknowledgement of a problem."""
        from infra_monitor.status.store.problems import unacknowledge

        who = _user(user)
        _act(config, problem_id, lambda: t("cli_pr_unacked"), lambda s, now: unacknowledge(s, problem_id, who, now))

    @problems_app.command("assign")
    def problems_assign(problem_id: IdArg,
                        assignee: Annotated[str, typer.Argument(metavar="USER", help="a user name ('' clears)")],
                        config: ConfigOpt = None, user: UserOpt = None) -> None:
        """Assign a problem to a user."""
        from infra_monitor.status.store.problems import assign

        who = _user(user)
        _act(config, problem_id, lambda: t("cli_pr_assigned", user=assignee) if assignee else t("cli_pr_unassigned"),
             lambda s, now: assign(s, problem_id, assignee, who, now))

    @problems_app.command("comment")
    def problems_comment(problem_id: IdArg, text: Annotated[str, typer.Argument(metavar="TEXT")],
                         config: ConfigOpt = None, user: UserOpt = None) -> None:
        """Add a comment to a problem's history."""
        from infra_monitor.status.store.problems import add_comment

        who = _user(user)
        _act(config, problem_id, lambda: t("cli_pr_commented"),
             lambda s, now: add_comment(s, problem_id, text, who, now))

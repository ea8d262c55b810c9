"""``infra-monitor user add|passwd|role|list|disable|enable`` and ``token create|list|revoke``.

Passwords are read from a prompt (twice, hidden) or from standard input with ``--password-stdin``, never
from the command line (it would sit in the shell history and in ``ps``). A token is printed once.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from infra_monitor.accounts.roles import ROLES
from infra_monitor.cli.common import (
    EXIT_USAGE,
    ConfigOpt,
    FormatOpt,
    Table,
    emit,
    engine_for,
    fail,
    load,
    output_format,
    t,
)

if TYPE_CHECKING:  # the accounts model and the database load only when a command runs (a fast --help)
    from sqlalchemy.orm import Session

user_app = typer.Typer(help="Web and API accounts (roles: viewer, operator, admin).", no_args_is_help=True)
token_app = typer.Typer(help="API tokens of the accounts (shown once, stored hashed).", no_args_is_help=True)

PasswordStdin = Annotated[bool, typer.Option("--password-stdin", help="read the password from standard input")]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt(t("cli_password"), hide_input=True, confirmation_prompt=True))


def _session(config: Path | None) -> Session:
    from infra_monitor.db import write_session

    settings = load(config, log=False)
    return write_session(engine_for(settings), expire_on_commit=False)


def _local(value: datetime | None, config: Path | None) -> str:
    if value is None:
        return "—"
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(load(config, log=False).general.timezone)
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _run(config: Path | None, action: str, fn: object) -> None:
    """Run ``fn(session)`` and print the message it returns; an :class:`AccountError` (the accounts model's
    message, as the API says it) exits 2 prefixed with ``action``."""
    from infra_monitor.accounts.users import AccountError

    with _session(config) as session:
        try:
            message = fn(session)  # type: ignore[operator]
            session.commit()
        except AccountError as exc:
            session.rollback()
            fail(f"{action}: {exc}", EXIT_USAGE)
    typer.echo(message)


@user_app.command("add")
def user_add(username: str, role: Annotated[str, typer.Option(help=f"one of {', '.join(ROLES)}")] = "viewer",
             full_name: Annotated[str, typer.Option("--name", help="full name shown in lists")] = "",
             password_stdin: PasswordStdin = False, config: ConfigOpt = None) -> None:
    """Create a user."""
    from infra_monitor.accounts.users import add_user

    password = _password(password_stdin)
    _run(config, f"user add {username}", lambda s: t(
        "cli_user_created", user=add_user(s, username, password, role, full_name).username, role=_role(role)))


@user_app.command("passwd")
def user_passwd(username: str, password_stdin: PasswordStdin = False, config: ConfigOpt = None) -> None:
    """Set a new password (signs the user out everywhere and lifts a lock-out)."""
    from infra_monitor.accounts.users import set_password

    password = _password(password_stdin)
    _run(config, f"user passwd {username}",
         lambda s: t("cli_user_password", user=set_password(s, username, password).username))


@user_app.command("role")
def user_role(username: str, role: Annotated[str, typer.Argument(help=f"one of {', '.join(ROLES)}")],
              config: ConfigOpt = None) -> None:
    """Change a user's role."""
    from infra_monitor.accounts.users import set_role

    _run(config, f"user role {username}",
         lambda s: t("cli_user_role", user=set_role(s, username, role).username, role=_role(role)))


@user_app.command("disable")
def user_disable(username: str, config: ConfigOpt = None) -> None:
    """Disable a user: signs them out and stops their tokens at once (history keeps their name)."""
    from infra_monitor.accounts.users import set_active

    _run(config, f"user disable {username}",
         lambda s: t("cli_user_disabled", user=set_active(s, username, False).username))


@user_app.command("enable")
def user_enable(username: str, config: ConfigOpt = None) -> None:
    """Enable a disabled user again."""
    from infra_monitor.accounts.users import set_active

    _run(config, f"user enable {username}",
         lambda s: t("cli_user_enabled", user=set_active(s, username, True).username))


@user_app.command("list")
def user_list(config: ConfigOpt = None, fmt: FormatOpt = None) -> None:
    """Users with role, state and last sign-in (local time)."""
    from infra_monitor.accounts.users import list_users

    now = datetime.now(UTC)
    with _session(config) as session:
        users = list_users(session)
    rows, shown = [], []
    for u in users:
        state = "disabled" if not u.is_active else ("locked" if u.locked_until and u.locked_until > now else "active")
        rows.append([u.username, u.full_name, u.role, state, _local(u.last_login, config)])
        shown.append([u.username, u.full_name, _role(u.role), _user_state(state), rows[-1][4]])
    labels = [t("cli_user_col_username"), t("cli_col_name"), t("cli_user_col_role"), t("cli_col_state"),
              t("cli_user_col_last_login")]
    emit([Table(["username", "name", "role", "state", "last sign-in"], rows, labels=labels, shown=shown)],
         output_format(fmt))


def _role(role: str) -> str:
    return t(f"role_{role}") if role in ROLES else role


def _user_state(state: str) -> str:
    return {"active": t("cli_user_active"), "locked": t("cli_user_locked"),
            "disabled": t("cli_user_disabled_state")}[state]


@token_app.command("create")
def token_create(
    username: Annotated[str, typer.Option("--user", "-u", help="the account the token acts as")],
    expires: Annotated[str, typer.Option(help="90d, 12h, 2w, a date (2027-01-31) or never")] = "90d",
    read_only: Annotated[bool, typer.Option("--read-only", help="refuse writes whatever the user's role")] = False,
    description: Annotated[str, typer.Option(help="what the token is for")] = "",
    config: ConfigOpt = None,
) -> None:
    """Create an API token and print it once (send it as 'Authorization: Bearer <token>')."""
    from infra_monitor.accounts.tokens import create_token, parse_expiry
    from infra_monitor.accounts.users import AccountError

    with _session(config) as session:
        try:
            row, plain = create_token(session, username, expires=parse_expiry(expires), write_enabled=not read_only,
                                      description=description)
            session.commit()
        except AccountError as exc:
            session.rollback()
            fail(f"token create: {exc}", EXIT_USAGE)
    typer.echo(plain)
    scope = t("cli_token_read_only") if read_only else t("cli_token_read_write")
    expiry = _local(row.expires, config) if row.expires else t("cli_token_never")
    typer.echo(t("cli_token_created", id=row.id, token_key=row.key, user=username, scope=scope, expires=expiry),
               err=True)


@token_app.command("list")
def token_list(username: Annotated[str | None, typer.Option("--user", "-u")] = None, config: ConfigOpt = None,
               fmt: FormatOpt = None) -> None:
    """Tokens (never their values): key, user, scope, expiry, last use."""
    from infra_monitor.accounts.tokens import list_tokens

    now = datetime.now(UTC)
    with _session(config) as session:
        tokens = list_tokens(session, username)
    rows, shown = [], []
    for tok, user in tokens:
        expired = bool(tok.expires and tok.expires <= now)
        expiry = _local(tok.expires, config)
        rows.append([str(tok.id), tok.key, user, "write" if tok.write_enabled else "read-only",
                     expiry + (" (expired)" if expired else ""), _local(tok.last_used, config), tok.description])
        shown.append([str(tok.id), tok.key, user,
                      t("cli_token_read_write") if tok.write_enabled else t("cli_token_read_only"),
                      expiry + (" " + t("cli_token_expired") if expired else ""), rows[-1][5], tok.description])
    labels = [t("cli_token_col_id"), t("cli_token_col_key"), t("cli_token_col_user"), t("cli_token_col_scope"),
              t("cli_token_col_expires"), t("cli_token_col_last_used"), t("cli_token_col_description")]
    emit([Table(["id", "key", "user", "scope", "expires", "last used", "description"], rows, labels=labels,
                shown=shown)], output_format(fmt))


@token_app.command("revoke")
def token_revoke(ident: Annotated[str, typer.Argument(help="token id or key")], config: ConfigOpt = None) -> None:
    """Revoke a token at once."""
    from infra_monitor.accounts.tokens import revoke_token

    _run(config, f"token revoke {ident}", lambda s: t("cli_token_revoked", id=revoke_token(s, ident).id))


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")
    app.add_typer(token_app, name="token")

"""Managing users: add, change password, change role, disable, list — the rules shared by CLI and web."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from infra_monitor.accounts.models import User, WebSession
from infra_monitor.accounts.passwords import check_password_rule, hash_password
from infra_monitor.accounts.roles import check_role

USERNAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")


class AccountError(ValueError):
    """A request about accounts that cannot be done; the message says which field and why."""


def check_username(name: str) -> str:
    if not USERNAME_RE.fullmatch(name):
        raise AccountError(f"username {name[:64]!r}: use 2-64 lower-case letters, digits, '.', '_' or '-', "
                           "starting with a letter or digit")
    return name


def get_user(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(col(User.username) == username)).first()
    if user is None:
        raise AccountError(f"no user named {username[:64]!r}")
    return user


def count_users(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(User)) or 0)


def add_user(session: Session, username: str, password: str, role: str, full_name: str = "") -> User:
    check_username(username)
    try:
        check_role(role)
        check_password_rule(password)
    except ValueError as exc:
        raise AccountError(str(exc)) from None
    if session.scalars(select(col(User.id)).where(col(User.username) == username)).first() is not None:
        raise AccountError(f"username {username!r} is already taken")
    user = User(username=username, role=role, full_name=full_name[:200], password_hash=hash_password(password))
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, username: str, password: str) -> User:
    """New password; ends the user's web sessions and clears a lock-out."""
    user = get_user(session, username)
    try:
        check_password_rule(password)
    except ValueError as exc:
        raise AccountError(str(exc)) from None
    user.password_hash = hash_password(password)
    user.password_changed = datetime.now(UTC)
    user.failed_logins = 0
    user.locked_until = None
    session.execute(delete(WebSession).where(col(WebSession.user_id) == user.id))
    return user


def set_role(session: Session, username: str, role: str) -> User:
    user = get_user(session, username)
    try:
        user.role = check_role(role)
    except ValueError as exc:
        raise AccountError(str(exc)) from None
    return user


def set_active(session: Session, username: str, active: bool) -> User:
    """Disable (or enable again) a user; disabling ends their sessions and stops their tokens at once."""
    user = get_user(session, username)
    user.is_active = active
    if not active:
        session.execute(delete(WebSession).where(col(WebSession.user_id) == user.id))
    else:
        user.failed_logins = 0
        user.locked_until = None
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(col(User.username))))


def random_password() -> str:
    """A password for a generated account (demo admin): 16 characters, easy to type."""
    alphabet = "abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY346789"
    return "".join(secrets.choice(alphabet) for _ in range(16))

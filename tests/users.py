"""Accounts for tests: users of each role, their tokens, and signing a real browser in through /login."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from infra_monitor.accounts.tokens import create_token
from infra_monitor.accounts.users import AccountError, add_user, get_user

PASSWORD = "correct-horse-battery"
ADMIN_TOKEN = "test-admin-token-0123456789"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def ensure_user(engine: Engine, username: str, role: str, password: str = PASSWORD) -> None:
    with Session(engine) as session:
        try:
            get_user(session, username)
        except AccountError:
            add_user(session, username, password, role)
            session.commit()


def token_for(engine: Engine, username: str, role: str, *, read_only: bool = False,
              expires: datetime | None = None, now: datetime | None = None) -> str:
    """A new API token of ``username`` (created with ``role`` if missing)."""
    ensure_user(engine, username, role)
    with Session(engine) as session:
        _row, plain = create_token(session, username, write_enabled=not read_only, expires=expires, now=now)
        session.commit()
    return plain


def sign_in(page: Any, base: str, username: str, password: str = PASSWORD, next_path: str = "/") -> None:
    """Sign a Playwright page in through the real form: it asks for ``next_path`` and is sent to sign in."""
    page.goto(base + next_path)
    page.wait_for_url(lambda url: "/login" in url)
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login-submit")
    page.wait_for_url(lambda url: "/login" not in url)

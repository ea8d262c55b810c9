"""Web sign-in: password check with lock-out after repeated failures, sessions stored hashed, and a
per-address rate limit on attempts.

A session cookie holds 256 random bits; the table keeps only their SHA-256, the user, the expiry and
the session's CSRF token. Changing a password or disabling a user deletes their sessions.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session
from sqlmodel import col

from infra_monitor.accounts.models import User, WebSession, user_id_of
from infra_monitor.accounts.passwords import hash_password, needs_rehash, verify_password

SEEN_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class LoginOutcome:
    user: User | None
    problem: str | None            # None (signed in), "wrong", "locked", "disabled"
    locked_until: datetime | None = None


def attempt_login(session: Session, username: str, password: str, *, max_failures: int, lockout: timedelta,
                  now: datetime | None = None) -> LoginOutcome:
    """Check a password; counts failures and locks the account for ``lockout`` after ``max_failures``."""
    now = now or datetime.now(UTC)
    user = session.scalars(select(User).where(col(User.username) == username.strip().lower()[:64])).first()
    ok = verify_password(user.password_hash if user else None, password)
    if user is None:
        return LoginOutcome(None, "wrong")
    if user.locked_until is not None and user.locked_until > now:
        return LoginOutcome(None, "locked", user.locked_until)
    if not ok:
        user.failed_logins += 1
        if user.failed_logins >= max_failures:
            user.locked_until = now + lockout
            user.failed_logins = 0
            return LoginOutcome(None, "locked", user.locked_until)
        return LoginOutcome(None, "wrong")
    if not user.is_active:
        return LoginOutcome(None, "disabled")
    user.failed_logins = 0
    user.locked_until = None
    user.last_login = now
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return LoginOutcome(user, None)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def open_session(session: Session, user: User, *, hours: float, client: str = "",
                 now: datetime | None = None) -> tuple[str, WebSession]:
    """A new web session for ``user``; returns the cookie value (only ever sent to the browser)."""
    now = now or datetime.now(UTC)
    cookie = secrets.token_urlsafe(32)
    row = WebSession(session_hash=_digest(cookie), user_id=user_id_of(user), csrf_token=secrets.token_urlsafe(24),
                     created=now, last_seen=now, expires=now + timedelta(hours=hours), client=client[:64])
    session.add(row)
    # expired sessions of everyone are swept here, so the table stays small without a job
    session.execute(delete(WebSession).where(col(WebSession.expires) <= now))
    session.flush()
    return cookie, row


def find_session(session: Session, cookie: str, now: datetime | None = None, *, record_seen: bool = True
                 ) -> tuple[WebSession, User] | None:
    if not cookie or len(cookie) > 100:
        return None
    now = now or datetime.now(UTC)
    found = session.execute(
        select(WebSession, User).join(User, col(User.id) == col(WebSession.user_id))
        .where(col(WebSession.session_hash) == _digest(cookie))
    ).first()
    if found is None:
        return None
    row, user = found
    if row.expires <= now or not user.is_active:
        return None
    if record_seen and seen_is_stale(row, now):
        record_seen_at(session, row.id or 0, now)
    return row, user


def close_session(session: Session, cookie: str) -> None:
    session.execute(delete(WebSession).where(col(WebSession.session_hash) == _digest(cookie)))


class RateLimiter:
    """At most ``limit`` events per ``window_s`` per key (client address), in this process's memory."""

    def __init__(self, limit: int, window_s: float = 60.0, max_keys: int = 10_000) -> None:
        self.limit, self.window_s, self.max_keys = limit, window_s, max_keys
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, now: float | None = None) -> float:
        """Record an attempt; returns 0 when allowed, else the seconds until the next one is."""
        now = time.monotonic() if now is None else now
        with self._lock:
            q = self._events.get(key)
            if q is None:
                if len(self._events) >= self.max_keys:   # forget the quietest keys rather than grow
                    for k in [k for k, v in self._events.items() if not v or v[-1] < now - self.window_s]:
                        del self._events[k]
                    if len(self._events) >= self.max_keys:
                        self._events.pop(next(iter(self._events)))
                q = self._events[key] = deque()
            while q and q[0] <= now - self.window_s:
                q.popleft()
            if len(q) >= self.limit:
                return max(0.0, q[0] + self.window_s - now)
            q.append(now)
            return 0.0


def seen_is_stale(row: WebSession, now: datetime) -> bool:
    return now - row.last_seen >= SEEN_EVERY


def record_seen_at(session: Session, session_id: int, now: datetime) -> None:
    session.execute(update(WebSession).where(col(WebSession.id) == session_id).values(last_seen=now))

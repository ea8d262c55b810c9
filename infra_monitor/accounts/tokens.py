"""API tokens: created for a user, shown once, stored hashed, with expiry, write scope and last use.

A token reads ``imt_<key>_<secret>``: ``key`` (12 hex characters) is public and names the token in lists;
the whole token's SHA-256 is stored. Tokens are random 256-bit values, so a fast hash is enough (as
GitHub and NetBox v2 tokens do); the lookup is by key and the comparison constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlmodel import col

from infra_monitor.accounts.models import ApiToken, User, user_id_of
from infra_monitor.accounts.users import AccountError, get_user

PREFIX = "imt_"
LAST_USED_EVERY = timedelta(minutes=1)   # last_used is written at most this often per token


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def looks_like_token(value: str) -> bool:
    return value.startswith(PREFIX) and value.count("_") >= 2


def create_token(session: Session, username: str, *, expires: datetime | None = None, write_enabled: bool = True,
                 description: str = "", now: datetime | None = None) -> tuple[ApiToken, str]:
    """A new token for ``username``; returns the row and the token itself (never retrievable again)."""
    user = get_user(session, username)
    now = now or datetime.now(UTC)
    if expires is not None and expires <= now:
        raise AccountError("expires: the expiry must be in the future")
    key = secrets.token_hex(6)
    plain = f"{PREFIX}{key}_{secrets.token_urlsafe(32)}"
    row = ApiToken(user_id=user_id_of(user), key=key, token_hash=_digest(plain), description=description[:200],
                   write_enabled=write_enabled, expires=expires, created=now)
    session.add(row)
    session.flush()
    return row, plain


def list_tokens(session: Session, username: str | None = None) -> list[tuple[ApiToken, str]]:
    q = (select(ApiToken, col(User.username)).join(User, col(User.id) == col(ApiToken.user_id))
         .order_by(col(ApiToken.id)))
    if username:
        q = q.where(col(User.username) == username)
    return [(t, u) for t, u in session.execute(q).all()]


def revoke_token(session: Session, ident: str) -> ApiToken:
    """Delete a token by its id or its key."""
    ident = ident.strip()
    if ident.startswith(PREFIX):       # the whole token pasted: its key is the part after the prefix
        ident = ident[len(PREFIX):].split("_", 1)[0]
    row = session.scalars(select(ApiToken).where(col(ApiToken.key) == ident)).first()
    if row is None and ident.isdigit() and len(ident) < 10:
        row = session.get(ApiToken, int(ident))
    if row is None:
        raise AccountError(f"no token with id or key {ident[:20]!r} (see 'infra-monitor token list')")
    session.delete(row)
    return row


@dataclass(frozen=True)
class TokenCheck:
    """The outcome of presenting a token: the user and token when valid, else why not."""

    token: ApiToken | None
    user: User | None
    problem: str | None   # "invalid", "expired", "disabled"


def check_token(session: Session, presented: str, now: datetime | None = None, *, record_use: bool = True
                ) -> TokenCheck:
    now = now or datetime.now(UTC)
    if not looks_like_token(presented):
        return TokenCheck(None, None, "invalid")
    key = presented[len(PREFIX):].split("_", 1)[0]
    found = session.execute(
        select(ApiToken, User).join(User, col(User.id) == col(ApiToken.user_id)).where(col(ApiToken.key) == key)
    ).first()
    if found is None or not hmac.compare_digest(found[0].token_hash, _digest(presented)):
        return TokenCheck(None, None, "invalid")
    token, user = found
    if token.expires is not None and token.expires <= now:
        return TokenCheck(token, user, "expired")
    if not user.is_active:
        return TokenCheck(token, user, "disabled")
    if record_use and use_is_stale(token, now):
        session.execute(update(ApiToken).where(col(ApiToken.id) == token.id).values(last_used=now))
        token.last_used = now
    return TokenCheck(token, user, None)


def use_is_stale(token: ApiToken, now: datetime) -> bool:
    """Whether ``last_used`` is due for an update (written at most once a minute per token)."""
    return token.last_used is None or now - token.last_used >= LAST_USED_EVERY


def record_use(session: Session, token_id: int, now: datetime) -> None:
    session.execute(update(ApiToken).where(col(ApiToken.id) == token_id).values(last_used=now))


def parse_expiry(text: str, now: datetime | None = None) -> datetime | None:
    """``90d``, ``12h``, ``2027-01-31`` or ``never`` → an aware UTC datetime (None = never)."""
    now = now or datetime.now(UTC)
    t = text.strip().lower()
    if t in ("", "never", "none"):
        return None
    units = {"d": "days", "h": "hours", "m": "minutes", "w": "weeks"}
    if t[:-1].isdigit() and t[-1] in units:
        return now + timedelta(**{units[t[-1]]: int(t[:-1])})
    try:
        day = datetime.fromisoformat(t)
    except ValueError:
        raise AccountError(f"expires {text[:40]!r}: give e.g. 90d, 12h, 2w, 2027-01-31 or never") from None
    return day if day.tzinfo else day.replace(tzinfo=UTC)

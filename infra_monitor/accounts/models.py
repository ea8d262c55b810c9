"""Tables of the accounts: users, API tokens (hashed) and web sessions (hashed).

Nothing secret is stored in clear: passwords as argon2id hashes, tokens and session ids as SHA-256
of high-entropy random values (a token is looked up by its public ``key`` prefix, then compared in
constant time).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from inventory.models.base import UTCDateTime, utcnow


class User(SQLModel, table=True):
    __tablename__ = "account_user"
    __table_args__ = (UniqueConstraint("username", name="uq_account_user_username"),)

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64)
    full_name: str = Field(default="", max_length=200)
    role: str = Field(max_length=16)
    password_hash: str = Field(max_length=255)
    is_active: bool = True
    failed_logins: int = 0
    locked_until: datetime | None = UTCDateTime(default=None)
    created: datetime = UTCDateTime(default_factory=utcnow)
    last_login: datetime | None = UTCDateTime(default=None)
    password_changed: datetime = UTCDateTime(default_factory=utcnow)


class ApiToken(SQLModel, table=True):
    __tablename__ = "account_token"
    __table_args__ = (UniqueConstraint("key", name="uq_account_token_key"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="account_user.id", ondelete="CASCADE", index=True)
    key: str = Field(max_length=16, description="public part of the token, shown in lists")
    token_hash: str = Field(max_length=64, description="sha256 hex of the whole token")
    description: str = Field(default="", max_length=200)
    write_enabled: bool = True
    created: datetime = UTCDateTime(default_factory=utcnow)
    expires: datetime | None = UTCDateTime(default=None)
    last_used: datetime | None = UTCDateTime(default=None)


class WebSession(SQLModel, table=True):
    __tablename__ = "account_session"

    id: int | None = Field(default=None, primary_key=True)
    session_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="account_user.id", ondelete="CASCADE", index=True)
    csrf_token: str = Field(max_length=64)
    created: datetime = UTCDateTime(default_factory=utcnow)
    expires: datetime = UTCDateTime()
    last_seen: datetime = UTCDateTime(default_factory=utcnow)
    client: str = Field(default="", max_length=64)


def user_id_of(user: User) -> int:
    """The id of a stored user (flushed rows always have one)."""
    if user.id is None:
        raise ValueError(f"user {user.username!r} has no id yet: flush the session first")
    return user.id

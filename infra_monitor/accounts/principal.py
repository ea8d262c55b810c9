"""Who is making a request: a user signed in on the web, a user's API token, or the configured admin token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from infra_monitor.accounts.roles import Role, allows

Via = Literal["session", "token", "admin_token"]
ADMIN_TOKEN_NAME = "admin"


@dataclass(frozen=True)
class Principal:
    username: str
    role: Role
    via: Via
    user_id: int | None = None
    token_id: int | None = None
    write_enabled: bool = True
    csrf_token: str | None = None          # sessions only
    session_expires: datetime | None = None

    def can(self, needed: Role) -> bool:
        return allows(self.role, needed)

    @property
    def actor(self) -> str:
        """What the change log records: the real user, and the token when one was used."""
        if self.via == "admin_token":
            return f"api:{ADMIN_TOKEN_NAME}"
        if self.via == "token":
            return f"{self.username} (token #{self.token_id})"
        return self.username

"""Who may write through the API: ``Authorization: Token <web.admin_token>`` (``Bearer`` works too).

Reads are open. With no admin token configured the API is read-only (writes → 403 saying how to enable
them); a missing or wrong token → 401. Tokens are compared in constant time and never logged.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass

from fastapi import HTTPException, Request, status

from web.deps import get_settings

log = logging.getLogger(__name__)

SCHEMES = ("token", "bearer")
ADMIN_TOKEN_NAME = "admin"


@dataclass(frozen=True)
class Writer:
    """The authenticated writer; ``actor`` is what the change log records."""

    token_name: str

    @property
    def actor(self) -> str:
        return f"api:{self.token_name}"


def _presented_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() not in SCHEMES or not value.strip():
        return None
    return value.strip()


def require_writer(request: Request) -> Writer:
    """FastAPI dependency of every write endpoint."""
    expected = get_settings(request).web.admin_token
    if not expected:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail="The API is read-only: writes need web.admin_token to be set in the configuration "
                   "(or INFRA_MONITOR_WEB__ADMIN_TOKEN).",
        )
    presented = _presented_token(request)
    if presented is None or not hmac.compare_digest(presented.encode(), expected.encode()):
        log.warning("event=api_auth_failed reason=%s path=%s", "missing" if presented is None else "wrong",
                    request.url.path)
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="Writes need 'Authorization: Token <web.admin_token>'; the token is missing or wrong.",
            headers={"WWW-Authenticate": "Token"},
        )
    return Writer(ADMIN_TOKEN_NAME)

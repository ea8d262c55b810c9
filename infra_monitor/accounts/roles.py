"""The three roles and what each may do; one place, read by the API, the pages and the CLI.

- ``viewer``: reads every page and every read endpoint.
- ``operator``: a viewer who also manages maintenance windows, acknowledges problems and runs reports.
- ``admin``: an operator who also edits the inventory, the accounts and the settings.
"""

from __future__ import annotations

from typing import Literal

Role = Literal["viewer", "operator", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "operator", "admin")
VIEWER: Role = "viewer"
OPERATOR: Role = "operator"
ADMIN: Role = "admin"

_RANK: dict[str, int] = {role: i for i, role in enumerate(ROLES)}


def allows(role: str, needed: Role) -> bool:
    """Whether ``role`` includes what ``needed`` may do (roles are ordered viewer < operator < admin)."""
    return _RANK.get(role, -1) >= _RANK[needed]


def check_role(value: str) -> Role:
    if value not in _RANK:
        raise ValueError(f"unknown role {value[:40]!r}: choose one of {', '.join(ROLES)}")
    return value  # type: ignore[return-value]

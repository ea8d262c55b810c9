"""Who may write through the API: inventory writes need the admin role, maintenance windows and
acknowledgements the operator role (see :mod:`infra_monitor.accounts.roles`).

The request's principal is established by :class:`web.auth.AuthGate` (a user's session or API token, or
``web.admin_token``); these dependencies only check its role. Tokens are never logged.
"""

from __future__ import annotations

from infra_monitor.accounts.principal import ADMIN_TOKEN_NAME, Principal
from infra_monitor.accounts.roles import ADMIN, OPERATOR, VIEWER
from web.auth import require_role

Writer = Principal
require_writer = require_role(ADMIN)        # inventory: regions, sites, devices, circuits, ...
require_operator = require_role(OPERATOR)   # maintenance windows, acknowledgements, reports
require_viewer = require_role(VIEWER)

__all__ = ["ADMIN_TOKEN_NAME", "Writer", "require_operator", "require_viewer", "require_writer"]

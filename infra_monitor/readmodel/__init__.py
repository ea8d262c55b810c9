"""Read model of the status page: the queries shared by the pages, ``/api/status`` and ``infra-monitor status``.

Every aggregate runs a constant number of SQL queries whatever the number of sites (flat rows or
``GROUP BY`` per table, never a query per row). Entry point: :class:`ReadModel`; a site's state is defined
once, in :func:`infra_monitor.readmodel.sitestate.site_state`.

The names below load on first use (PEP 562), so that importing a light module of the package (``fmt``,
``schemas``) does not import every query: the command line starts faster.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from infra_monitor.readmodel.frame import SiteFilter
    from infra_monitor.readmodel.service import ReadModel
    from infra_monitor.readmodel.sitestate import Tally, site_state

_WHERE = {"ReadModel": "service", "SiteFilter": "frame", "Tally": "sitestate", "site_state": "sitestate"}

__all__ = ["ReadModel", "SiteFilter", "Tally", "site_state"]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(import_module(f"infra_monitor.readmodel.{_WHERE[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'infra_monitor.readmodel' has no attribute {name!r}")

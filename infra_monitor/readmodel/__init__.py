"""Read model of the status page: the queries shared by the pages, ``/api/status`` and ``infra-monitor status``.

Every aggregate runs a constant number of SQL queries whatever the number of sites (flat rows or
``GROUP BY`` per table, never a query per row). Entry point: :class:`ReadModel`; a site's state is defined
once, in :func:`infra_monitor.readmodel.sitestate.site_state`.
"""

from infra_monitor.readmodel.frame import SiteFilter
from infra_monitor.readmodel.service import ReadModel
from infra_monitor.readmodel.sitestate import Tally, site_state

__all__ = ["ReadModel", "SiteFilter", "Tally", "site_state"]

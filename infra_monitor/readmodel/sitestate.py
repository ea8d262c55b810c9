"""A site's state, aggregated from the states of its monitored devices: the one rule pages, API and CLI share.

The database hands over a :class:`Tally` per site (how many of its monitored devices are in each state,
counted by one ``GROUP BY`` query), and :func:`site_state` turns it into one state, in this order:

1. **DOWN** when any device at the site is DOWN: something *at the site* failed on its own (its gateway,
   or a device behind a working gateway). That is where someone has to act.
2. **UNREACHABLE** when devices failed and every failed device is UNREACHABLE behind a failure elsewhere
   (a district link, an upstream router): the site itself may be fine, the problem is upstream.
3. **MAINTENANCE** when nothing failed and at least one device is in maintenance, or is cut off only by
   planned work upstream (UNREACHABLE with cause ``maintenance``).
4. **UNKNOWN** when no device has data (never polled, poller stopped) or the site has no monitored device.
5. **UP** otherwise: every device with data is UP (devices still without data do not mark a working site
   as unknown).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case

from infra_monitor.status.engine.states import State

# The rule itself: the first of these states that any device of the site is in (else UNKNOWN).
PRECEDENCE: tuple[State, ...] = (State.DOWN, State.UNREACHABLE, State.MAINTENANCE, State.UP)

# Severity order for sorting and "worst first" lists (lower = worse).
STATE_ORDER: dict[State, int] = {
    State.DOWN: 0,
    State.UNREACHABLE: 1,
    State.UNKNOWN: 2,
    State.MAINTENANCE: 3,
    State.UP: 4,
}


@dataclass(frozen=True)
class Tally:
    """Monitored devices of one site per state; ``unreachable`` excludes those cut off by maintenance,
    which are counted in ``maintenance``."""

    up: int = 0
    down: int = 0
    unreachable: int = 0
    maintenance: int = 0
    unknown: int = 0

    @property
    def total(self) -> int:
        return self.up + self.down + self.unreachable + self.maintenance + self.unknown


def site_state(t: Tally) -> State:
    """The state of a site whose monitored devices are tallied in ``t`` (rules in the module docstring)."""
    return next((s for s in PRECEDENCE if getattr(t, s.value)), State.UNKNOWN)


def site_state_sql(counts: Mapping[str, Any]) -> Any:
    """The same rule as a SQL ``CASE`` over per-site count columns named like the :class:`Tally` fields, so
    lists, filters and aggregates over 10,000 sites are computed by the database."""
    return case(*((counts[s.value] > 0, s.value) for s in PRECEDENCE), else_=State.UNKNOWN.value)


def state_rank(state: State | str) -> int:
    """Sort key putting the worst state first."""
    return STATE_ORDER.get(State(state), len(STATE_ORDER))

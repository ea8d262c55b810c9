"""Flap detection, Nagios style: weighted percent state change over the last 21 checks.

Of 21 recorded states there are 20 possible changes. A change between positions x-1 and x (x = 1 oldest …
20 newest) weighs ``0.8 + 0.4 * (x - 1) / 19``: 0.8 for the oldest, 1.2 for the newest. The percent state
change is ``100 * sum(weights of changes) / 20``. A history shorter than 21 checks is padded at the old end
with its first state (as Nagios initialises it), so early changes weigh as recent ones. Flapping starts when
the percentage rises above the high threshold and stops when it falls below the low threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

from infra_monitor.status.engine.states import FLAP_HISTORY_LEN

LOW_WEIGHT = 0.8
HIGH_WEIGHT = 1.2


def percent_state_change(history: Sequence[Enum]) -> float:
    """Weighted percent state change of ``history`` (oldest first; only the last 21 entries count)."""
    recent = list(history)[-FLAP_HISTORY_LEN:]
    if len(recent) < 2:
        return 0.0
    padded = [recent[0]] * (FLAP_HISTORY_LEN - len(recent)) + recent
    changes = FLAP_HISTORY_LEN - 1
    total = 0.0
    for x in range(1, FLAP_HISTORY_LEN):
        if padded[x] != padded[x - 1]:
            total += LOW_WEIGHT + (HIGH_WEIGHT - LOW_WEIGHT) * (x - 1) / (changes - 1)
    return total * 100.0 / changes


def is_flapping(was_flapping: bool, percent: float, high_threshold: float, low_threshold: float) -> bool:
    """Hysteresis: start above ``high_threshold``, stop below ``low_threshold``, otherwise keep."""
    if not was_flapping and percent > high_threshold:
        return True
    if was_flapping and percent < low_threshold:
        return False
    return was_flapping

"""Pure arithmetic: two successive SNMP samples of an interface → bits/s in/out and utilisation %.

Rules, in order:

* Time base: the sysUpTime delta when both samples have it (it is what the agent's counters
  advance with), else the wall clock. sysUpTime is 32-bit timeticks and wraps after ~497 days;
  a backwards step that matches the wall clock elapsed modulo 2^32 ticks is a wrap, not a reboot.
* Agent reboot → no rate for that interval (counters restarted): sysUpTime went backwards, or it
  advanced clearly less than the wall clock did (the agent rebooted in between).
* Counter went backwards: a wrap only if the modular delta (2^32 or 2^64) gives a plausible rate
  (≤ interface speed with 5% slack, else ≤ ``DEFAULT_MAX_BPS``); a 64-bit counter practically
  never wraps, so a drop there is a reset → None. Any delta implying more than the plausible
  maximum is a reset/discontinuity → None. Never negative, never a spike.
* Utilisation is against the committed rate (kbps, as in the inventory); it may exceed 100% when
  a circuit bursts above its commitment, and is None without a committed rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from probes.base import InterfaceSample

UPTIME_WRAP_S = 2**32 / 100.0  # sysUpTime TimeTicks are 32-bit centiseconds
DEFAULT_MAX_BPS = 100e9  # cap when the interface speed is unknown
SPEED_SLACK = 1.05
MIN_ELAPSED_S = 1.0
REBOOT_TOLERANCE_S = 5.0  # how much less than the wall clock sysUpTime may advance (polling jitter)
REBOOT_TOLERANCE_RATIO = 0.10


@dataclass(frozen=True)
class RateSample:
    """The parts of one SNMP check that rates need, for one interface."""

    at: datetime
    sys_uptime_s: float | None
    in_octets: int | None
    out_octets: int | None
    counter_bits: int = 64
    in_errors: int | None = None
    out_errors: int | None = None

    @classmethod
    def from_interface(cls, sample: InterfaceSample, at: datetime, sys_uptime_s: float | None) -> RateSample:
        return cls(at=at, sys_uptime_s=sys_uptime_s, in_octets=sample.hc_in_octets,
                   out_octets=sample.hc_out_octets, counter_bits=sample.counter_bits,
                   in_errors=sample.in_errors, out_errors=sample.out_errors)


@dataclass(frozen=True)
class InterfaceRate:
    elapsed_s: float | None
    time_base: str | None  # "sys_uptime" or "wall_clock"
    in_bps: float | None = None
    out_bps: float | None = None
    in_util_pct: float | None = None
    out_util_pct: float | None = None
    in_errors_per_s: float | None = None
    out_errors_per_s: float | None = None
    note: str | None = None  # why a value is missing (reboot, reset, too short)


def elapsed_seconds(prev: RateSample, cur: RateSample) -> tuple[float | None, str | None, str | None]:
    """(elapsed seconds, time base, note). Elapsed is None when the agent rebooted in between."""
    wall = (cur.at - prev.at).total_seconds()
    if prev.sys_uptime_s is None or cur.sys_uptime_s is None:
        if wall < MIN_ELAPSED_S:
            return None, "wall_clock", "interval too short"
        return wall, "wall_clock", None
    delta = cur.sys_uptime_s - prev.sys_uptime_s
    if delta < 0:
        wrapped = delta + UPTIME_WRAP_S
        if abs(wrapped - wall) <= REBOOT_TOLERANCE_S + REBOOT_TOLERANCE_RATIO * wall:
            delta = wrapped
        else:
            return None, "sys_uptime", "agent rebooted (sysUpTime went backwards)"
    elif wall > 0 and delta < wall - (REBOOT_TOLERANCE_S + REBOOT_TOLERANCE_RATIO * wall):
        return None, "sys_uptime", "agent rebooted during the interval (sysUpTime advanced less than the clock)"
    if delta < MIN_ELAPSED_S:
        return None, "sys_uptime", "interval too short"
    return delta, "sys_uptime", None


def counter_delta(prev: int, cur: int, *, bits: int, elapsed_s: float, max_per_s: float) -> int | None:
    """Increase of a ``bits``-wide counter, or None if it was reset (no plausible wrap)."""
    delta = cur - prev if cur >= prev else cur + (1 << bits) - prev
    if delta / elapsed_s > max_per_s:
        return None
    return delta


def utilisation_pct(bps: float | None, commit_rate_kbps: float | None) -> float | None:
    if bps is None or not commit_rate_kbps or commit_rate_kbps <= 0:
        return None
    return round(100.0 * bps / (commit_rate_kbps * 1000.0), 3)


def interface_rate(
    prev: RateSample,
    cur: RateSample,
    *,
    speed_kbps: float | None = None,
    commit_rate_kbps: float | None = None,
) -> InterfaceRate:
    """Rates over the interval prev → cur (see module docstring for the rules)."""
    elapsed, base, note = elapsed_seconds(prev, cur)
    if elapsed is None:
        return InterfaceRate(elapsed_s=None, time_base=base, note=note)
    max_bps = speed_kbps * 1000.0 * SPEED_SLACK if speed_kbps and speed_kbps > 0 else DEFAULT_MAX_BPS
    notes: list[str] = []
    bits_for = prev.counter_bits if prev.counter_bits == cur.counter_bits else None

    def octets_bps(p: int | None, c: int | None, direction: str) -> float | None:
        if p is None or c is None:
            return None
        if bits_for is None:
            notes.append("counter width changed")
            return None
        delta = counter_delta(p, c, bits=bits_for, elapsed_s=elapsed, max_per_s=max_bps / 8.0)
        if delta is None:
            notes.append(f"{direction} counter reset")
            return None
        return round(delta * 8.0 / elapsed, 3)

    def errors_per_s(p: int | None, c: int | None) -> float | None:
        if p is None or c is None:
            return None
        delta = counter_delta(p, c, bits=32, elapsed_s=elapsed, max_per_s=max_bps / 512.0)
        return None if delta is None else round(delta / elapsed, 6)

    in_bps = octets_bps(prev.in_octets, cur.in_octets, "in")
    out_bps = octets_bps(prev.out_octets, cur.out_octets, "out")
    return InterfaceRate(
        elapsed_s=elapsed,
        time_base=base,
        in_bps=in_bps,
        out_bps=out_bps,
        in_util_pct=utilisation_pct(in_bps, commit_rate_kbps),
        out_util_pct=utilisation_pct(out_bps, commit_rate_kbps),
        in_errors_per_s=errors_per_s(prev.in_errors, cur.in_errors),
        out_errors_per_s=errors_per_s(prev.out_errors, cur.out_errors),
        note="; ".join(dict.fromkeys(notes)) or None,
    )

"""Readiness of each room of a meeting, pure: the facts gathered for a room in, a verdict out.

A room is **ready** when nothing below holds; otherwise it is not ready with every reason that holds, each a
code with its parameters (the pages, the CLI and notifications translate ``mt_reason_<code>``):

- ``codec_silent``: the codec did not answer ICMP (then the call protocol is not judged separately);
- ``sip_busy`` (486), ``sip_unavailable`` (503), ``sip_failed`` (no answer or another code): the SIP OPTIONS
  answer, i.e. what an INVITE would get (RFC 3261 §11); ``h323_failed``: no TCP connect to the H.323 port;
- ``site_unreachable``: the site's router is UNREACHABLE behind a failed device upstream, named
  (``router``, ``district_router``); ``site_down``: the site's router itself is DOWN;
- ``link_saturated``: the site's uplink above the threshold (``pct`` of ``rate_mbps``, circuit ``cid``);
- ``mcu_down``: the meeting's MCU is DOWN, UNREACHABLE or silent (then every room is not ready).

:func:`compare` says what changed since the previous check, per endpoint: ``new`` (not in the previous
check, or no previous check), ``newly_not_ready``, ``recovered``, ``still_not_ready``, ``still_ready``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

NEW = "new"
NEWLY_NOT_READY = "newly_not_ready"
RECOVERED = "recovered"
STILL_NOT_READY = "still_not_ready"
STILL_READY = "still_ready"

SIP_BUSY = 486
SIP_UNAVAILABLE = 503


@dataclass(frozen=True)
class Uplink:
    """The site's router as the status engine sees it; ``root_cause`` names the failed device upstream."""

    router: str
    state: str  # engine state value: up, down, unreachable, unknown, maintenance
    root_cause: str | None = None


@dataclass(frozen=True)
class LinkLoad:
    """The latest utilisation of one uplink circuit against its committed rate."""

    cid: str
    pct: float
    commit_kbps: int


@dataclass(frozen=True)
class Mcu:
    name: str
    state: str | None  # engine state, None when never checked
    answered: bool | None = None  # this check's own ICMP probe of the MCU, None when not probed

    @property
    def down(self) -> bool:
        if self.answered is not None:
            return not self.answered
        return self.state in ("down", "unreachable")


@dataclass(frozen=True)
class RoomFacts:
    """Everything measured for one room at one check. ``codec_answered`` None = not probed (no address)."""

    endpoint_id: int
    device_name: str
    room: str
    site_name: str
    protocol: str
    codec_answered: bool | None
    sip_code: int | None = None
    call_answered: bool | None = None  # SIP answered at all / H.323 connected; None = not probed
    call_error: str = ""
    uplink: Uplink | None = None
    loads: Sequence[LinkLoad] = ()


@dataclass(frozen=True)
class Verdict:
    endpoint_id: int
    device_name: str
    room: str
    site_name: str
    ready: bool
    reasons: tuple[dict[str, Any], ...] = ()
    change: str = NEW

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(r["code"] for r in self.reasons)


@dataclass(frozen=True)
class Board:
    """One check's verdicts, not-ready rooms first, and its counters."""

    verdicts: tuple[Verdict, ...]
    mcu: Mcu
    ready: int = field(init=False)
    not_ready: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ready", sum(1 for v in self.verdicts if v.ready))
        object.__setattr__(self, "not_ready", sum(1 for v in self.verdicts if not v.ready))


def _call_reasons(f: RoomFacts) -> list[dict[str, Any]]:
    if f.protocol == "sip":
        if f.sip_code == SIP_BUSY:
            return [{"code": "sip_busy", "status": SIP_BUSY}]
        if f.sip_code == SIP_UNAVAILABLE:
            return [{"code": "sip_unavailable", "status": SIP_UNAVAILABLE}]
        if f.call_answered is False or (f.sip_code is not None and not 200 <= f.sip_code < 300):
            return [{"code": "sip_failed", "status": f.sip_code, "error": f.call_error}]
        return []
    if f.protocol == "h323" and f.call_answered is False:
        return [{"code": "h323_failed", "error": f.call_error}]
    return []


def room_reasons(f: RoomFacts, mcu: Mcu, saturation_pct: float) -> list[dict[str, Any]]:
    """Every reason the room is not ready (empty = ready), in a fixed order: codec, call, path, link, MCU."""
    reasons: list[dict[str, Any]] = []
    if f.codec_answered is False:
        reasons.append({"code": "codec_silent", "device": f.device_name})
    else:
        reasons += _call_reasons(f)
    if f.uplink is not None:
        if f.uplink.state == "unreachable":
            reasons.append({"code": "site_unreachable", "router": f.uplink.router,
                            "district_router": f.uplink.root_cause or "?"})
        elif f.uplink.state == "down":
            reasons.append({"code": "site_down", "router": f.uplink.router})
    for load in f.loads:
        if load.pct > saturation_pct:
            reasons.append({"code": "link_saturated", "cid": load.cid, "pct": round(load.pct, 1),
                            "rate_mbps": round(load.commit_kbps / 1000, 1)})
    if mcu.down:
        reasons.append({"code": "mcu_down", "mcu": mcu.name})
    return reasons


def change_of(ready: bool, previous: bool | None) -> str:
    """What changed for one room: ``previous`` is its readiness at the previous check (None: not there)."""
    if previous is None:
        return NEW
    if previous and not ready:
        return NEWLY_NOT_READY
    if not previous and ready:
        return RECOVERED
    return STILL_READY if ready else STILL_NOT_READY


def evaluate(rooms: Sequence[RoomFacts], mcu: Mcu, saturation_pct: float,
             previous: Mapping[int, bool] | None = None) -> Board:
    """The board of one check. ``previous``: endpoint id → ready at the previous check (None: first check)."""
    prev = previous or {}
    verdicts = []
    for f in rooms:
        reasons = room_reasons(f, mcu, saturation_pct)
        ready = not reasons
        verdicts.append(Verdict(f.endpoint_id, f.device_name, f.room, f.site_name, ready, tuple(reasons),
                                change_of(ready, prev.get(f.endpoint_id))))
    verdicts.sort(key=lambda v: (v.ready, v.site_name, v.room, v.device_name))
    return Board(tuple(verdicts), mcu)


def changes(board: Board) -> dict[str, list[Verdict]]:
    """The rooms that changed since the previous check: newly not ready, and recovered."""
    return {NEWLY_NOT_READY: [v for v in board.verdicts if v.change == NEWLY_NOT_READY],
            RECOVERED: [v for v in board.verdicts if v.change == RECOVERED]}

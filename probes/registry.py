"""Probe kind name → :class:`probes.plugin.ProbeKind`: the one list of kinds.

Configuration (``[probes.<kind>]`` sections), scheduling (one sweep job per kind), storage (measurements by
name), the pages (measurement labels) and the CLI (``probe --kind``) read it. Adding a kind is its module and
one line in :data:`KINDS`; :func:`register` adds one at run time (a test suite's own kind, a site plugin).
"""

from __future__ import annotations

from probes import discovery, dns, h323, http, icmp, sip, snmp, tcp
from probes.plugin import ProbeKind

KINDS: dict[str, ProbeKind] = {
    "icmp": icmp.KIND,
    "snmp": snmp.KIND,
    "tcp": tcp.KIND,
    "http": http.KIND,
    "dns": dns.KIND,
    "sip": sip.KIND,
    "h323": h323.KIND,
    "discovery": discovery.KIND,
}


def register(kind: ProbeKind) -> ProbeKind:
    """Add ``kind`` (or replace the one of the same name); returns it."""
    KINDS[kind.name] = kind
    return kind


def unregister(name: str) -> None:
    KINDS.pop(name, None)


def names() -> tuple[str, ...]:
    """Registered kind names, in registration order (the order sweeps and pages list them)."""
    return tuple(KINDS)


def get_kind(name: str) -> ProbeKind:
    try:
        return KINDS[name]
    except KeyError:
        raise KeyError(f"unknown probe kind {name!r}; known kinds: {', '.join(KINDS)}") from None


def order(name: str) -> int:
    """A kind's position in the registry (unknown kinds last, never an error)."""
    return list(KINDS).index(name) if name in KINDS else len(KINDS)

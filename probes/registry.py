"""Probe kind → prober. Adding a protocol is one module with ``probe()`` and one line here."""

from __future__ import annotations

from probes import http, icmp, snmp, tcp
from probes.base import Prober

PROBERS: dict[str, Prober] = {
    "icmp": icmp.probe,
    "snmp": snmp.probe,
    "tcp": tcp.probe,
    "http": http.probe,
}


def get_prober(kind: str) -> Prober:
    try:
        return PROBERS[kind]
    except KeyError:
        raise KeyError(f"unknown probe kind {kind!r}; known kinds: {', '.join(sorted(PROBERS))}") from None

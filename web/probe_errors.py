"""Probe error texts shown in the operator's language.

Probers (``probes/``) report a failure as one English sentence, stored as such in the results: it is what
the logs and the API carry. Pages show it through :func:`explain`, which recognises every sentence the
probers write (one pattern per message, parameters kept: port, count, code, source address) and renders the
translated text (catalogue keys ``perr_*``). A message no pattern knows is shown framed as "probe error:
…" with the original text, so nothing is hidden; a test lists every message the probers can write.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_ = r"\s*"
PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(rx, re.IGNORECASE), key) for rx, key in (
    # ICMP (probes/icmp.py, icmp_wire.py, icmp_socket.py)
    (r"^no reply to (?P<n>\d+) echo request\(s\) within (?P<s>[\d.]+)s$", "perr_icmp_no_reply"),
    (r"^destination unreachable \(code (?P<code>\d+)\) from (?P<source>\S+)$", "perr_icmp_unreachable"),
    (r"^time exceeded \(code (?P<code>\d+)\) from (?P<source>\S+)$", "perr_icmp_time_exceeded"),
    (r"^not an IP address: (?P<detail>.*)$", "perr_not_an_address"),
    (r"^ICMP dispatcher closed$", "perr_icmp_closed"),
    # TCP (probes/tcp.py)
    (r"^target has no TCP port$", "perr_no_port"),
    (r"^connect to port (?P<port>\d+) timed out$", "perr_tcp_timeout"),
    (r"^connect to port (?P<port>\d+) failed: connection refused$", "perr_tcp_refused"),
    (r"^connect to port (?P<port>\d+) failed: (?P<detail>.*)$", "perr_tcp_failed"),
    # HTTP (probes/http.py)
    (r"^target has no URL$", "perr_no_url"),
    (r"^HTTP status (?P<code>\d+)$", "perr_http_status"),
    (r"^no response within (?P<s>[\d.]+)s$", "perr_http_timeout"),
    (r"^(?:ConnectError|ConnectTimeout): (?P<detail>.*)$", "perr_http_connect"),
    (r"^(?:SSLError|SSLCertVerificationError)\b.*?: (?P<detail>.*)$", "perr_http_tls"),
    (r"^expected content (?P<content>.*) not in the response$", "perr_http_content"),
    # DNS (probes/dns.py)
    (r"^no (?P<type>\S+) record for (?P<name>\S+)(?: \(answer truncated\))?$", "perr_dns_nodata"),
    (r"^wrong answer for (?P<name>\S+) (?P<type>\S+): got (?P<got>.*), expected (?P<expected>.*)$", "perr_dns_wrong"),
    (r"^no answer from (?P<server>\S+) within (?P<s>[\d.]+)s$", "perr_dns_timeout"),
    (r"^malformed answer: (?P<detail>.*)$", "perr_dns_malformed"),
    (r"^(?:UDP|TCP|\d+) to (?P<server>\S+) failed: (?P<detail>.*)$", "perr_dns_failed"),
    (r"^(?P<rcode>NXDOMAIN|SERVFAIL|REFUSED|FORMERR|NOTIMP|RCODE \d+|\d+) for (?P<name>\S+) (?P<type>\S+)$",
     "perr_dns_rcode"),
    # SIP (probes/sip.py; H.323 in probes/h323.py writes the TCP sentences above)
    (r"^SIP busy: (?P<code>\d+) ?(?P<reason>.*)$", "perr_sip_busy"),
    (r"^SIP unavailable: (?P<code>\d+) ?(?P<reason>.*)$", "perr_sip_unavailable"),
    (r"^SIP answered (?P<code>\d+) ?(?P<reason>.*)$", "perr_sip_answered"),
    (r"^no answer after (?P<n>\d+) transmissions to (?P<where>\S+)$", "perr_sip_no_answer"),
    (r"^no final answer after (?P<n>\d+) transmissions to (?P<where>\S+) \(only (?P<code>\d+) ?(?P<reason>.*)\)$",
     "perr_sip_no_final"),
    (r"^no answer over TCP from (?P<where>\S+) within (?P<s>[\d.]+)s$", "perr_sip_tcp_no_answer"),
    (r"^no final answer over TCP from (?P<where>\S+) within (?P<s>[\d.]+)s \(only (?P<code>\d+) ?(?P<reason>.*)\)$",
     "perr_sip_tcp_no_final"),
    (r"^(?P<where>\S+) closed the TCP connection before a final answer$", "perr_sip_closed"),
    (r"^SIP over (?P<transport>\S+) to (?P<where>\S+) failed: (?P<detail>.*)$", "perr_sip_failed"),
    (r"^unreadable SIP stream from (?P<where>\S+): (?P<detail>.*)$", "perr_sip_stream"),
    (r"^transport (?P<transport>\S+) is not one this prober speaks \(udp, tcp\)$", "perr_sip_transport"),
    # SNMP (probes/snmp.py, snmp_session.py; pysnmp's own indications)
    (r"^target has no SNMP credentials$", "perr_snmp_no_credentials"),
    (r"^no answer$", "perr_snmp_no_answer"),
    (r"^(?:walk \S+: )?No SNMP response received before timeout$", "perr_snmp_timeout"),
    (r"^(?:walk \S+: )?.*(?:unknown ?user ?name|Unknown USM user).*$", "perr_snmp_unknown_user"),
    (r"^(?:walk \S+: )?.*(?:wrong ?digest|Wrong SNMP PDU digest).*$", "perr_snmp_auth"),
    (r"^(?:walk \S+: )?.*(?:decryption ?error|Ciphering services not available).*$", "perr_snmp_priv"),
    (r"^(?:walk \S+: )?agent error-status (?P<code>\d+).*$", "perr_snmp_error_status"),
    (r"^agent answered without sysUpTime$", "perr_snmp_no_uptime"),
    (r"^agent has no system group \(sysName, sysObjectID, sysDescr\)$", "perr_snmp_no_system"),
    (r"^(?:walk \S+: )?agent returned a non-increasing OID$", "perr_snmp_bad_walk"),
    (r"^agent answered (?P<got>\d+) varbinds for (?P<asked>\d+)$", "perr_snmp_short_answer"),
    (r"^send failed: (?P<detail>.*)$", "perr_send_failed"),
    # any prober (probes/sweep.py and the probers' own guards)
    (r"^deadline exceeded while polling interfaces$", "perr_deadline_interfaces"),
    (r"^deadline exceeded while walking tables$", "perr_deadline_tables"),
    (r"^deadline exceeded$", "perr_deadline"),
    (r"^prober overran its deadline$", "perr_overran"),
    (r"^(?:prober raised|internal error): (?P<detail>.*)$", "perr_internal"),
))


def match(text: str) -> tuple[str, dict[str, str]] | None:
    """The catalogue key and parameters of a prober's message, or None when no pattern knows it."""
    text = text.strip()
    for pattern, key in PATTERNS:
        m = pattern.match(text)
        if m:
            return key, {k: v for k, v in m.groupdict().items() if v is not None}
    return None


def explain(t: Callable[..., str], text: str | None) -> str:
    """``text`` (a prober's English sentence) in the language of ``t``; empty for no error."""
    if not text:
        return ""
    found = match(text)
    if found is None:
        return t("perr_other", detail=text)
    key, params = found
    return t(key, **params)

"""SIP messages for the OPTIONS prober, written and read by hand (RFC 3261 §7, §8.1.1, §11, §20).

:func:`build_options` writes one OPTIONS request (Via with a fresh ``z9hG4bK`` branch and ``rport``,
Max-Forwards 70, To, From with a tag, Call-ID, CSeq, Contact, Accept application/sdp, Content-Length 0).
:func:`parse_response` reads one response robustly: header names case-insensitive, compact forms (``v:``,
``i:``, ``l:`` …) expanded, folded header lines (a line starting with a space or tab continues the previous
one) joined, LF-only line ends accepted. Anything that is not a SIP/2.0 response gives ``None``, never an
exception. :class:`StreamFramer` cuts a TCP byte stream into messages by Content-Length (§18.3).
:func:`answers` tells whether a response belongs to the request (same Call-ID, top Via branch and CSeq).
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from dataclasses import dataclass, field

MAX_MESSAGE = 65_535
BRANCH_COOKIE = "z9hG4bK"
# RFC 3261 §7.3.3 compact forms (and RFC 3515/3841/4028 ones endpoints send)
COMPACT = {"i": "call-id", "m": "contact", "e": "content-encoding", "l": "content-length", "c": "content-type",
           "f": "from", "s": "subject", "k": "supported", "t": "to", "v": "via", "o": "event", "r": "refer-to",
           "b": "referred-by", "u": "allow-events", "a": "accept-contact", "j": "reject-contact",
           "d": "request-disposition", "x": "session-expires", "y": "identity", "n": "identity-info"}
_STATUS = re.compile(r"^SIP/2\.0\s+([1-6]\d\d)(?:\s+(.*))?$", re.IGNORECASE)
_TOKEN = re.compile(r"^[A-Za-z0-9.!%*_+`'~-]+$")
_SIP_URI = re.compile(r"^(sips?):(?:[^@;?\s]+@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?(;[^?]*)?(\?.*)?$",
                      re.IGNORECASE)


@dataclass(frozen=True)
class SipUri:
    """What the prober needs of a SIP URI: scheme, host, explicit port (or None) and its ``transport`` param."""

    scheme: str
    host: str
    port: int | None
    transport: str | None


@dataclass(frozen=True)
class Request:
    """An OPTIONS request and what identifies its answers."""

    data: bytes
    call_id: str
    branch: str
    cseq: int


@dataclass
class Response:
    """One parsed response: status, reason phrase, headers (lower-case full names, values in order)."""

    code: int
    reason: str
    headers: dict[str, list[str]] = field(default_factory=dict)

    def header(self, name: str) -> str:
        """The first value of header ``name`` (full or compact name), '' when absent."""
        values = self.headers.get(COMPACT.get(name.lower(), name.lower()), [])
        return values[0] if values else ""


def parse_uri(text: str) -> SipUri | None:
    """A ``sip:``/``sips:`` URI's parts, or None when ``text`` is not one."""
    m = _SIP_URI.match(text.strip())
    if m is None:
        return None
    scheme, host, port_text, params = m.group(1).lower(), m.group(2), m.group(3), m.group(4) or ""
    port = int(port_text) if port_text else None
    if port is not None and not 1 <= port <= 65535:
        return None
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return None
    transport = None
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "transport":
            transport = value.strip().lower()
    return SipUri(scheme, host, port, transport)


def host_of(address: str) -> str:
    """An address as a URI/Via host (IPv6 in brackets)."""
    return f"[{address}]" if ":" in address and not address.startswith("[") else address


def new_token(nbytes: int = 8) -> str:
    return secrets.token_hex(nbytes)


def build_options(request_uri: str, *, transport: str, local_host: str, local_port: int, from_uri: str,
                  user_agent: str, cseq: int = 1, call_id: str | None = None, branch: str | None = None) -> Request:
    """One OPTIONS request to ``request_uri`` sent from ``local_host:local_port`` over ``transport``."""
    branch = branch or BRANCH_COOKIE + new_token()
    call_id = call_id or f"{new_token(12)}@{local_host.strip('[]')}"
    contact = f"<sip:{local_host}:{local_port};transport={transport.lower()}>"
    lines = [
        f"OPTIONS {request_uri} SIP/2.0",
        f"Via: SIP/2.0/{transport.upper()} {local_host}:{local_port};branch={branch};rport",
        "Max-Forwards: 70",
        f"To: <{request_uri}>",
        f"From: <{from_uri}>;tag={new_token(6)}",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} OPTIONS",
        f"Contact: {contact}",
        "Accept: application/sdp",
        f"User-Agent: {user_agent}",
        "Content-Length: 0",
    ]
    return Request(("\r\n".join(lines) + "\r\n\r\n").encode("utf-8"), call_id, branch, cseq)


def _header_lines(head: str) -> list[str]:
    """Header lines with folded continuations joined (RFC 3261 §7.3.1)."""
    out: list[str] = []
    for line in head.split("\n"):
        line = line.rstrip("\r")
        if not line:
            continue
        if line[0] in " \t":
            if out:
                out[-1] += " " + line.strip()
            continue
        out.append(line)
    return out


def _split_head(data: bytes) -> tuple[bytes, bytes] | None:
    """(head, rest after the blank line), or None when no blank line ends the head."""
    match = re.search(rb"\r?\n\r?\n", data)
    if match is None:
        return None
    return data[:match.start()], data[match.end():]


def _comma_values(name: str, value: str) -> list[str]:
    """Via and a few others may combine several values in one line: split on commas outside <> and quotes."""
    if name not in ("via", "contact", "route", "record-route"):
        return [value.strip()]
    parts: list[str] = []
    current: list[str] = []
    depth, quoted = 0, False
    for ch in value:
        if ch == '"':
            quoted = not quoted
        elif ch == "<" and not quoted:
            depth += 1
        elif ch == ">" and not quoted:
            depth = max(0, depth - 1)
        if ch == "," and depth == 0 and not quoted:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(ch)
    parts.append("".join(current).strip())
    return [p for p in parts if p]


def parse_response(data: bytes) -> Response | None:
    """The response in ``data`` (one datagram or one framed stream message), None when it is not one."""
    if not data or len(data) > MAX_MESSAGE:
        return None
    split = _split_head(data.lstrip(b"\r\n"))
    head_bytes = split[0] if split is not None else data.lstrip(b"\r\n")
    head = head_bytes.decode("utf-8", "replace")
    lines = _header_lines(head)
    if not lines:
        return None
    status = _STATUS.match(lines[0].strip())
    if status is None:
        return None
    response = Response(int(status.group(1)), (status.group(2) or "").strip())
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        name = name.strip().lower()
        if not sep or not _TOKEN.match(name):
            continue  # a malformed header line is skipped, not fatal
        full = COMPACT.get(name, name)
        response.headers.setdefault(full, []).extend(_comma_values(full, value))
    return response


def _param(value: str, name: str) -> str:
    for part in value.split(";")[1:]:
        key, _, val = part.partition("=")
        if key.strip().lower() == name:
            return val.strip()
    return ""


def answers(response: Response, request: Request) -> bool:
    """Whether ``response`` answers ``request``: same Call-ID, top Via branch and CSeq number/method (§17.1.3)."""
    if response.header("call-id").strip() != request.call_id:
        return False
    via = response.header("via")
    if _param(via, "branch") != request.branch:
        return False
    number, _, method = response.header("cseq").strip().partition(" ")
    return number.strip() == str(request.cseq) and method.strip().upper() == "OPTIONS"


def content_length(response_head: bytes) -> int | None:
    """Content-Length (or ``l``) of a message head; None when absent or not a number."""
    for line in _header_lines(response_head.decode("utf-8", "replace"))[1:]:
        name, _, value = line.partition(":")
        if COMPACT.get(name.strip().lower(), name.strip().lower()) == "content-length":
            text = value.strip()
            return int(text) if text.isdigit() else None
    return None


class StreamFramer:
    """Cuts a TCP byte stream into SIP messages (head + Content-Length body); keep-alive CRLFs skipped."""

    def __init__(self) -> None:
        self.buffer = b""

    def feed(self, data: bytes) -> list[bytes]:
        """Messages completed by ``data``; raises ValueError on a stream that cannot be framed."""
        self.buffer += data
        out: list[bytes] = []
        while True:
            self.buffer = self.buffer.lstrip(b"\r\n")
            split = _split_head(self.buffer)
            if split is None:
                if len(self.buffer) > MAX_MESSAGE:
                    raise ValueError("message head longer than 64 KiB")
                return out
            head, rest = split
            length = content_length(head)
            if length is None:
                length = 0  # §18.3 requires it over TCP; a peer that omits it sent no body we could frame
            if len(rest) < length:
                return out
            out.append(head + b"\r\n\r\n" + rest[:length])
            self.buffer = rest[length:]

"""ICMP on the wire: opening and filtering the sockets, echo requests, parsing replies and errors.

Used by ``probes.icmp_socket``'s dispatcher. A raw IPv4 socket gets a classic BPF filter (echo
replies carrying our ICMP id, unreachable, time exceeded), a raw IPv6 socket an ICMP6_FILTER, so
the host's other ICMP traffic never reaches Python. Both get a large receive buffer and kernel
receive timestamps (SO_TIMESTAMPNS). Echo requests are checksummed with ``ping3.checksum``; the
kernel checksums ICMPv6 itself.
"""

from __future__ import annotations

import ctypes
import logging
import socket
import struct
import sys
import time

import ping3

log = logging.getLogger(__name__)

_LINUX = sys.platform.startswith("linux")
_SO_TIMESTAMPNS = 35  # == SCM_TIMESTAMPNS (asm-generic/socket.h)
_SO_ATTACH_FILTER = 26
_SO_RCVBUFFORCE = 33
_SOL_RAW = 255
_ICMP_FILTER = 1
_ICMP6_FILTER = 1
_RCVBUF_BYTES = 8 * 1024 * 1024
_TIMESPEC = struct.Struct("@ll")
ANCBUF = socket.CMSG_SPACE(_TIMESPEC.size) if hasattr(socket, "CMSG_SPACE") else 0
_HEADER = struct.Struct("!BBHHHQ")  # type, code, checksum, id, seq, serial (start of payload)
_ID_SEQ_SERIAL = struct.Struct("!HHQ")
_ID_SEQ = struct.Struct("!HH")

ECHO_REQUEST: dict[int, int] = {socket.AF_INET: 8, socket.AF_INET6: 128}
_V4_ERRORS = {3: "destination unreachable", 11: "time exceeded"}
_V6_ERRORS = {1: "destination unreachable", 3: "time exceeded"}

# parse() results: ("reply", (source, seq), ident, serial) or ("error", (target, seq), ident, text)
Parsed = tuple[str, tuple[str, int], int, int | str]


def open_socket(family: int, modes: tuple[str, ...], ident: int) -> tuple[socket.socket, bool]:
    """A non-blocking ICMP socket of ``family``: raw if allowed, else unprivileged dgram.

    Returns (socket, is_raw); raises OSError saying what was tried when neither can be opened.
    """
    proto = socket.IPPROTO_ICMP if family == socket.AF_INET else socket.IPPROTO_ICMPV6
    errors = []
    for kind, raw in ((socket.SOCK_RAW, True), (socket.SOCK_DGRAM, False)):
        if ("raw" if raw else "dgram") not in modes:
            continue
        try:
            sock = socket.socket(family, kind, proto)
        except OSError as exc:
            errors.append(f"{'raw' if raw else 'dgram'}: {exc.strerror or exc}")
            continue
        _configure(sock, family, raw, ident)
        return sock, raw
    raise OSError("no ICMP socket (" + "; ".join(errors) + "): run as root/CAP_NET_RAW or widen "
                  "net.ipv4.ping_group_range")


def _configure(sock: socket.socket, family: int, raw: bool, ident: int) -> None:
    sock.setblocking(False)
    if not _LINUX:
        return
    try:
        sock.setsockopt(socket.SOL_SOCKET, _SO_RCVBUFFORCE, _RCVBUF_BYTES)
    except OSError:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _RCVBUF_BYTES)
    try:
        sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
    except OSError:
        log.warning("event=icmp_no_kernel_timestamps")
    if not raw:
        return
    try:
        if family == socket.AF_INET:
            _attach_bpf(sock, _bpf_echo_reply_or_error(ident))
        else:
            blocked = [0xFFFFFFFF] * 8  # ICMP6_FILTER: a set bit blocks that type
            for allowed in (1, 3, 129):
                blocked[allowed >> 5] &= ~(1 << (allowed & 31))
            sock.setsockopt(socket.IPPROTO_ICMPV6, _ICMP6_FILTER, struct.pack("8I", *blocked))
    except OSError as exc:
        log.warning("event=icmp_filter_failed error=%r", exc)
        if family == socket.AF_INET:
            allowed_mask = (1 << 0) | (1 << 3) | (1 << 11)
            sock.setsockopt(_SOL_RAW, _ICMP_FILTER, struct.pack("I", ~allowed_mask & 0xFFFFFFFF))


def _bpf_echo_reply_or_error(ident: int) -> bytes:
    """Classic BPF for a raw IPv4 ICMP socket: echo replies with our id, unreachable, time exceeded."""
    ins = struct.Struct("HBBI")
    prog = [
        (0xB1, 0, 0, 0),  # ldxb 4*([0]&0xf)      X = IP header length
        (0x50, 0, 0, 0),  # ldb [x+0]             A = ICMP type
        (0x15, 0, 2, 0),  # jeq #0 (echo reply)   -> 3 else 5
        (0x48, 0, 0, 4),  # ldh [x+4]             A = ICMP id
        (0x15, 3, 4, ident),  # jeq #ident        -> 8 accept else 9 drop
        (0x15, 2, 0, 3),  # jeq #3 (unreachable)  -> 8
        (0x15, 1, 0, 11),  # jeq #11 (time exceeded) -> 8
        (0x06, 0, 0, 0),  # ret #0
        (0x06, 0, 0, 0x40000),  # ret #262144 (accept)
        (0x06, 0, 0, 0),  # ret #0
    ]
    return b"".join(ins.pack(*i) for i in prog)


def _attach_bpf(sock: socket.socket, code: bytes) -> None:
    buf = ctypes.create_string_buffer(code)
    fprog = struct.pack("HL", len(code) // 8, ctypes.addressof(buf))
    sock.setsockopt(socket.SOL_SOCKET, _SO_ATTACH_FILTER, fprog)


def echo_request(family: int, ident: int, seq: int, serial: int, size: int) -> bytearray:
    """An echo request whose payload starts with ``serial`` and is ``size`` bytes long (min 8)."""
    packet = bytearray(_HEADER.pack(ECHO_REQUEST[family], 0, 0, ident, seq, serial))
    if size > 8:
        packet += b"\x5a" * (size - 8)
    if family == socket.AF_INET:
        packet[2:4] = struct.pack("<H", ping3.checksum(bytes(packet)))
    return packet


def receive_time(ancdata: list[tuple[int, int, bytes]]) -> float:
    """Kernel receive timestamp (wall clock) from recvmsg's ancillary data, else now."""
    for level, kind, cdata in ancdata:
        if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS and len(cdata) >= _TIMESPEC.size:
            sec, nsec = _TIMESPEC.unpack_from(cdata)
            return float(sec + nsec * 1e-9)
    return time.time()


def parse(family: int, raw: bool, data: bytes, source: str) -> Parsed | None:
    """What an ICMP packet says about one of our requests (None: not an answer to an echo).

    Raw IPv4 data starts with the IP header; dgram and IPv6 data start with the ICMP header.
    Errors (unreachable, time exceeded) quote the request: they name its target and seq.
    """
    if family == socket.AF_INET:
        off = (data[0] & 0x0F) << 2 if raw else 0
        icmp_type = data[off]
        if icmp_type == 0:
            ident, seq, serial = _ID_SEQ_SERIAL.unpack_from(data, off + 4)
            return "reply", (source, seq), ident, serial
        if icmp_type in _V4_ERRORS and raw:
            inner = off + 8
            inner_icmp = inner + ((data[inner] & 0x0F) << 2)
            if data[inner_icmp] != 8:
                return None
            ident, seq = _ID_SEQ.unpack_from(data, inner_icmp + 4)
            target = socket.inet_ntoa(data[inner + 16 : inner + 20])
            return "error", (target, seq), ident, f"{_V4_ERRORS[icmp_type]} (code {data[off + 1]}) from {source}"
        return None
    icmp_type = data[0]
    if icmp_type == 129:
        ident, seq, serial = _ID_SEQ_SERIAL.unpack_from(data, 4)
        return "reply", (source, seq), ident, serial
    if icmp_type in _V6_ERRORS and raw and data[48] == 128:
        ident, seq = _ID_SEQ.unpack_from(data, 52)
        target = socket.inet_ntop(socket.AF_INET6, data[8 + 24 : 8 + 40])
        return "error", (target, seq), ident, f"{_V6_ERRORS[icmp_type]} (code {data[1]}) from {source}"
    return None

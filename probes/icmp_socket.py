"""One ICMP socket per address family and event loop, shared by every ping of a ProbeContext.

Why not ``ping3.ping()`` per target (verified on this host): it opens a raw socket per call and
every raw socket receives a copy of every ICMP packet on the host (CPU quadratic in concurrency);
its ICMP id comes from the thread id (collides), every call uses seq 0 and the reply's source is
never checked, so a late reply to an earlier ping answers the next one (a dead host reported up);
and it raises OSError despite ``EXCEPTIONS=False``.

So the dispatcher here opens one raw socket (IPv4, IPv6 on first v6 target) registered with the
loop (``add_reader``), falls back to an unprivileged ``SOCK_DGRAM`` ICMP socket when raw sockets
are refused and ``net.ipv4.ping_group_range`` allows it, paces every send (``send_interval_s``,
like ``fping -i``) and matches replies on (source address, seq) plus a random per-dispatcher ICMP
id (raw sockets) and a 64-bit serial in the payload. A reply counts only while its request is
outstanding: once expired, the request is forgotten and a late reply is dropped. Packets are
checksummed with ``ping3.checksum``; receive times come from kernel timestamps (SO_TIMESTAMPNS).
"""

from __future__ import annotations

import asyncio
import ctypes
import ipaddress
import logging
import random
import socket
import struct
import sys
import time
from dataclasses import dataclass, field

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
_ANCBUF = socket.CMSG_SPACE(_TIMESPEC.size) if hasattr(socket, "CMSG_SPACE") else 0
_HEADER = struct.Struct("!BBHHHQ")  # type, code, checksum, id, seq, serial (start of payload)
_ID_SEQ_SERIAL = struct.Struct("!HHQ")
_ID_SEQ = struct.Struct("!HH")

ECHO_REQUEST: dict[int, int] = {socket.AF_INET: 8, socket.AF_INET6: 128}
_V4_ERRORS = {3: "destination unreachable", 11: "time exceeded"}
_V6_ERRORS = {1: "destination unreachable", 3: "time exceeded"}

PingOutcome = tuple[float | None, str | None]  # (rtt seconds, error); (None, None) = timed out


@dataclass(eq=False)
class PingHandle:
    """One echo request in flight; ``await dispatcher.wait(handle)`` gives its outcome."""

    key: tuple[str, int]
    serial: int
    sent_wall: float
    future: asyncio.Future[PingOutcome]
    timer: asyncio.TimerHandle | None = None
    family: int = socket.AF_INET


@dataclass(eq=False)
class _FamilySocket:
    sock: socket.socket
    raw: bool
    family: int
    pending: dict[tuple[str, int], PingHandle] = field(default_factory=dict)


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


class IcmpDispatcher:
    """Paced echo requests and reply matching on one socket per family (see module docstring)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, modes: tuple[str, ...] = ("raw", "dgram")) -> None:
        self._loop = loop
        self._modes = modes
        self.ident = random.getrandbits(16)
        self._seq = random.getrandbits(16)
        self._serial = random.getrandbits(63)
        self._next_slot = 0.0
        self._sockets: dict[int, _FamilySocket] = {}
        self._open_errors: dict[int, str] = {}
        self._closed = False
        self._addr_cache: dict[str, tuple[str, int]] = {}

    # -- sockets -------------------------------------------------------------------------------
    def mode(self, family: int = socket.AF_INET) -> str:
        """"raw", "dgram" or "unavailable: <why>" for ``family`` (opens the socket if needed)."""
        fs = self._socket(family)
        if fs is None:
            return f"unavailable: {self._open_errors[family]}"
        return "raw" if fs.raw else "dgram"

    def _socket(self, family: int) -> _FamilySocket | None:
        fs = self._sockets.get(family)
        if fs is not None or family in self._open_errors:
            return fs
        proto = socket.IPPROTO_ICMP if family == socket.AF_INET else socket.IPPROTO_ICMPV6
        errors = []
        for kind, raw in ((socket.SOCK_RAW, True), (socket.SOCK_DGRAM, False)):
            if ("raw" if raw else "dgram") not in self._modes:
                continue
            try:
                sock = socket.socket(family, kind, proto)
            except OSError as exc:
                errors.append(f"{'raw' if raw else 'dgram'}: {exc.strerror or exc}")
                continue
            self._configure(sock, family, raw)
            fs = _FamilySocket(sock=sock, raw=raw, family=family)
            self._sockets[family] = fs
            self._loop.add_reader(sock.fileno(), self._on_readable, fs)
            log.info("event=icmp_socket_open family=%s mode=%s ident=%d",
                     "ipv4" if family == socket.AF_INET else "ipv6", "raw" if raw else "dgram", self.ident)
            return fs
        self._open_errors[family] = (
            "no ICMP socket (" + "; ".join(errors) + "): run as root/CAP_NET_RAW or widen "
            "net.ipv4.ping_group_range"
        )
        log.error("event=icmp_socket_unavailable reason=%r", self._open_errors[family])
        return None

    def _configure(self, sock: socket.socket, family: int, raw: bool) -> None:
        sock.setblocking(False)
        if _LINUX:
            try:
                sock.setsockopt(socket.SOL_SOCKET, _SO_RCVBUFFORCE, _RCVBUF_BYTES)
            except OSError:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _RCVBUF_BYTES)
            try:
                sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
            except OSError:
                log.warning("event=icmp_no_kernel_timestamps")
        if not raw or not _LINUX:
            return
        try:
            if family == socket.AF_INET:
                _attach_bpf(sock, _bpf_echo_reply_or_error(self.ident))
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

    def _parse_address(self, address: str) -> tuple[str, int]:
        cached = self._addr_cache.get(address)
        if cached is None:
            ip = ipaddress.ip_address(address)
            cached = (str(ip), socket.AF_INET if ip.version == 4 else socket.AF_INET6)
            if len(self._addr_cache) < 1_000_000:
                self._addr_cache[address] = cached
        return cached

    # -- sending -------------------------------------------------------------------------------
    async def send(
        self, address: str, timeout_s: float, send_interval_s: float = 0.001, size: int = 56
    ) -> PingHandle:
        """Send one echo request in this dispatcher's next pacing slot; never raises for I/O."""
        future: asyncio.Future[PingOutcome] = self._loop.create_future()
        try:
            addr, family = self._parse_address(address)
        except ValueError:
            future.set_result((None, f"not an IP address: {address!r}"))
            return PingHandle(key=(address, -1), serial=0, sent_wall=time.time(), future=future)
        fs = self._socket(family)
        if fs is None or self._closed:
            future.set_result((None, self._open_errors.get(family, "ICMP dispatcher closed")))
            return PingHandle(key=(addr, -1), serial=0, sent_wall=time.time(), future=future)

        now = self._loop.time()
        slot = max(self._next_slot, now)
        self._next_slot = slot + send_interval_s
        if slot > now:
            await asyncio.sleep(slot - now)

        seq = self._seq = (self._seq + 1) & 0xFFFF
        while (addr, seq) in fs.pending:
            seq = self._seq = (self._seq + 1) & 0xFFFF
        serial = self._serial = (self._serial + 1) & 0xFFFFFFFFFFFFFFFF
        packet = bytearray(_HEADER.pack(ECHO_REQUEST[family], 0, 0, self.ident, seq, serial))
        if size > 8:
            packet += b"\x5a" * (size - 8)
        if family == socket.AF_INET:  # the kernel checksums ICMPv6 itself
            packet[2:4] = struct.pack("<H", ping3.checksum(bytes(packet)))
        handle = PingHandle(key=(addr, seq), serial=serial, sent_wall=time.time(), future=future,
                            family=family)
        fs.pending[handle.key] = handle
        try:
            fs.sock.sendto(packet, (addr, 0))
        except BlockingIOError:
            try:
                await self._loop.sock_sendto(fs.sock, packet, (addr, 0))
            except OSError as exc:
                self._fail(fs, handle, f"send failed: {exc.strerror or exc}")
                return handle
        except OSError as exc:
            self._fail(fs, handle, f"send failed: {exc.strerror or exc}")
            return handle
        handle.timer = self._loop.call_later(timeout_s, self._expire, fs, handle)
        return handle

    def _fail(self, fs: _FamilySocket, handle: PingHandle, error: str) -> None:
        fs.pending.pop(handle.key, None)
        if not handle.future.done():
            handle.future.set_result((None, error))

    def _expire(self, fs: _FamilySocket, handle: PingHandle) -> None:
        if fs.pending.get(handle.key) is handle:
            del fs.pending[handle.key]
        if not handle.future.done():
            handle.future.set_result((None, None))

    async def wait(self, handle: PingHandle) -> PingOutcome:
        """The outcome of ``handle``: (rtt, None), (None, None) on timeout, (None, error)."""
        try:
            return await handle.future
        finally:
            self.discard(handle)

    def discard(self, handle: PingHandle) -> None:
        """Forget ``handle`` (deadline or cancellation): a reply arriving later is ignored."""
        fs = self._sockets.get(handle.family)
        if fs is not None and fs.pending.get(handle.key) is handle:
            del fs.pending[handle.key]
        if handle.timer is not None:
            handle.timer.cancel()
        if not handle.future.done():
            handle.future.cancel()

    # -- receiving -----------------------------------------------------------------------------
    def _on_readable(self, fs: _FamilySocket) -> None:
        sock = fs.sock
        for _ in range(10_000):
            try:
                data, ancdata, _flags, src = sock.recvmsg(2048, _ANCBUF)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                log.warning("event=icmp_recv_error error=%r", exc)
                return
            rx_wall = None
            for level, kind, cdata in ancdata:
                if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS and len(cdata) >= _TIMESPEC.size:
                    sec, nsec = _TIMESPEC.unpack_from(cdata)
                    rx_wall = sec + nsec * 1e-9
            if rx_wall is None:
                rx_wall = time.time()
            source = src[0].split("%", 1)[0]
            try:
                if fs.family == socket.AF_INET:
                    self._handle_v4(fs, data, source, rx_wall)
                else:
                    self._handle_v6(fs, data, source, rx_wall)
            except (struct.error, IndexError, ValueError, OSError):
                continue  # truncated or foreign packet

    def _handle_v4(self, fs: _FamilySocket, data: bytes, source: str, rx_wall: float) -> None:
        off = (data[0] & 0x0F) << 2 if fs.raw else 0
        icmp_type = data[off]
        if icmp_type == 0:
            ident, seq, serial = _ID_SEQ_SERIAL.unpack_from(data, off + 4)
            if fs.raw and ident != self.ident:
                return
            self._resolve(fs, (source, seq), serial, rx_wall)
        elif icmp_type in _V4_ERRORS and fs.raw:
            inner = off + 8
            inner_dst = socket.inet_ntoa(data[inner + 16 : inner + 20])
            inner_icmp = inner + ((data[inner] & 0x0F) << 2)
            if data[inner_icmp] != 8:
                return
            ident, seq = _ID_SEQ.unpack_from(data, inner_icmp + 4)
            if ident == self.ident:
                self._error(fs, (inner_dst, seq), f"{_V4_ERRORS[icmp_type]} (code {data[off + 1]}) "
                            f"from {source}")

    def _handle_v6(self, fs: _FamilySocket, data: bytes, source: str, rx_wall: float) -> None:
        icmp_type = data[0]
        if icmp_type == 129:
            ident, seq, serial = _ID_SEQ_SERIAL.unpack_from(data, 4)
            if fs.raw and ident != self.ident:
                return
            self._resolve(fs, (source, seq), serial, rx_wall)
        elif icmp_type in _V6_ERRORS and fs.raw:
            inner_dst = socket.inet_ntop(socket.AF_INET6, data[8 + 24 : 8 + 40])
            if data[48] != 128:
                return
            ident, seq = _ID_SEQ.unpack_from(data, 52)
            if ident == self.ident:
                self._error(fs, (inner_dst, seq), f"{_V6_ERRORS[icmp_type]} (code {data[1]}) from {source}")

    def _resolve(self, fs: _FamilySocket, key: tuple[str, int], serial: int, rx_wall: float) -> None:
        handle = fs.pending.get(key)
        if handle is None or handle.serial != serial:
            return  # late (expired), duplicate, or not ours
        del fs.pending[key]
        if handle.timer is not None:
            handle.timer.cancel()
        if not handle.future.done():
            handle.future.set_result((max(rx_wall - handle.sent_wall, 0.0), None))

    def _error(self, fs: _FamilySocket, key: tuple[str, int], error: str) -> None:
        handle = fs.pending.pop(key, None)
        if handle is None:
            return
        if handle.timer is not None:
            handle.timer.cancel()
        if not handle.future.done():
            handle.future.set_result((None, error))

    def close(self) -> None:
        self._closed = True
        for fs in self._sockets.values():
            self._loop.remove_reader(fs.sock.fileno())
            for handle in list(fs.pending.values()):
                if handle.timer is not None:
                    handle.timer.cancel()
                if not handle.future.done():
                    handle.future.set_result((None, "ICMP dispatcher closed"))
            fs.pending.clear()
            fs.sock.close()
        self._sockets.clear()

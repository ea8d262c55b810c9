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
outstanding: once expired, the request is forgotten and a late reply is dropped. Socket setup and
packet formats live in ``probes.icmp_wire``.
"""

from __future__ import annotations

import asyncio
import collections
import heapq
import ipaddress
import logging
import random
import socket
import struct
import time
from dataclasses import dataclass, field

from probes.icmp_wire import ANCBUF, echo_request, open_socket, parse, receive_time

log = logging.getLogger(__name__)

_EARLY_S = 0.0001  # a timer may fire this much before its time: count it as due
_CATCH_UP_S = 0.005  # after a loop stall, send at most this much backlog back to back

PingOutcome = tuple[float | None, str | None]  # (rtt seconds, error); (None, None) = timed out


@dataclass(eq=False)
class PingHandle:
    """One echo request, queued then in flight; ``await handle.future`` gives its outcome."""

    address: str
    family: int
    timeout_s: float
    interval_s: float
    size: int
    future: asyncio.Future[PingOutcome]
    key: tuple[str, int] | None = None  # (address, seq) once sent
    serial: int = 0
    sent_wall: float = 0.0
    expires_at: float = 0.0


@dataclass(eq=False)
class _FamilySocket:
    sock: socket.socket
    raw: bool
    family: int
    pending: dict[tuple[str, int], PingHandle] = field(default_factory=dict)


class IcmpDispatcher:
    """Paced echo requests and reply matching on one socket per family (see module docstring)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, modes: tuple[str, ...] = ("raw", "dgram")) -> None:
        self._loop = loop
        self._modes = modes
        self.ident = random.getrandbits(16)
        self._seq = random.getrandbits(16)
        self._serial = random.getrandbits(63)
        self._next_slot = 0.0
        self._queue: list[tuple[float, int, PingHandle]] = []  # heap: (not before, order, handle)
        self._order = 0
        self._pacer: asyncio.TimerHandle | None = None
        self._pacer_at = 0.0
        self._blocked_fd: int | None = None
        self._expiry: dict[float, collections.deque[PingHandle]] = {}
        self._expiry_timers: dict[float, asyncio.TimerHandle] = {}
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
        try:
            sock, raw = open_socket(family, self._modes, self.ident)
        except OSError as exc:
            self._open_errors[family] = str(exc)
            log.error("event=icmp_socket_unavailable reason=%r", self._open_errors[family])
            return None
        fs = self._sockets[family] = _FamilySocket(sock=sock, raw=raw, family=family)
        self._loop.add_reader(sock.fileno(), self._on_readable, fs)
        log.info("event=icmp_socket_open family=%s mode=%s ident=%d",
                 "ipv4" if family == socket.AF_INET else "ipv6", "raw" if raw else "dgram", self.ident)
        return fs

    def _parse_address(self, address: str) -> tuple[str, int]:
        cached = self._addr_cache.get(address)
        if cached is None:
            ip = ipaddress.ip_address(address)
            cached = (str(ip), socket.AF_INET if ip.version == 4 else socket.AF_INET6)
            if len(self._addr_cache) < 1_000_000:
                self._addr_cache[address] = cached
        return cached

    # -- sending -------------------------------------------------------------------------------
    def submit(self, address: str, timeout_s: float, send_interval_s: float = 0.001, size: int = 56,
               not_before: float | None = None) -> PingHandle:
        """Queue one echo request; it leaves at ``not_before`` (loop time) or the next pacing slot.

        Never raises for I/O: errors (not an IP, no socket, send failure) resolve the handle's future
        with ``(None, error)``. Requests leave in ``not_before`` order, one per ``send_interval_s``.
        """
        future: asyncio.Future[PingOutcome] = self._loop.create_future()
        try:
            addr, family = self._parse_address(address)
        except ValueError:
            future.set_result((None, f"not an IP address: {address!r}"))
            return PingHandle(address, socket.AF_INET, timeout_s, send_interval_s, size, future)
        handle = PingHandle(addr, family, timeout_s, send_interval_s, size, future)
        if self._closed or self._socket(family) is None:
            future.set_result((None, self._open_errors.get(family, "ICMP dispatcher closed")))
            return handle
        at = self._loop.time() if not_before is None else not_before
        self._order += 1
        heapq.heappush(self._queue, (at, self._order, handle))
        due = max(at, self._next_slot)
        if self._blocked_fd is None and (self._pacer is None or due < self._pacer_at):
            if self._pacer is not None:
                self._pacer.cancel()
            self._pacer_at = due
            self._pacer = self._loop.call_at(due, self._pace)
        return handle

    def _pace(self) -> None:
        """Send every queued request that is due, one per pacing slot; re-arm for the next one."""
        self._pacer = None
        queue = self._queue
        now = self._loop.time()
        while queue:
            not_before, _order, handle = queue[0]
            if handle.future.done():  # discarded before it was sent
                heapq.heappop(queue)
                continue
            due = max(not_before, self._next_slot)
            if due > now + _EARLY_S:
                self._pacer_at = due
                self._pacer = self._loop.call_at(due, self._pace)
                return
            if not self._transmit(handle, now):
                return  # socket buffer full: _on_writable resumes pacing
            heapq.heappop(queue)
            self._next_slot = max(self._next_slot, now - _CATCH_UP_S) + handle.interval_s

    def _transmit(self, handle: PingHandle, now: float) -> bool:
        """Send ``handle``'s packet; False only when the socket would block (try again later)."""
        fs = self._sockets[handle.family]
        addr = handle.address
        seq = self._seq = (self._seq + 1) & 0xFFFF
        while (addr, seq) in fs.pending:
            seq = self._seq = (self._seq + 1) & 0xFFFF
        serial = self._serial = (self._serial + 1) & 0xFFFFFFFFFFFFFFFF
        packet = echo_request(handle.family, self.ident, seq, serial, handle.size)
        handle.key, handle.serial = (addr, seq), serial
        fs.pending[handle.key] = handle
        handle.sent_wall = time.time()
        try:
            fs.sock.sendto(packet, (addr, 0))
        except BlockingIOError:
            del fs.pending[handle.key]
            self._blocked_fd = fs.sock.fileno()
            self._loop.add_writer(self._blocked_fd, self._on_writable)
            return False
        except OSError as exc:
            self._finish(fs, handle, (None, f"send failed: {exc.strerror or exc}"))
            return True
        self._arm_expiry(handle, now)
        return True

    def _on_writable(self) -> None:
        if self._blocked_fd is not None:
            self._loop.remove_writer(self._blocked_fd)
            self._blocked_fd = None
        self._pace()

    def _arm_expiry(self, handle: PingHandle, now: float) -> None:
        """Requests with the same timeout expire in send order: one loop timer per timeout value."""
        handle.expires_at = now + handle.timeout_s
        waiting = self._expiry.get(handle.timeout_s)
        if waiting is None:
            waiting = self._expiry[handle.timeout_s] = collections.deque()
        waiting.append(handle)
        if handle.timeout_s not in self._expiry_timers:
            self._expiry_timers[handle.timeout_s] = self._loop.call_at(
                handle.expires_at, self._expire_due, handle.timeout_s)

    def _expire_due(self, timeout_s: float) -> None:
        waiting = self._expiry[timeout_s]
        limit = self._loop.time() + _EARLY_S
        while waiting and waiting[0].expires_at <= limit:
            handle = waiting.popleft()
            if not handle.future.done():
                self._finish(self._sockets[handle.family], handle, (None, None))
        if waiting:
            self._expiry_timers[timeout_s] = self._loop.call_at(waiting[0].expires_at, self._expire_due, timeout_s)
        else:
            del self._expiry_timers[timeout_s], self._expiry[timeout_s]

    def _finish(self, fs: _FamilySocket, handle: PingHandle, outcome: PingOutcome) -> None:
        if handle.key is not None and fs.pending.get(handle.key) is handle:
            del fs.pending[handle.key]
        if not handle.future.done():
            handle.future.set_result(outcome)

    def discard(self, handle: PingHandle) -> None:
        """Forget ``handle`` (deadline or cancellation): unsent, it is not sent; a late reply is ignored."""
        fs = self._sockets.get(handle.family)
        if fs is not None and handle.key is not None and fs.pending.get(handle.key) is handle:
            del fs.pending[handle.key]
        if not handle.future.done():
            handle.future.cancel()

    # -- receiving -----------------------------------------------------------------------------
    def _on_readable(self, fs: _FamilySocket) -> None:
        sock = fs.sock
        for _ in range(10_000):
            try:
                data, ancdata, _flags, src = sock.recvmsg(2048, ANCBUF)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                log.warning("event=icmp_recv_error error=%r", exc)
                return
            try:
                parsed = parse(fs.family, fs.raw, data, src[0].split("%", 1)[0])
            except (struct.error, IndexError, ValueError, OSError):
                continue  # truncated or foreign packet
            if parsed is None:
                continue
            what, key, ident, detail = parsed
            if fs.raw and ident != self.ident:
                continue  # the kernel demultiplexes dgram sockets (and rewrites their id) itself
            if what == "reply":
                self._resolve(fs, key, int(detail), receive_time(ancdata))
            elif isinstance(detail, str):
                self._error(fs, key, detail)

    def _resolve(self, fs: _FamilySocket, key: tuple[str, int], serial: int, rx_wall: float) -> None:
        handle = fs.pending.get(key)
        if handle is None or handle.serial != serial:
            return  # late (expired), duplicate, or not ours
        del fs.pending[key]
        if not handle.future.done():
            handle.future.set_result((max(rx_wall - handle.sent_wall, 0.0), None))

    def _error(self, fs: _FamilySocket, key: tuple[str, int], error: str) -> None:
        handle = fs.pending.get(key)
        if handle is not None:
            self._finish(fs, handle, (None, error))

    def close(self) -> None:
        """Close the sockets; every queued or outstanding request ends with an error."""
        self._closed = True
        for timer in [self._pacer, *self._expiry_timers.values()]:
            if timer is not None:
                timer.cancel()
        self._pacer = None
        self._expiry_timers.clear()
        self._expiry.clear()
        if self._blocked_fd is not None:
            self._loop.remove_writer(self._blocked_fd)
            self._blocked_fd = None
        closed: PingOutcome = (None, "ICMP dispatcher closed")
        for _at, _order, handle in self._queue:
            if not handle.future.done():
                handle.future.set_result(closed)
        self._queue.clear()
        for fs in self._sockets.values():
            self._loop.remove_reader(fs.sock.fileno())
            for handle in list(fs.pending.values()):
                if not handle.future.done():
                    handle.future.set_result(closed)
            fs.pending.clear()
            fs.sock.close()
        self._sockets.clear()

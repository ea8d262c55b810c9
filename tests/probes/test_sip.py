"""The SIP OPTIONS prober against SIP peers of our own on 127.0.0.1: an asyncio UDP responder that answers
only the second transmission (Timer E retransmits), answers 100 Trying before its 200 (provisional answers
keep the transaction waiting), answers with a wrong Call-ID or branch (ignored), or with garbage (never
raises); a TCP peer that sends two messages in one segment, one that hangs up and one that stays silent.
Probes go through the sweep (``run_sweep``) like a scheduled one."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import cast

import pytest

from probes.base import ProbeContext, ProbeResult, Target
from probes.sip import SipSettings
from probes.sweep import run_sweep
from tests.probes.conftest import free_port

Reply = Callable[[bytes], None]
Behaviour = Callable[[bytes, int, Reply], Awaitable[None] | None]
FAST = SipSettings(t1_ms=200, t2_ms=800, timeout_s=3.0)


def _headers(request: bytes) -> dict[str, str]:
    lines = request.decode().split("\r\n")[1:]
    return {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines if ":" in line)}


def response(request: bytes, status: str = "200 OK", *, call_id: str | None = None, branch: str | None = None,
             extra: str = "Server: test-codec/1.0\r\n") -> bytes:
    """A response to ``request`` as a UAS writes it (§8.2.6), with its Call-ID or branch replaced if asked."""
    h = _headers(request)
    via = h["via"] if branch is None else re.sub(r"branch=[^;]+", f"branch={branch}", h["via"])
    return (f"SIP/2.0 {status}\r\nVia: {via}\r\nFrom: {h['from']}\r\nTo: {h['to']};tag=uas1\r\n"
            f"Call-ID: {call_id or h['call-id']}\r\nCSeq: {h['cseq']}\r\n{extra}Content-Length: 0\r\n\r\n").encode()


@dataclass
class UdpPeer(asyncio.DatagramProtocol):
    """Counts the OPTIONS it receives and lets ``behaviour`` answer each (``n`` = 1 for the first)."""

    behaviour: Behaviour
    received: list[bytes] = field(default_factory=list)
    transport: asyncio.DatagramTransport | None = None
    tasks: set[asyncio.Future[None]] = field(default_factory=set)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)  # the selector loop's class is no subclass

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.received.append(data)
        assert self.transport is not None
        transport = self.transport

        def reply(payload: bytes) -> None:
            transport.sendto(payload, addr)

        outcome = self.behaviour(data, len(self.received), reply)
        if outcome is not None:
            self.tasks.add(asyncio.ensure_future(outcome))


def run_udp(behaviour: Behaviour, settings: SipSettings = FAST) -> tuple[ProbeResult, UdpPeer]:
    async def main() -> tuple[ProbeResult, UdpPeer]:
        loop = asyncio.get_running_loop()
        transport, peer = await loop.create_datagram_endpoint(lambda: UdpPeer(behaviour),
                                                              local_addr=("127.0.0.1", 0))
        port = transport.get_extra_info("sockname")[1]
        target = Target(key="vc:1:sip", check="vc:1:sip", address="127.0.0.1", device_id=1, availability=False,
                        params={"uri": "sip:room-1@127.0.0.1", "port": port, "transport": "udp"})
        try:
            async with ProbeContext() as ctx:
                result = (await run_sweep("sip", [target], settings, ctx)).results[0]
            await asyncio.sleep(0.05)  # a transmission sent just before the end is still counted by the peer
            return result, peer
        finally:
            transport.close()

    return asyncio.run(main())


def test_only_the_second_transmission_is_answered_so_timer_e_retransmitted_once() -> None:
    def second(request: bytes, n: int, reply: Reply) -> None:
        if n == 2:
            reply(response(request))

    result, peer = run_udp(second)
    assert result.success and result.error is None
    assert result.measurements["retransmissions"] == 1 and len(peer.received) == 2
    assert peer.received[0] == peer.received[1]  # a retransmission is the same request (same branch, Call-ID)
    assert result.measurements["code"] == 200 and result.info["answer"] == "ready"
    assert result.info["server"] == "test-codec/1.0" and result.info["transport"] == "udp"
    assert result.measurements["latency_ms"] > 0


def test_the_request_is_a_well_formed_options() -> None:
    result, peer = run_udp(lambda request, n, reply: reply(response(request)))
    text = peer.received[0].decode()
    assert text.startswith("OPTIONS sip:room-1@127.0.0.1 SIP/2.0\r\n") and text.endswith("\r\n\r\n")
    h = _headers(peer.received[0])
    assert re.fullmatch(r"SIP/2\.0/UDP 127\.0\.0\.1:\d+;branch=z9hG4bK[0-9a-f]+;rport", h["via"])
    assert h["max-forwards"] == "70" and h["cseq"] == "1 OPTIONS" and h["accept"] == "application/sdp"
    assert h["to"] == "<sip:room-1@127.0.0.1>" and re.search(r";tag=\w+$", h["from"])
    assert h["content-length"] == "0" and h["call-id"] and h["contact"].startswith("<sip:127.0.0.1:")
    assert result.success and result.measurements["retransmissions"] == 0


def test_a_provisional_answer_keeps_the_transaction_waiting_for_the_final_one() -> None:
    async def trying_then_ok(request: bytes, n: int, reply: Reply) -> None:
        if n == 1:
            reply(response(request, "100 Trying"))
            await asyncio.sleep(0.5)  # the prober retransmits meanwhile; the final answer comes later
            reply(response(request, "200 OK"))

    result, _peer = run_udp(trying_then_ok)
    assert result.success and result.measurements["code"] == 200 and result.info["reason"] == "OK"


def test_only_provisional_answers_end_as_no_final_answer() -> None:
    result, peer = run_udp(lambda request, n, reply: reply(response(request, "180 Ringing")),
                           SipSettings(t1_ms=100, t2_ms=200, timeout_s=0.6))
    assert not result.success and "code" not in result.measurements
    assert result.measurements["provisional_code"] == 180 and result.info["answer"] == "no_answer"
    assert result.error == (f"no final answer after {len(peer.received)} transmissions to "
                            f"127.0.0.1:{_port(result)} (only 180 Ringing)")


def _port(result: ProbeResult) -> int:
    return int(result.target.param("port"))


@pytest.mark.parametrize("mismatch", [{"call_id": "someone-else@10.0.0.1"}, {"branch": "z9hG4bKnot-ours"}])
def test_an_answer_to_another_transaction_is_ignored(mismatch: dict[str, str]) -> None:
    result, peer = run_udp(lambda request, n, reply: reply(response(request, **mismatch)),
                           SipSettings(t1_ms=100, t2_ms=400, timeout_s=0.5))
    assert not result.success and "code" not in result.measurements
    assert len(peer.received) >= 2 and result.measurements["retransmissions"] == len(peer.received) - 1
    assert result.error == f"no answer after {len(peer.received)} transmissions to 127.0.0.1:{_port(result)}"
    assert int(result.info["ignored"]) >= 1 and result.info["answer"] == "no_answer"


def test_a_foreign_answer_is_skipped_and_ours_taken() -> None:
    def both(request: bytes, n: int, reply: Reply) -> None:
        reply(response(request, "486 Busy Here", call_id="other@x"))
        reply(response(request, "200 OK"))

    result, _peer = run_udp(both)
    assert result.success and result.measurements["code"] == 200 and result.info["ignored"] == "1"


GARBAGE = [b"", b"\x00\xff" * 40, b"SIP/2.0 999 Nope\r\n\r\n", b"HTTP/1.1 200 OK\r\n\r\n", b"SIP/2.0 200",
           b"OPTIONS sip:x SIP/2.0\r\n\r\n", bytes(range(256)), b"SIP/2.0 200 OK\r\nVia\r\n: x\r\n\r\n"]


def test_garbage_never_raises_and_a_good_answer_after_it_counts() -> None:
    def garbage_then_ok(request: bytes, n: int, reply: Reply) -> None:
        for junk in GARBAGE:
            reply(junk)
        reply(response(request, "200 OK"))

    result, _peer = run_udp(garbage_then_ok)
    assert result.success and result.info["ignored"] == str(len(GARBAGE) - 1)  # an empty datagram is one too
    def garbage_only(request: bytes, n: int, reply: Reply) -> None:
        for junk in GARBAGE:
            reply(junk)

    only_garbage, peer = run_udp(garbage_only, SipSettings(t1_ms=100, t2_ms=400, timeout_s=0.4))
    assert not only_garbage.success and only_garbage.error is not None
    assert only_garbage.error.startswith(f"no answer after {len(peer.received)} transmissions")


def test_compact_and_folded_headers_are_read() -> None:
    def compact(request: bytes, n: int, reply: Reply) -> None:
        h = _headers(request)
        reply((f"SIP/2.0 503 Service Unavailable\r\nv: {h['via']}\r\nf: {h['from']}\r\nt: {h['to']};tag=a\r\n"
               f"i: {h['call-id']}\r\nCSeq:\r\n  {h['cseq']}\r\nUser-Agent: Codec\r\n\tRoom Kit\r\nl: 0\r\n\r\n")
              .encode())

    result, _peer = run_udp(compact)
    assert not result.success and result.measurements["code"] == 503
    assert result.error == "SIP unavailable: 503 Service Unavailable"
    assert result.info["answer"] == "unavailable" and result.info["server"] == "Codec Room Kit"


@pytest.mark.parametrize(("status", "word", "error"), [
    ("486 Busy Here", "busy", "SIP busy: 486 Busy Here"),
    ("600 Busy Everywhere", "busy", "SIP busy: 600 Busy Everywhere"),
    ("480 Temporarily Unavailable", "unavailable", "SIP unavailable: 480 Temporarily Unavailable"),
    ("404 Not Found", "rejected", "SIP answered 404 Not Found"),
    ("202 Accepted", "ready", None),
])
def test_final_codes_say_ready_busy_unavailable_or_rejected(status: str, word: str, error: str | None) -> None:
    result, _peer = run_udp(lambda request, n, reply: reply(response(request, status)))
    assert (result.success, result.info["answer"], result.error) == (error is None, word, error)
    assert result.measurements["code"] == int(status.split()[0])


def test_the_deadline_bounds_the_retransmissions() -> None:
    result, peer = run_udp(lambda request, n, reply: None, SipSettings(t1_ms=100, t2_ms=4000, timeout_s=0.35))
    # sends at 0, 0.1, 0.3 s at most (the next one, at 0.7 s, is past the deadline)
    assert 1 <= len(peer.received) <= 3 and result.measurements["retransmissions"] == len(peer.received) - 1


def test_timer_f_ends_the_transaction_before_a_longer_timeout() -> None:
    result, peer = run_udp(lambda request, n, reply: None, SipSettings(t1_ms=10, t2_ms=4000, timeout_s=5.0))
    # Timer F = 64·T1 = 640 ms: sends at 0, 10, 30, 70, 150, 310, 630 ms at most (5 s would allow 10)
    assert 2 <= len(peer.received) <= 7 and result.measurements["retransmissions"] == len(peer.received) - 1


def test_port_unreachable_is_a_transport_error_without_retransmission() -> None:
    port = free_port()

    async def main() -> ProbeResult:
        target = Target(key="vc:2:sip", address="127.0.0.1", params={"uri": "sip:127.0.0.1", "port": port})
        async with ProbeContext() as ctx:
            return (await run_sweep("sip", [target], FAST, ctx)).results[0]

    result = asyncio.run(main())
    assert result.error == f"SIP over UDP to 127.0.0.1:{port} failed: Connection refused"
    assert result.measurements["retransmissions"] == 0 and result.info["answer"] == "transport_error"


def run_tcp(handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
            settings: SipSettings = FAST) -> ProbeResult:
    async def main() -> ProbeResult:
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        target = Target(key="vc:3:sip", address="127.0.0.1", params={"uri": "sip:room@127.0.0.1;transport=tcp",
                                                                     "port": port, "transport": "tcp"})
        try:
            async with ProbeContext() as ctx:
                return (await run_sweep("sip", [target], settings, ctx)).results[0]
        finally:
            server.close()

    return asyncio.run(main())


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    return await reader.readuntil(b"\r\n\r\n")


def test_tcp_two_messages_in_one_segment_with_a_body_are_framed() -> None:
    async def trying_and_ok(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await _read_request(reader)
        assert b"Via: SIP/2.0/TCP " in request
        body = b"v=0\r\n"
        ok = response(request, "200 OK", extra="Content-Type: application/sdp\r\n").replace(
            b"Content-Length: 0\r\n\r\n", b"Content-Length: %d\r\n\r\n" % len(body)) + body
        writer.write(b"\r\n\r\n" + response(request, "100 Trying") + ok)
        await writer.drain()
        await reader.read()

    result = run_tcp(trying_and_ok)
    assert result.success and result.measurements["code"] == 200 and result.info["transport"] == "tcp"
    assert "retransmissions" not in result.measurements  # TCP never retransmits


def test_tcp_peer_hanging_up_and_silent_peer() -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.close()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    closed = run_tcp(hang_up)
    assert closed.error is not None and closed.error.endswith("closed the TCP connection before a final answer")
    quiet = run_tcp(silent, SipSettings(timeout_s=0.3))
    assert quiet.error == f"no answer over TCP from 127.0.0.1:{_port(quiet)} within 0.3s"


def test_tcp_connection_refused() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: refused

        async def main() -> ProbeResult:
            target = Target(key="vc:4:sip", address="127.0.0.1", params={"port": port, "transport": "tcp"})
            async with ProbeContext() as ctx:
                return (await run_sweep("sip", [target], FAST, ctx)).results[0]

        result = asyncio.run(main())
    assert result.error == f"SIP over TCP to 127.0.0.1:{port} failed: Connection refused"


def test_tcp_stream_that_is_not_sip_is_an_error_not_an_exception() -> None:
    async def flood(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b"x" * 70_000)  # no blank line ends this "head"
        await writer.drain()
        await reader.read()

    result = run_tcp(flood)
    assert result.error == (f"unreadable SIP stream from 127.0.0.1:{_port(result)}: "
                            "message head longer than 64 KiB")
    assert result.info["answer"] == "transport_error"

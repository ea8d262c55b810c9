"""SIP OPTIONS prober for videoconference endpoints (RFC 3261 §11): is the codec there, and would it take a call?

An OPTIONS request is answered as an INVITE would be (§11.2): 200 when the endpoint is ready, 486 Busy Here
(or 600 Busy Everywhere) when it is in a call, 503 Service Unavailable (or 480 Temporarily Unavailable) when
it is up but will not take one. The request is written by hand (:mod:`probes.sip_wire`) and sent from a fresh
socket to the endpoint's device address:

- over UDP it is a non-INVITE client transaction (§17.1.2): Timer E retransmits it T1 after the first send,
  doubling each time up to T2 (after a provisional 1xx: every T2), Timer F (64·T1) ends it — and always the
  check's deadline (``min(deadline, start + timeout_s)``) ends it first. An ICMP error (port unreachable) is a
  transport error (§18.4): the check fails at once, without retransmitting;
- over TCP it is sent once (a reliable transport never retransmits) and the stream is framed by
  Content-Length.

Responses whose Call-ID, top Via branch or CSeq do not match the request are ignored, provisional 1xx ones
keep the transaction waiting, and garbage is dropped without raising.

Result: ``success`` only for a 2xx final answer. Every final answer is a measurement: ``code`` (the status
code), ``latency_ms`` (first send → final answer), ``retransmissions``; ``info`` has ``reason`` (the
reason phrase), ``transport``, ``server`` (its Server or User-Agent header) and ``answer``, one word the
readiness board and the pages read: ``ready`` (2xx), ``busy`` (486, 600), ``unavailable`` (503, 480),
``rejected`` (another final code), ``no_answer`` or ``transport_error``. A busy or unavailable codec is a
failed check with ``SIP busy: 486 Busy Here`` / ``SIP unavailable: 503 Service Unavailable``; silence is
``no answer after N transmissions to A:P``.

Targets: each videoconference endpoint of protocol ``sip`` (:class:`probes.plugin.VcEndpointRecord`) is the
check ``vc:<endpoint id>:sip`` at its device's primary address. The Request-URI is the endpoint's ``uri``
when it is a ``sip:`` URI (its explicit port and ``;transport=udp|tcp`` are honoured), else
``sip:<address>``. The check is not an availability check: a busy codec is not an unreachable device (ICMP
decides that), so it never turns the device DOWN.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from pydantic import Field, field_validator, model_validator

from probes.base import ProbeContext, ProbeResult, Target
from probes.plugin import InfoSpec, InventoryRecords, KindSettings, MeasurementSpec, ProbeKind, Problem, TargetBuild
from probes.sip_wire import Request, Response, StreamFramer, answers, build_options, host_of, parse_response, parse_uri

log = logging.getLogger(__name__)

TRANSPORTS = ("udp", "tcp")
BUSY = frozenset({486, 600})
UNAVAILABLE = frozenset({480, 503})
ANSWERS = ("ready", "busy", "unavailable", "rejected", "no_answer", "transport_error")  # info["answer"]


class SipSettings(KindSettings):
    """``[probes.sip]``: default transport and port (a URI's own win), the RFC 3261 timers, who asks."""

    timeout_s: float = Field(4.0, gt=0, le=600)
    concurrency: int = Field(128, ge=1, le=10_000)
    transport: Literal["udp", "tcp"] = "udp"
    port: int = Field(5060, ge=1, le=65535)
    t1_ms: int = Field(500, ge=10, le=10_000, description="RFC 3261 T1: first retransmission interval (UDP)")
    t2_ms: int = Field(4000, ge=10, le=60_000, description="RFC 3261 T2: longest retransmission interval (UDP)")
    from_uri: str = "sip:infra-monitor@infra-monitor.invalid"
    user_agent: str = Field("infra-monitor", min_length=1, max_length=100)

    @field_validator("from_uri")
    @classmethod
    def _from_is_sip(cls, value: str) -> str:
        if parse_uri(value) is None:
            raise ValueError(f"from_uri must be a sip: or sips: URI, not {value!r}")
        return value.strip()

    @field_validator("user_agent")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if any(c in value for c in "\r\n\0"):
            raise ValueError("user_agent must be one line of text")
        return value

    @model_validator(mode="after")
    def _t2_not_below_t1(self) -> SipSettings:
        if self.t2_ms < self.t1_ms:
            raise ValueError(f"t2_ms ({self.t2_ms}) must not be shorter than t1_ms ({self.t1_ms})")
        return self


def answer_word(code: int) -> str:
    """``ready``, ``busy``, ``unavailable`` or ``rejected`` for a final status code."""
    if 200 <= code < 300:
        return "ready"
    if code in BUSY:
        return "busy"
    if code in UNAVAILABLE:
        return "unavailable"
    return "rejected"


def request_target(uri: str, address: str, default_port: int, default_transport: str) -> tuple[str, int, str] | str:
    """(Request-URI, port, transport) of an endpoint, or why it cannot be asked."""
    text = uri.strip()
    if not text.lower().startswith(("sip:", "sips:")):
        return f"sip:{host_of(address)}", default_port, default_transport
    parsed = parse_uri(text)
    if parsed is None:
        return f"URI {text[:80]!r} is not a valid SIP URI"
    if parsed.scheme == "sips":
        return f"URI {text[:80]!r} asks for SIP over TLS (sips:), which this prober does not speak"
    transport = parsed.transport or default_transport
    if transport not in TRANSPORTS:
        return f"URI {text[:80]!r} asks for transport {transport!r}; this prober speaks udp and tcp"
    return text, parsed.port or default_port, transport


def build_targets(inv: InventoryRecords, settings: SipSettings) -> TargetBuild:
    """``vc:<id>:sip`` per SIP videoconference endpoint of a monitored device (a service-like check)."""
    out = TargetBuild()
    for ep in inv.vc_endpoints:
        device = inv.device(ep.device_id)
        if ep.protocol != "sip" or device is None or not ep.address:
            continue
        check = f"vc:{ep.id}:sip"
        found = request_target(ep.uri, ep.address, settings.port, settings.transport)
        if isinstance(found, str):
            out.problems.append(Problem(ep.device_id, check, f"videoconference endpoint {ep.id}: {found}"))
            continue
        uri, port, transport = found
        out.targets.append(Target(
            key=check, check=check, address=ep.address, device_id=ep.device_id, device=device.name,
            site=device.site, availability=False, params={"uri": uri, "port": port, "transport": transport}))
    return out


@dataclass
class _Outcome:
    final: Response | None = None
    provisional: Response | None = None
    transmissions: int = 0
    ignored: int = 0
    answered_at: float = 0.0


class _Udp(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.inbox: asyncio.Queue[bytes | Exception] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: object) -> None:
        self.inbox.put_nowait(data)

    def error_received(self, exc: Exception) -> None:
        self.inbox.put_nowait(exc)


def _take(out: _Outcome, data: bytes, request: Request) -> bool:
    """Record one received message; True when it is the final answer."""
    response = parse_response(data)
    if response is None or not answers(response, request):
        out.ignored += 1
        return False
    if response.code < 200:
        out.provisional = response
        return False
    out.final, out.answered_at = response, time.monotonic()
    return True


async def _udp(address: str, port: int, uri: str, settings: SipSettings, end: float, out: _Outcome) -> None:
    loop = asyncio.get_running_loop()
    transport, proto = await loop.create_datagram_endpoint(_Udp, remote_addr=(address, port))
    try:
        local = transport.get_extra_info("sockname")
        request = build_options(uri, transport="udp", local_host=host_of(local[0]), local_port=local[1],
                                from_uri=settings.from_uri, user_agent=settings.user_agent)
        interval = settings.t1_ms / 1000
        transport.sendto(request.data)
        out.transmissions = 1
        next_send = time.monotonic() + interval
        while time.monotonic() < end:
            try:
                async with asyncio.timeout_at(min(next_send, end)):
                    item = await proto.inbox.get()
            except TimeoutError:
                if time.monotonic() >= end:
                    return
                transport.sendto(request.data)  # Timer E (§17.1.2.2)
                out.transmissions += 1
                interval = settings.t2_ms / 1000 if out.provisional else min(interval * 2, settings.t2_ms / 1000)
                next_send = time.monotonic() + interval
                continue
            if isinstance(item, Exception):
                raise item
            if _take(out, item, request):
                return
    finally:
        transport.close()


async def _tcp(address: str, port: int, uri: str, settings: SipSettings, out: _Outcome) -> None:
    reader, writer = await asyncio.open_connection(address, port)
    try:
        local = writer.get_extra_info("sockname")
        request = build_options(uri, transport="tcp", local_host=host_of(local[0]), local_port=local[1],
                                from_uri=settings.from_uri, user_agent=settings.user_agent)
        writer.write(request.data)
        out.transmissions = 1
        await writer.drain()
        framer = StreamFramer()
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                raise ConnectionAbortedError("closed")
            for message in framer.feed(chunk):
                if _take(out, message, request):
                    return
    finally:
        writer.close()


async def probe(target: Target, settings: SipSettings, deadline: float, ctx: ProbeContext) -> ProbeResult:
    """Params: ``uri`` (the Request-URI), ``port``, ``transport`` (udp or tcp)."""
    started_at = datetime.now(UTC)
    t0 = time.monotonic()
    measurements: dict[str, float] = {}
    info: dict[str, str] = {}
    error: str | None = None
    uri = str(target.param("uri", "") or f"sip:{host_of(target.address)}")
    port = int(target.param("port", settings.port))
    transport = str(target.param("transport", settings.transport)).lower()
    where = f"{host_of(target.address)}:{port}"
    out = _Outcome()
    end = min(deadline, t0 + settings.timeout_s, t0 + 64 * settings.t1_ms / 1000)  # Timer F
    info["transport"] = transport
    try:
        if transport == "udp":
            await _udp(target.address, port, uri, settings, end, out)
        elif transport == "tcp":
            async with asyncio.timeout_at(end):
                await _tcp(target.address, port, uri, settings, out)
        else:
            error = f"transport {transport!r} is not one this prober speaks (udp, tcp)"
    except TimeoutError:
        pass  # no final answer within the deadline: reported below
    except ValueError as exc:  # the one error of StreamFramer: a TCP stream that cannot be cut into messages
        error = f"unreadable SIP stream from {where}: {exc}"
        info["answer"] = "transport_error"
    except ConnectionAbortedError:
        error = f"{where} closed the TCP connection before a final answer"
        info["answer"] = "transport_error"
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)  # asyncio rewrites strerror
        error = f"SIP over {transport.upper()} to {where} failed: {reason}"
        info["answer"] = "transport_error"
    except Exception as exc:  # a prober never raises
        log.exception("event=sip_probe_failed target=%s", target.key)
        error = f"internal error: {exc!r}"
    if transport == "udp" and out.transmissions:
        measurements["retransmissions"] = float(out.transmissions - 1)
    if out.final is not None:
        final = out.final
        measurements["code"] = float(final.code)
        measurements["latency_ms"] = round((out.answered_at - t0) * 1000, 3)
        info["reason"] = final.reason[:100]
        server = final.header("server") or final.header("user-agent")
        if server:
            info["server"] = server[:100]
        info["answer"] = word = answer_word(final.code)
        if word == "busy":
            error = f"SIP busy: {final.code} {final.reason}"
        elif word == "unavailable":
            error = f"SIP unavailable: {final.code} {final.reason}"
        elif word == "rejected":
            error = f"SIP answered {final.code} {final.reason}"
    elif error is None:
        info["answer"] = "no_answer"
        last = out.provisional
        if last is not None:
            info["reason"] = last.reason[:100]
            measurements["provisional_code"] = float(last.code)
        seconds = f"{min(settings.timeout_s, end - t0):.3g}"
        if transport == "udp" and last is None:
            error = f"no answer after {out.transmissions} transmissions to {where}"
        elif transport == "udp" and last is not None:
            error = (f"no final answer after {out.transmissions} transmissions to {where} "
                     f"(only {last.code} {last.reason})")
        elif last is None:
            error = f"no answer over TCP from {where} within {seconds}s"
        else:
            error = f"no final answer over TCP from {where} within {seconds}s (only {last.code} {last.reason})"
    if out.ignored:
        info["ignored"] = str(out.ignored)
    log.debug("event=sip_probe target=%s transport=%s code=%s transmissions=%d ignored=%d", target.key, transport,
              out.final.code if out.final else "-", out.transmissions, out.ignored)
    return ProbeResult(kind="sip", target=target, success=error is None, started_at=started_at,
                       duration_s=time.monotonic() - t0, measurements=measurements, info=info, error=error)


KIND = ProbeKind(
    name="sip", settings=SipSettings, build_targets=build_targets, probe=probe,
    label_vi="Điểm cầu SIP (OPTIONS)", label_en="SIP endpoint (OPTIONS)", availability=False,
    measurements=(
        MeasurementSpec("latency_ms", "ms", "Thời gian trả lời", "Answer time", rolled_up=True, role="latency"),
        MeasurementSpec("code", "", "Mã trả lời SIP", "SIP status code"),
        MeasurementSpec("retransmissions", "", "Số lần gửi lại", "Retransmissions"),
        MeasurementSpec("provisional_code", "", "Mã tạm thời cuối", "Last provisional code"),
    ),
    info=(InfoSpec("answer", "Trả lời", "Answer", translate="vc_answer_"), InfoSpec("reason", "Lý do", "Reason"),
          InfoSpec("server", "Phần mềm", "Software"), InfoSpec("transport", "Giao thức", "Transport")),
)

"""DNS prober: ask a server one question (A, AAAA, CNAME, MX, TXT, NS), time the answer, compare it.

The wire format (RFC 1035 §4) is written here: one query with a random id and recursion desired, sent over
UDP from a fresh socket (so a stray answer to another probe is never taken); an answer with the TC bit set
is asked again over TCP (two-byte length prefix, RFC 7766) within the same deadline. Names in answers may be
compressed (pointers are followed, loops refused).

success = RCODE NOERROR, at least one record of the asked type, and, when the check expects answers, each
of them among the records (names compared case-insensitively, without the final dot; an MX matches by its
exchange or as ``"<preference> <exchange>"``). NXDOMAIN, a server failure, no record of the type (NODATA), a
wrong answer and no answer within the timeout are failures with their own error text.

Targets come from services of kind ``dns``: the service's device is the server (its primary address, port
``ports[0]`` or ``[probes.dns] port``), the question is ``dns_name``/``dns_record_type``, expecting
``dns_expected``. A service with no name, a name that is not a DNS name or a type this prober does not ask
is a configuration error of that service; every other check keeps running.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import secrets
import struct
import time
from datetime import UTC, datetime

from pydantic import Field

from probes.base import ProbeContext, ProbeResult, Target
from probes.plugin import InfoSpec, InventoryRecords, KindSettings, MeasurementSpec, ProbeKind, Problem, TargetBuild

log = logging.getLogger(__name__)

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "MX": 15, "TXT": 16, "AAAA": 28}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}
MAX_UDP = 4096


class DnsSettings(KindSettings):
    """``[probes.dns]``: ``port`` when a service names none; ``tcp_fallback``: ask again over TCP when truncated."""

    timeout_s: float = Field(2.0, gt=0, le=600)
    concurrency: int = Field(128, ge=1, le=10_000)
    port: int = Field(53, ge=1, le=65535)
    recursion_desired: bool = True
    tcp_fallback: bool = True


class DnsFormatError(ValueError):
    """A malformed answer, or a name that cannot be asked."""


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be asked (None when it can)."""
    labels = name.rstrip(".").split(".")
    if not name.strip() or any(not label for label in labels):
        return f"not a DNS name: {name!r}"
    if any(len(label.encode()) > 63 for label in labels) or len(name.rstrip(".").encode()) > 253:
        return f"DNS name too long: {name[:60]!r}"
    if any(c.isspace() for c in name):
        return f"not a DNS name: {name!r}"
    return None


def encode_query(name: str, rtype: str, query_id: int, recursion: bool = True) -> bytes:
    header = struct.pack("!HHHHHH", query_id, 0x0100 if recursion else 0, 1, 0, 0, 0)
    qname = b"".join(bytes([len(lbl)]) + lbl for lbl in (p.encode("idna") for p in name.rstrip(".").split(".")))
    return header + qname + b"\x00" + struct.pack("!HH", TYPES[rtype], 1)


def _read_name(msg: bytes, pos: int) -> tuple[str, int]:
    labels: list[str] = []
    end = -1
    jumps = 0
    while True:
        if pos >= len(msg):
            raise DnsFormatError("name runs past the message")
        length = msg[pos]
        if length & 0xC0 == 0xC0:
            if pos + 1 >= len(msg):
                raise DnsFormatError("truncated name pointer")
            if end < 0:
                end = pos + 2
            jumps += 1
            if jumps > 64:
                raise DnsFormatError("name pointer loop")
            pos = ((length & 0x3F) << 8) | msg[pos + 1]
            continue
        if length == 0:
            return ".".join(labels), (end if end >= 0 else pos + 1)
        labels.append(msg[pos + 1:pos + 1 + length].decode("ascii", "replace"))
        pos += 1 + length


def _rdata(msg: bytes, rtype: int, start: int, length: int) -> str:
    data = msg[start:start + length]
    if rtype == 1 and length == 4:
        return str(ipaddress.IPv4Address(data))
    if rtype == 28 and length == 16:
        return str(ipaddress.IPv6Address(data))
    if rtype in (2, 5):
        return _read_name(msg, start)[0]
    if rtype == 15:
        return f"{struct.unpack('!H', data[:2])[0]} {_read_name(msg, start + 2)[0]}"
    if rtype == 16:
        parts, i = [], 0
        while i < len(data):
            parts.append(data[i + 1:i + 1 + data[i]].decode("utf-8", "replace"))
            i += 1 + data[i]
        return "".join(parts)
    return data.hex()


def decode_answer(msg: bytes, query_id: int) -> tuple[int, bool, list[tuple[int, str]]]:
    """(rcode, truncated, [(type, value)…] of the answer section) of a response to ``query_id``."""
    if len(msg) < 12:
        raise DnsFormatError("answer shorter than a DNS header")
    qid, flags, qd, an, _ns, _ar = struct.unpack("!HHHHHH", msg[:12])
    if qid != query_id or not flags & 0x8000:
        raise DnsFormatError("not an answer to this query")
    truncated = bool(flags & 0x0200)
    pos = 12
    for _ in range(qd):
        pos = _read_name(msg, pos)[1] + 4
    records: list[tuple[int, str]] = []
    for _ in range(an):
        pos = _read_name(msg, pos)[1]
        if pos + 10 > len(msg):
            if truncated:
                break
            raise DnsFormatError("record runs past the message")
        rtype, _cls, _ttl, rdlen = struct.unpack("!HHIH", msg[pos:pos + 10])
        pos += 10
        if pos + rdlen > len(msg):
            if truncated:
                break
            raise DnsFormatError("record data runs past the message")
        records.append((rtype, _rdata(msg, rtype, pos, rdlen)))
        pos += rdlen
    return flags & 0x000F, truncated, records


class _Udp(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.answer: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    def datagram_received(self, data: bytes, addr: object) -> None:
        if not self.answer.done():
            self.answer.set_result(data)

    def error_received(self, exc: Exception) -> None:
        if not self.answer.done():
            self.answer.set_exception(exc)


async def _ask_udp(server: str, port: int, query: bytes) -> bytes:
    loop = asyncio.get_running_loop()
    transport, proto = await loop.create_datagram_endpoint(_Udp, remote_addr=(server, port))
    try:
        transport.sendto(query)
        return await proto.answer
    finally:
        transport.close()


async def _ask_tcp(server: str, port: int, query: bytes) -> bytes:
    reader, writer = await asyncio.open_connection(server, port)
    try:
        writer.write(struct.pack("!H", len(query)) + query)
        await writer.drain()
        (length,) = struct.unpack("!H", await reader.readexactly(2))
        return await reader.readexactly(length)
    finally:
        writer.close()


def _norm(value: str) -> str:
    return value.strip().rstrip(".").casefold()


def _matches(expected: str, values: list[str], rtype: str) -> bool:
    want = _norm(expected)
    return any(_norm(v) == want or (rtype == "MX" and _norm(v.split(" ", 1)[-1]) == want) for v in values)


def build_targets(inv: InventoryRecords, settings: DnsSettings) -> TargetBuild:
    """``service:<id>:dns`` per dns service: its device answers for ``dns_name``."""
    out = TargetBuild()
    for svc in inv.services:
        device = inv.device(svc.device_id)
        if svc.kind != "dns" or device is None:
            continue
        check = f"service:{svc.id}:dns"
        rtype = (svc.dns_record_type or "A").upper()
        why = name_problem(svc.dns_name) if svc.dns_name else "no DNS name to ask"
        if why is None and rtype not in TYPES:
            why = f"record type {rtype!r} is not one this prober asks ({', '.join(TYPES)})"
        if why is not None:
            out.problems.append(Problem(svc.device_id, check, f"service {svc.name!r}: {why}"))
            continue
        port = svc.ports[0] if svc.ports else settings.port
        out.targets.append(Target(
            key=check, check=check, address=svc.address, device_id=svc.device_id, device=device.name,
            site=device.site, availability=False, service_id=svc.id,
            params={"name": svc.dns_name, "type": rtype, "expected": tuple(svc.dns_expected), "port": port}))
    return out


async def probe(target: Target, settings: DnsSettings, deadline: float, ctx: ProbeContext) -> ProbeResult:
    """Params: ``name``, ``type`` (A, AAAA, CNAME, MX, TXT, NS), ``expected`` (answers), ``port``."""
    started_at = datetime.now(UTC)
    t0 = time.monotonic()
    measurements: dict[str, float] = {}
    info: dict[str, str] = {}
    error: str | None = None
    name: str = target.param("name", "")
    rtype: str = str(target.param("type", "A")).upper()
    port: int = int(target.param("port", settings.port))
    expected: tuple[str, ...] = tuple(target.param("expected", ()) or ())
    why = name_problem(name) if name else "target has no DNS name"
    if why is None and rtype not in TYPES:
        why = f"record type {rtype!r} is not supported"
    if why is not None:
        return ProbeResult(kind="dns", target=target, success=False, started_at=started_at,
                           duration_s=time.monotonic() - t0, error=why)
    query_id = secrets.randbelow(0x10000)
    query = encode_query(name, rtype, query_id, settings.recursion_desired)
    transport = "udp"
    try:
        async with asyncio.timeout_at(min(deadline, t0 + settings.timeout_s)):
            raw = await _ask_udp(target.address, port, query)
            rcode, truncated, records = decode_answer(raw, query_id)
            if truncated and settings.tcp_fallback:
                transport = "tcp"
                raw = await _ask_tcp(target.address, port, query)
                rcode, truncated, records = decode_answer(raw, query_id)
        measurements["latency_ms"] = round((time.monotonic() - t0) * 1000, 3)
        measurements["rcode"] = float(rcode)
        values = [v for t, v in records if t == TYPES[rtype]]
        measurements["answers"] = float(len(values))
        info["transport"] = transport
        if values:
            info["answers"] = ", ".join(values)[:200]
        if rcode != 0:
            error = f"{RCODES.get(rcode, f'RCODE {rcode}')} for {name} {rtype}"
        elif not values:
            error = f"no {rtype} record for {name}" + (" (answer truncated)" if truncated else "")
        else:
            missing = [e for e in expected if not _matches(e, values, rtype)]
            if missing:
                error = f"wrong answer for {name} {rtype}: got {', '.join(values)[:100]}, expected {', '.join(missing)}"
    except TimeoutError:
        error = f"no answer from {target.address}:{port} within {settings.timeout_s:g}s"
    except DnsFormatError as exc:
        error = f"malformed answer: {exc}"
    except (OSError, asyncio.IncompleteReadError) as exc:
        error = f"{transport.upper()} to {target.address}:{port} failed: {exc}"
    except Exception as exc:  # a prober never raises
        log.exception("event=dns_probe_failed target=%s", target.key)
        error = f"internal error: {exc!r}"
    return ProbeResult(kind="dns", target=target, success=error is None, started_at=started_at,
                       duration_s=time.monotonic() - t0, measurements=measurements, info=info, error=error)


KIND = ProbeKind(
    name="dns", settings=DnsSettings, build_targets=build_targets, probe=probe, label_vi="Phân giải tên (DNS)",
    label_en="Name resolution (DNS)", availability=False,
    measurements=(
        MeasurementSpec("latency_ms", "ms", "Thời gian trả lời", "Answer time", rolled_up=True, role="latency"),
        MeasurementSpec("answers", "", "Số bản ghi trả lời", "Records in the answer"),
        MeasurementSpec("rcode", "", "Mã trả lời (RCODE)", "Response code (RCODE)"),
    ),
    info=(InfoSpec("answers", "Bản ghi trả lời", "Answers"), InfoSpec("transport", "Giao thức", "Transport")),
)

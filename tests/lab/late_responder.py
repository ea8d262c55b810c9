"""Late ICMP echo responder, run inside a lab namespace by ``tests.lab.agents.Responder``.

It watches an interface with a packet socket for echo requests to ``--addr`` (an address that is
routed to the namespace but configured nowhere, so the kernel drops the request and never
answers) and sends each echo reply ``--delay`` seconds later from a raw socket with ``--addr`` as
source. It prints ``ready`` on stdout once its sockets are open. Standalone: stdlib only.
"""

from __future__ import annotations

import argparse
import contextlib
import heapq
import logging
import select
import socket
import struct
import time

ETH_P_IP = 0x0800
ICMP_ECHO_REQUEST, ICMP_ECHO_REPLY = 8, 0

log = logging.getLogger("late_responder")


def checksum(data: bytes) -> int:
    """RFC 1071 Internet checksum."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def echo_request(packet: bytes, addr: bytes) -> tuple[bytes, bytes] | None:
    """If ``packet`` (an IPv4 datagram) is an echo request to ``addr``: (its source, ICMP body)."""
    if len(packet) < 28 or packet[0] >> 4 != 4 or packet[9] != socket.IPPROTO_ICMP:
        return None
    if packet[16:20] != addr:
        return None
    ihl = (packet[0] & 0x0F) * 4
    total_len = struct.unpack("!H", packet[2:4])[0]
    icmp = packet[ihl:total_len]
    if len(icmp) < 8 or icmp[0] != ICMP_ECHO_REQUEST or icmp[1] != 0:
        return None
    return packet[12:16], icmp


def echo_reply(src: bytes, dst: bytes, request_icmp: bytes) -> bytes:
    """A complete IPv4 datagram answering ``request_icmp`` (same id, sequence and payload)."""
    body = bytes([ICMP_ECHO_REPLY, 0, 0, 0]) + request_icmp[4:]
    body = body[:2] + struct.pack("!H", checksum(body)) + body[4:]
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(body), 0, 0x4000, 64,
                         socket.IPPROTO_ICMP, 0, src, dst)
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    return header + body


def serve(addr: str, delay: float, ifname: str) -> None:
    """Answer echo requests to ``addr`` seen on ``ifname`` after ``delay`` seconds, forever."""
    sniff = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_IP))
    sniff.bind((ifname, ETH_P_IP))
    send = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    own = socket.inet_aton(addr)
    due: list[tuple[float, int, bytes, bytes]] = []
    serial = 0
    print("ready", flush=True)
    while True:
        timeout = max(0.0, due[0][0] - time.monotonic()) if due else None
        readable, _, _ = select.select([sniff], [], [], timeout)
        if readable:
            packet, (_, _, pkttype, _, _) = sniff.recvfrom(65535)
            if pkttype == socket.PACKET_OUTGOING:
                continue
            parsed = echo_request(packet, own)
            if parsed:
                serial += 1
                heapq.heappush(due, (time.monotonic() + delay, serial, parsed[0], parsed[1]))
        now = time.monotonic()
        while due and due[0][0] <= now:
            _, _, peer, icmp = heapq.heappop(due)
            send.sendto(echo_reply(own, peer, icmp), (socket.inet_ntoa(peer), 0))
            log.info("event=late_reply addr=%s peer=%s", addr, socket.inet_ntoa(peer))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--addr", required=True)
    parser.add_argument("--delay", type=float, required=True)
    parser.add_argument("--ifname", default="lab0")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        serve(args.addr, args.delay, args.ifname)


if __name__ == "__main__":
    main()

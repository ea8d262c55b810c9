"""A small SIP endpoint for tests: a UDP socket on one address answering every OPTIONS with a fixed status
(200 OK, 486 Busy Here, 503 Service Unavailable), as a UAS writes it (RFC 3261 §8.2.6). Runs in a thread."""

from __future__ import annotations

import socket
import threading


def _headers(request: bytes) -> dict[str, str]:
    lines = request.decode("utf-8", "replace").split("\r\n")[1:]
    return {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines if ":" in line)}


def response(request: bytes, status: str) -> bytes:
    h = _headers(request)
    return (f"SIP/2.0 {status}\r\nVia: {h.get('via', '')}\r\nFrom: {h.get('from', '')}\r\n"
            f"To: {h.get('to', '')};tag=peer1\r\nCall-ID: {h.get('call-id', '')}\r\nCSeq: {h.get('cseq', '')}\r\n"
            "Server: test-codec/1.0\r\nContent-Length: 0\r\n\r\n").encode()


class SipPeer:
    """``SipPeer(address, "486 Busy Here")``: answers on ``address:port`` until :meth:`close`."""

    def __init__(self, address: str, status: str = "200 OK", port: int = 5060) -> None:
        self.status = status
        self.received = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((address, port))
        self.sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"sip-peer-{address}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data, addr = self.sock.recvfrom(65535)
            except (TimeoutError, OSError):
                continue
            if data.startswith(b"OPTIONS "):
                self.received += 1
                self.sock.sendto(response(data, self.status), addr)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()

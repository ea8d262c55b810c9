"""Late UDP relay: an SNMP agent (or any UDP service) that answers, but only after a delay.

Run inside a lab namespace with :func:`start_late_udp_relay`. It listens on ``--listen ADDR:PORT``
(an address configured on the namespace's ``lo``), forwards every datagram at once to
``--backend ADDR:PORT`` (a real agent, e.g. snmpsim on another lab address) from one socket per
client, and sends each answer back from the listening address ``--delay`` seconds after it came
from the backend. The answer is the backend's, byte for byte, so SNMP request-ids are those of the
request it answers. Each late answer is logged on stderr as ``event=late_reply at=<epoch seconds>``
(wall clock, when it was sent); ``ready`` is printed on stdout once the sockets are open.
The script part is stdlib only.
"""

from __future__ import annotations

import argparse
import contextlib
import heapq
import logging
import select
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.lab.netlab import Lab

log = logging.getLogger("late_udp")
READY_TIMEOUT_S = 15.0


def _endpoint(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host, int(port)


def serve(listen: tuple[str, int], backend: tuple[str, int], delay: float) -> None:
    """Relay datagrams between clients of ``listen`` and ``backend``, answers ``delay`` s late, forever."""
    front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    front.bind(listen)
    upstream: dict[socket.socket, tuple[str, int]] = {}  # backend-side socket -> its client
    by_client: dict[tuple[str, int], socket.socket] = {}
    due: list[tuple[float, int, tuple[str, int], bytes]] = []
    serial = 0
    print("ready", flush=True)
    while True:
        timeout = max(0.0, due[0][0] - time.monotonic()) if due else None
        readable, _, _ = select.select([front, *upstream], [], [], timeout)
        for sock in readable:
            data, peer = sock.recvfrom(65535)
            if sock is front:
                up = by_client.get(peer)
                if up is None:
                    up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    up.connect(backend)
                    by_client[peer], upstream[up] = up, peer
                up.send(data)
            else:
                serial += 1
                heapq.heappush(due, (time.monotonic() + delay, serial, upstream[sock], data))
        now = time.monotonic()
        while due and due[0][0] <= now:
            _, _, client, data = heapq.heappop(due)
            front.sendto(data, client)
            log.info("event=late_reply at=%.6f client=%s:%d", time.time(), *client)


def start_late_udp_relay(lab: Lab, listen: str, backend: str, delay_s: float, *,
                         port: int = 161) -> tuple[subprocess.Popen[bytes], Path]:
    """Start the relay in ``lab`` (killed by ``lab.close()``); returns the process and its log file.

    ``listen`` must be a host of the lab (``lab.add_hosts``) with nothing else bound to ``port``.
    """
    logfile = lab.tmpdir / f"late-udp-{listen}.log"
    with open(logfile, "wb") as err:
        proc = lab.popen(sys.executable, str(Path(__file__)), "--listen", f"{listen}:{port}",
                         "--backend", f"{backend}:{port}", "--delay", str(delay_s),
                         stdout=subprocess.PIPE, stderr=err)
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], READY_TIMEOUT_S)
    if not ready or proc.stdout.readline().strip() != b"ready":
        proc.kill()
        raise RuntimeError(f"late UDP relay on {listen}:{port} did not start: {logfile.read_text()[-500:]}")
    return proc, logfile


def late_reply_times(logfile: Path) -> list[float]:
    """Wall-clock times (epoch seconds) at which the relay sent its late answers."""
    out = []
    for line in logfile.read_text().splitlines():
        for word in line.split():
            if word.startswith("at="):
                out.append(float(word[3:]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--listen", required=True, type=_endpoint)
    parser.add_argument("--backend", required=True, type=_endpoint)
    parser.add_argument("--delay", type=float, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    with contextlib.suppress(KeyboardInterrupt):
        serve(args.listen, args.backend, args.delay)


if __name__ == "__main__":
    main()

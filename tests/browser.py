"""What every browser test shares: Debian's chromium (never a downloaded browser) and the real app served by
uvicorn on a free loopback port in a thread."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.requirements import missing

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


def require_chromium() -> None:
    """Skip on a laptop, fail under CI, when Debian's chromium is missing."""
    if not (os.path.exists(CHROMIUM) and shutil.which(CHROMIUM)):
        missing(f"{CHROMIUM} is not installed (apt-get install chromium)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread; yields its base URL and stops it afterwards."""
    import uvicorn

    # The socket is bound here and handed to uvicorn, so no other test process (xdist worker) can take the
    # port between choosing it and listening on it.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()

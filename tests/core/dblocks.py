"""Another party holding the database's write lock, for real: a separate process with SQLite's
``BEGIN EXCLUSIVE`` (WAL: readers go on, writers wait), or a PostgreSQL connection holding ``LOCK TABLE ... IN
EXCLUSIVE MODE`` (reads go on, writes wait for ``lock_timeout``); and a PostgreSQL server going down and
coming back (:class:`TcpRelay`)."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from sqlalchemy import text
from sqlalchemy.engine import make_url

from infra_monitor.db import make_engine

_HOLDER = """
import select, sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
select.select([sys.stdin], [], [], float(sys.argv[2]))  # until the test closes stdin, or the time is up
conn.execute("ROLLBACK")
print("released", flush=True)
"""


@contextmanager
def sqlite_write_lock(url: str, hold_s: float = 60.0) -> Iterator[subprocess.Popen[str]]:
    """Another process holds the write lock of the SQLite file of ``url`` until the block ends (or ``hold_s``)."""
    path = make_url(url).database
    proc = subprocess.Popen([sys.executable, "-c", _HOLDER, str(path), str(hold_s)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line == "locked", f"the lock holder did not start: {line!r} {proc.stderr.read() if proc.stderr else ''}"
        yield proc
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        proc.wait(timeout=max(hold_s, 0) + 30)


@contextmanager
def pg_write_lock(url: str, *tables: str) -> Iterator[None]:
    """A PostgreSQL connection holds ``EXCLUSIVE`` locks on ``tables`` until the block ends."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            trans = conn.begin()
            for table in tables:
                conn.execute(text(f'LOCK TABLE "{table}" IN EXCLUSIVE MODE'))
            try:
                yield
            finally:
                trans.rollback()
    finally:
        engine.dispose()


@contextmanager
def write_lock(url: str, *pg_tables: str, hold_s: float = 60.0) -> Iterator[None]:
    """The write lock held by someone else on either backend (on PostgreSQL: on ``pg_tables``)."""
    if url.startswith("sqlite"):
        with sqlite_write_lock(url, hold_s):
            yield
    else:
        with pg_write_lock(url, *pg_tables):
            yield


def with_lock_timeout(url: str, ms: int) -> str:
    """``url`` (PostgreSQL) whose sessions give up waiting for a lock after ``ms`` (like SQLite's busy timeout)."""
    if not url.startswith("postgresql"):
        return url
    sep = "%20" if "options=" in url else ("&options=" if "?" in url else "?options=")
    return f"{url}{sep}-clock_timeout%3D{ms}"


class TcpRelay:
    """A TCP relay on 127.0.0.1 in front of a server: ``stop()`` is the server going down (every connection cut,
    new ones refused), ``start()`` it coming back on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._listener: socket.socket | None = None
        self._socks: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(32)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        with self._lock:
            socks, self._socks = self._socks, []
            listener, self._listener = self._listener, None
        for s in [*socks, *([listener] if listener else [])]:
            with suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._socks += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

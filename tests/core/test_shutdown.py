"""SIGTERM ends a real ``infra-monitor serve`` within ``web.shutdown_timeout_s`` even while a request is still
running: a client trickling its body in byte by byte, or a write blocked in a worker thread on a database lock
held elsewhere. The process exits 0 (outcomes only: it has exited by the bound plus a margin)."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "t0ken-for-shutdown-tests"
BOUND_S = 2.0
MARGIN_S = 15.0     # interpreter exit, the notifier's stop, a slow CI machine


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int, Path]]:
    """A real ``infra-monitor serve --no-probes`` on a fresh SQLite file; yields (process, port, db file)."""
    port, db = _free_port(), tmp_path / "s.db"
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[database]\nurl = "sqlite:///{db}"\nbusy_timeout_ms = 300000\n'
                   f'[web]\nport = {port}\nadmin_token = "{TOKEN}"\nshutdown_timeout_s = {BOUND_S}\n')
    env = {**os.environ, "INFRA_MONITOR_CONFIG": str(cfg)}
    init = subprocess.run([sys.executable, "-m", "infra_monitor", "init"], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert init.returncode == 0, init.stderr
    proc = subprocess.Popen([sys.executable, "-m", "infra_monitor", "serve", "--no-probes"], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"serve did not start: {proc.communicate()[1][-2000:]}")
            time.sleep(0.2)
        yield proc, port, db
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=BOUND_S + MARGIN_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"serve was still running {BOUND_S + MARGIN_S} s after SIGTERM")
    _out, err = proc.communicate()
    assert proc.returncode == 0, err[-2000:]
    assert "event=serve_stopped" in err
    return err


def test_sigterm_during_a_trickling_upload_exits_within_the_bound(serve: tuple[subprocess.Popen[str], int, Path]
                                                                   ) -> None:
    proc, port, _db = serve
    done = threading.Event()
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)

    def trickle() -> None:              # one byte every 0.2 s of a 10 kB body: 30+ minutes to finish
        try:
            while not done.is_set():
                sock.sendall(b" ")
                done.wait(0.2)
        except OSError:
            pass                        # the server gave up on us: what the test wants

    sock.sendall(b"POST /api/tenancy/tenants/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 b"Authorization: Token " + TOKEN.encode() + b"\r\nContent-Length: 10000\r\n\r\n")
    sender = threading.Thread(target=trickle, daemon=True)
    sender.start()
    try:
        time.sleep(1.0)                 # the request is in the app, reading its body
        _stop(proc)
    finally:
        done.set()
        sender.join(5)
        sock.close()


def test_sigterm_during_a_write_blocked_on_a_database_lock_exits_within_the_bound(
        serve: tuple[subprocess.Popen[str], int, Path]) -> None:
    proc, port, db = serve
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")   # the write lock, held for the whole test: the app's writer waits 300 s
    outcome: list[object] = []

    def write() -> None:
        try:
            outcome.append(httpx.post(f"http://127.0.0.1:{port}/api/tenancy/tenants/", timeout=60,
                                      headers={"Authorization": f"Token {TOKEN}"},
                                      json={"slug": "blocked", "name": "Blocked"}).status_code)
        except httpx.HTTPError as exc:
            outcome.append(exc)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        time.sleep(1.0)                 # the write is waiting for the lock in a worker thread
        err = _stop(proc)
        assert "event=serve_abandoned_requests" in err
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        writer.join(10)
    assert 201 not in outcome           # nothing was written
    check = sqlite3.connect(db)
    try:
        assert check.execute("SELECT count(*) FROM tenant").fetchone() == (0,)
    finally:
        check.close()

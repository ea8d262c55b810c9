"""A second ``serve`` or ``poller`` on the same SQLite database and poller group exits 75 at once, before a second
poller starts; a taken port is a one-line error, not a traceback after the poller ran (real processes)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from infra_monitor.cli.common import EXIT_RUNNING

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(tmp_path: Path, name: str, port: int) -> dict[str, str]:
    cfg = tmp_path / f"{name}.toml"
    cfg.write_text(f'[database]\nurl = "sqlite:///{tmp_path / name}.db"\n[web]\nport = {port}\n'
                   '[probes.icmp]\ninterval_s = 5\ntimeout_s = 1\npackets = 1\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("INFRA_MONITOR_")}
    env["INFRA_MONITOR_CONFIG"] = str(cfg)
    init = subprocess.run([sys.executable, "-m", "infra_monitor", "--lang", "en",
                           "init"], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert init.returncode == 0, init.stderr
    return env


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "infra_monitor", "--lang", "en",
                           *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


@pytest.fixture
def first(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], dict[str, str], int]]:
    """A running ``serve`` (web and poller) on a fresh SQLite database, answering HTTP."""
    port = _free_port()
    env = _config(tmp_path, "a", port)
    proc = subprocess.Popen([sys.executable, "-m", "infra_monitor", "--lang", "en", "serve"], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        answered = False
        while time.monotonic() < deadline and proc.poll() is None and not answered:
            try:
                answered = httpx.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code == 200
            except httpx.TransportError:
                time.sleep(0.2)
        assert answered, f"serve did not answer; stderr: {proc.stderr.read() if proc.poll() is not None else ''}"
        yield proc, env, port
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_second_serve_and_poller_refuse_with_exit_75_and_start_no_poller(
        first: tuple[subprocess.Popen[str], dict[str, str], int]) -> None:
    proc, env, port = first

    second = _run(env, "serve")
    poller = _run(env, "poller")

    for other in (second, poller):
        assert other.returncode == EXIT_RUNNING == 75, other.stderr
        assert f"another infra-monitor serve (pid {proc.pid}) is running on this database" in other.stderr
        assert "event=poller_started" not in other.stderr and "event=serve_started" not in other.stderr
        assert "Traceback" not in other.stderr
    assert httpx.get(f"http://127.0.0.1:{port}/login", timeout=5).status_code == 200  # the first one serves on

    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert err.count("event=poller_started") == 1 and "event=serve_stopped" in err


def test_port_in_use_is_one_line_and_no_poller_starts(
        first: tuple[subprocess.Popen[str], dict[str, str], int], tmp_path: Path) -> None:
    _proc, _env, port = first
    other_db = _config(tmp_path, "b", port)  # another database, so no lock stands in the way: only the port

    result = _run(other_db, "serve")

    assert result.returncode == 1
    assert f"error: cannot listen on 127.0.0.1:{port}: " in result.stderr and "--port" in result.stderr
    assert "Traceback" not in result.stderr and "event=poller_started" not in result.stderr


def test_help_of_serve_and_poller_documents_exit_75() -> None:
    for command in ("serve", "poller"):
        result = _run({k: v for k, v in os.environ.items() if not k.startswith("INFRA_MONITOR_")}, command,
                      "--help")
        assert result.returncode == 0 and "Exits 75" in result.stdout, result.stdout


@pytest.mark.postgres
def test_on_postgresql_a_second_poller_of_the_group_shares_it_instead_of_exiting_75(
        pg_schema_url: str, tmp_path: Path) -> None:
    from sqlalchemy import text

    from infra_monitor.db import make_engine

    engine = make_engine(pg_schema_url)
    with engine.begin() as conn:  # a fresh schema of this session's
        schema = conn.execute(text("select current_schema()")).scalar_one()
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    cfg = tmp_path / "pg.toml"
    cfg.write_text(f'[database]\nurl = "{pg_schema_url}"\n[poller]\nheartbeat_s = 1\n[probes.icmp]\ninterval_s = 5\n'
                   'timeout_s = 1\npackets = 1\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("INFRA_MONITOR_")}
    env["INFRA_MONITOR_CONFIG"] = str(cfg)
    assert _run(env, "init").returncode == 0
    argv = [sys.executable, "-m", "infra_monitor", "--lang", "en", "poller"]
    pollers = [subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(2)]
    probe = make_engine(pg_schema_url)
    try:
        deadline = time.monotonic() + 60
        rows: list[tuple[int, int]] = []
        while time.monotonic() < deadline and all(p.poll() is None for p in pollers) and len(rows) < 2:
            with probe.connect() as conn:
                rows = [tuple(r) for r in conn.execute(text(
                    "SELECT pid, backend_pid FROM poller_instance WHERE poller_group = 'default'"))]
            time.sleep(0.2)
        assert all(p.poll() is None for p in pollers), [p.communicate()[1][-2000:] for p in pollers]
        assert sorted(pid for pid, _ in rows) == sorted(p.pid for p in pollers), rows  # both serve the group
    finally:
        for p in pollers:
            p.send_signal(signal.SIGTERM)
        errs = [p.communicate(timeout=30)[1] for p in pollers]
    assert [p.returncode for p in pollers] == [0, 0], errs
    assert all("Traceback" not in e for e in errs), errs
    with probe.connect() as conn:  # a clean stop removes the heartbeat: the peers take over at once
        assert conn.execute(text("SELECT count(*) FROM poller_instance")).scalar_one() == 0
    probe.dispose()

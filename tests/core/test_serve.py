"""`infra-monitor serve` answers HTTP 200 and stops cleanly on SIGINT and SIGTERM (a real process)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "infra_monitor", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_serve_answers_200_then_stops_cleanly_on_signal(tmp_path: Path, sig: signal.Signals) -> None:
    port = _free_port()
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path}/s.db"\n[web]\nport = {port}\n'
        '[probes.icmp]\ninterval_s = 5\ntimeout_s = 1\npackets = 1\n'
    )
    env = {**os.environ, "INFRA_MONITOR_CONFIG": str(cfg)}
    init = _cli("init", env=env)
    assert init.returncode == 0, init.stderr
    proc = subprocess.Popen([sys.executable, "-m", "infra_monitor", "serve"], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/", timeout=2, follow_redirects=True).status_code
                break
            except httpx.TransportError:
                if proc.poll() is not None:
                    break
                time.sleep(0.2)
        assert status == 200, f"no HTTP 200 (got {status}); stderr: {proc.stderr.read() if proc.poll() else ''}"
        proc.send_signal(sig)
        _out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "event=serve_stopped" in err
    assert "Traceback" not in err
    assert "level=error" not in err

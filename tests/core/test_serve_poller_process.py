"""``serve`` runs its poller in a child process of its own (real processes, a real SQLite database).

The web server and the sweeps then never share an interpreter lock; the child is watched: killed, it is
started again; the parent killed (even by SIGKILL), the child goes too and the poller lock is free again;
SIGTERM stops both cleanly.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.deploy.conftest import Deployed, make_deployed

ROOT = Path(__file__).resolve().parents[2]


class Served:
    def __init__(self, deployed: Deployed, log: Path) -> None:
        self.deployed = deployed
        self.log = log
        self.proc = subprocess.Popen([sys.executable, "-m", "infra_monitor", "--lang", "en", "serve"],
                                     env=deployed.env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                     stderr=log.open("w"), text=True)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, pattern: str, after: int = 0, timeout: float = 90) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.compile(pattern).search(self.text(), after)
            if found:
                return found
            if self.proc.poll() is not None:
                raise AssertionError(f"serve ended: {self.text()[-3000:]}")
            time.sleep(0.2)
        raise AssertionError(f"{pattern!r} never logged: {self.text()[-3000:]}")


def _parent_of(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return None
    return int(re.search(r"^PPid:\s+(\d+)", status, re.M).group(1))  # type: ignore[union-attr]


def _gone(pid: int, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2] if Path(f"/proc/{pid}").exists() else "gone"
        if state in ("gone", "Z"):
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    deployed = make_deployed(tmp_path)
    s = Served(deployed, tmp_path / "serve.log")
    try:
        yield s
    finally:
        if s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait()


def test_the_poller_is_a_child_process_restarted_when_it_dies_and_stopped_with_serve(served: Served) -> None:
    first = served.wait_for(r"event=poller_process pid=(\d+)")
    child = int(first.group(1))
    served.wait_for(r"event=poller_started")
    assert child != served.proc.pid and _parent_of(child) == served.proc.pid

    os.kill(child, signal.SIGKILL)
    died = served.wait_for(rf"event=poller_died pid={child} exitcode=-9", first.end())
    again = served.wait_for(r"event=poller_process pid=(\d+)", died.end())
    second = int(again.group(1))
    assert second != child and _parent_of(second) == served.proc.pid
    served.wait_for(r"event=poller_started", again.end())
    port = served.deployed.port
    assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200  # the web never stopped

    served.proc.send_signal(signal.SIGTERM)
    assert served.proc.wait(timeout=60) == 0, served.text()[-3000:]
    assert _gone(second), "the poller outlived serve"
    log = served.text()
    assert "event=poller_stopped" in log[again.end():] and "event=serve_stopped" in log
    assert "Traceback" not in log


def test_a_killed_serve_takes_its_poller_along_and_frees_the_lock(served: Served) -> None:
    child = int(served.wait_for(r"event=poller_process pid=(\d+)").group(1))
    served.wait_for(r"event=poller_started")
    served.proc.kill()  # SIGKILL: no handler runs in serve
    served.proc.wait()
    assert _gone(child), "the poller survived its serve"
    again = served.deployed.run("check-config", "--format", "tsv")
    assert "poller\tok\t" in again.stdout, again.stdout

"""A configured SQLite database and a runner of the real ``infra-monitor`` command against it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Deployed:
    """A configuration file, its database file and the environment that selects them."""

    config: Path
    db: Path
    port: int
    env: dict[str, str]

    def run(self, *args: str, lang: str = "en", timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "infra_monitor", "--lang", lang, *args], env=self.env,
                              cwd=ROOT, capture_output=True, text=True, timeout=timeout)

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-m", "infra_monitor", "--lang", "en", *args], env=self.env,
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def make_deployed(tmp_path: Path, extra: str = "", init: bool = True) -> Deployed:
    tmp_path.mkdir(parents=True, exist_ok=True)
    port = free_port()
    db = tmp_path / "im.db"
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{db}"\n[web]\nport = {port}\n'
                      '[probes.icmp]\ninterval_s = 5\ntimeout_s = 1\npackets = 1\n' + extra, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("INFRA_MONITOR_")}
    env["INFRA_MONITOR_CONFIG"] = str(config)
    deployed = Deployed(config, db, port, env)
    if init:
        done = deployed.run("init")
        assert done.returncode == 0, done.stderr
    return deployed


@pytest.fixture
def deployed(tmp_path: Path) -> Deployed:
    return make_deployed(tmp_path)


Factory = Callable[..., Deployed]

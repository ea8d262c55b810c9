"""What a test needs from the machine, with one rule: skip with a clear reason on a laptop, FAIL under CI.

``CI`` set (to anything non-empty) means the run must prove everything, so a missing PostgreSQL, root,
network namespaces or browser is a failure, never a skip.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess

import pytest

PG_HOST, PG_PORT, PG_DB = "127.0.0.1", 5432, "test"
PG_URL = f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}/{PG_DB}"


def in_ci() -> bool:
    return bool(os.environ.get("CI"))


def missing(reason: str) -> None:
    """Skip (laptop) or fail (CI) with ``reason``."""
    if in_ci():
        pytest.fail(f"CI requires this: {reason}", pytrace=False)
    pytest.skip(reason)


def postgres_url() -> str:
    return os.environ.get("INFRA_MONITOR_TEST_PG_URL", PG_URL)


def require_postgres() -> str:
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=2):
            pass
    except OSError as exc:
        missing(f"PostgreSQL is not reachable on {PG_HOST}:{PG_PORT} ({exc})")
    return postgres_url()


def require_root_netns() -> None:
    if os.geteuid() != 0:
        missing("the lab needs root (network namespaces, raw ICMP sockets)")
    if not shutil.which("ip"):
        missing("the lab needs iproute2 ('ip')")
    probe = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    if probe.returncode != 0:
        missing(f"network namespaces unavailable: {probe.stderr.strip()}")


def require_commands(*names: str) -> None:
    absent = [n for n in names if not shutil.which(n)]
    if absent:
        missing(f"missing commands: {', '.join(absent)} (make test installs them with apt-get)")


def require_raw_icmp() -> None:
    if os.geteuid() != 0:
        missing("raw ICMP sockets need root")

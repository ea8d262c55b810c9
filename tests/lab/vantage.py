"""Vantage namespaces: a poller process in a network namespace of its own, reaching a lab's targets and the
root namespace's PostgreSQL, as if it ran on another machine (the data center, a district).

Each :class:`VantageNs` (``imlab-<pid>-v<n>``, so a dead run's are removed by ``cleanup_stale_labs``) has its
loopback and one veth straight to the lab's far namespace (``/32`` addresses taken from the lab's prefix, so
no routing through the root namespace and no change to its forwarding): the lab's targets are reached through
it, from the vantage's own source address. PostgreSQL is reached on the namespace's own ``127.0.0.1:5432``
through :mod:`tests.lab.pgrelay` (TCP in the namespace → a UNIX socket file → TCP to the root's 127.0.0.1), so
the poller keeps the very database URL of the test. :meth:`VantageNs.cut` makes a target unreachable from
this vantage only (a blackhole route, nothing answers), like a district whose uplink to the core is down.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from tests.lab.agents import die_with_parent
from tests.lab.hostnet import checked, ip, kill_namespace_processes
from tests.lab.netlab import Lab, terminate_process

ROOT = Path(__file__).resolve().parents[2]
_seq = itertools.count()


def _wait_ready(proc: subprocess.Popen[str], what: str) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if line.strip() != "ready":
        raise RuntimeError(f"{what} did not start: {line!r} {proc.stderr.read() if proc.stderr else ''}")


class PgRelay:
    """The root side: a UNIX socket in the lab's temp dir relayed to ``host:port`` (PostgreSQL)."""

    def __init__(self, lab: Lab, host: str = "127.0.0.1", port: int = 5432) -> None:
        self.path = str(lab.tmpdir / "pg.sock")
        self.port = port
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.lab.pgrelay", "unix-to-tcp", self.path, host,
                                      str(port)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, preexec_fn=die_with_parent)
        _wait_ready(self.proc, "the root-side PostgreSQL relay")

    def close(self) -> None:
        terminate_process(self.proc)


class VantageNs:
    """A namespace of its own for one poller process: lab targets through a veth to the far namespace,
    PostgreSQL on its 127.0.0.1 through the relay."""

    def __init__(self, lab: Lab, relay: PgRelay) -> None:
        self.lab = lab
        n = next(_seq)
        self.name = f"imlab-{os.getpid()}-v{n}"
        self.far_if = f"imv{os.getpid() % 100000}-{n}"[:15]
        self._procs: list[subprocess.Popen[Any]] = []
        self.address, self.far_address = lab.silent_addresses(2)  # /32s of the lab's own prefix
        try:
            ip("netns", "add", self.name)
            ip("link", "add", "vant0", "netns", self.name, "type", "veth", "peer", "name", self.far_if,
               "netns", lab.name)
            checked(["ip", "-n", self.name, "-batch", "-"], "\n".join([
                "link set lo up", "link set vant0 up", f"addr add {self.address}/32 dev vant0",
                f"route add {self.far_address}/32 dev vant0", f"route add {lab.prefix} via {self.far_address}",
            ]) + "\n")
            checked(["ip", "-n", lab.name, "-batch", "-"], "\n".join([
                f"link set {self.far_if} up", f"addr add {self.far_address}/32 dev {self.far_if}",
                f"route add {self.address}/32 dev {self.far_if}",
            ]) + "\n")
            relay_in = self.popen([sys.executable, "-m", "tests.lab.pgrelay", "tcp-to-unix", "127.0.0.1",
                                   str(relay.port), relay.path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)
            _wait_ready(relay_in, f"the PostgreSQL relay in {self.name}")
        except BaseException:
            self.close()
            raise

    def popen(self, argv: list[str], **kw: Any) -> subprocess.Popen[Any]:
        """Start ``argv`` inside this namespace (``ip netns exec`` execs it: the Popen's pid is the process's)."""
        if threading.current_thread() is threading.main_thread() and "preexec_fn" not in kw:
            kw["preexec_fn"] = die_with_parent
        kw.setdefault("cwd", ROOT)
        proc: subprocess.Popen[Any] = subprocess.Popen(["ip", "netns", "exec", self.name, *argv], **kw)
        self._procs.append(proc)
        return proc

    def cut(self, addr: str) -> None:
        """From this vantage only, ``addr`` no longer answers (its packets go nowhere)."""
        checked(["ip", "-n", self.name, "-batch", "-"], f"route add blackhole {addr}/32\n")

    def close(self) -> None:
        for proc in self._procs:
            terminate_process(proc)
        kill_namespace_processes(self.name)
        subprocess.run(["ip", "-n", self.lab.name, "link", "del", self.far_if], capture_output=True)
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline and Path(f"/run/netns/{self.name}").exists():
            time.sleep(0.05)


__all__ = ["PgRelay", "VantageNs"]

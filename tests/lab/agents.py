"""Real agents run inside a lab namespace: net-snmp snmpd, snmpsim, and the late ICMP responder.

Every agent has ``start()``, ``stop()``, ``restart()`` (an agent reboot: sysUpTime and simulated
counters start from zero again) and ``running``. They are created through ``tests.lab.netlab.Lab``
(``lab.start_snmpd``, ``lab.start_snmpsim``, ``lab.start_late_responder``), which also stops them.
Secrets (communities, v3 keys) go only into 0600 files in the lab's temp dir, never into logs.
"""

from __future__ import annotations

import ctypes
import ipaddress
import logging
import math
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from tests.lab.snmprec import InterfaceSpec, agent_snmprec

if TYPE_CHECKING:
    from tests.lab.netlab import Lab

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1
SYS_UPTIME_OID = "1.3.6.1.2.1.1.3.0"
AGENTS_PER_SNMPSIM_PROCESS = 150


def die_with_parent() -> None:
    """preexec_fn: the child gets SIGKILL when the process that started it dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


class AgentError(RuntimeError):
    """An agent did not come up; the message names its log file."""


class _Agent:
    """A set of processes in the lab namespace that can be stopped and started again."""

    startup_timeout = 20.0

    def __init__(self, lab: Lab, workdir: Path) -> None:
        self.lab = lab
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self._procs: list[subprocess.Popen[Any]] = []

    @property
    def running(self) -> bool:
        return bool(self._procs) and all(p.poll() is None for p in self._procs)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self._procs if p.poll() is None]

    def _launch(self, argv: list[str], logname: str, env: dict[str, str] | None = None,
                stdout_pipe: bool = False) -> subprocess.Popen[Any]:
        logfile = open(self.workdir / logname, "ab")  # noqa: SIM115 - handed to the child
        try:
            proc = self.lab.popen(*argv, stdout=subprocess.PIPE if stdout_pipe else logfile,
                                  stderr=logfile, stdin=subprocess.DEVNULL,
                                  env={**os.environ, **(env or {})})
        finally:
            logfile.close()
        self._procs.append(proc)
        return proc

    def start(self) -> None:
        """Start the agent's processes; each agent kind (snmpd, snmpsim, responder) defines how."""
        raise TypeError(f"{type(self).__name__} does not define how to start its processes")

    def stop(self) -> None:
        """Stop the agent (SIGTERM, then SIGKILL after 3 s)."""
        for proc in self._procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self._procs:
            try:
                proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=3)
            if proc.stdout:
                proc.stdout.close()
        self._procs = []

    def restart(self) -> None:
        """Agent reboot: stop, then start again."""
        self.stop()
        self.start()

    def _fail(self, what: str, logname: str) -> AgentError:
        self.stop()
        tail = (self.workdir / logname).read_text(errors="replace")[-1500:]
        return AgentError(f"{what}; log {self.workdir / logname}:\n{tail}")

    def _wait_snmp(self, addr: str, community: str, logname: str) -> None:
        """Wait until ``addr`` answers a v2c GET of sysUpTime (sent from the root namespace)."""
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if not self.running:
                raise self._fail(f"agent for {addr} exited during startup", logname)
            done = subprocess.run(["snmpget", "-v2c", "-c", community, "-r0", "-t0.5", "-Oqv", addr,
                                   SYS_UPTIME_OID], capture_output=True, text=True)
            if done.returncode == 0 and done.stdout.strip():
                return
            time.sleep(0.1)
        raise self._fail(f"agent for {addr} did not answer within {self.startup_timeout:.0f}s", logname)


class SnmpdAgent(_Agent):
    """net-snmp ``snmpd`` in the foreground on ``udp:<addr>:161`` with its own conf and state dir.

    It serves the far namespace's real interfaces (``lo``, ``lab0``) in IF-MIB; sysUpTime is the
    agent's uptime, so ``restart()`` resets it, while the interface counters are the kernel's.
    The v3 user (``v3_user`` with ``auth_key``/``priv_key``) gets authPriv read-only access.
    """

    def __init__(self, lab: Lab, addr: str, *, community: str = "public", v3_user: str | None = None,
                 auth_key: str | None = None, priv_key: str | None = None, auth_proto: str = "SHA",
                 priv_proto: str = "AES", sys_name: str | None = None) -> None:
        super().__init__(lab, lab.tmpdir / f"snmpd-{addr}")
        if v3_user and (not auth_key or not priv_key or len(auth_key) < 8 or len(priv_key) < 8):
            raise ValueError("a v3 user needs auth_key and priv_key of at least 8 characters")
        self.addr = addr
        self.community = community
        self.v3_user = v3_user
        self.sys_name = sys_name or f"snmpd-{addr}"
        self.conf = self.workdir / "snmpd.conf"
        self.persist = self.workdir / "persist"
        self.persist.mkdir(exist_ok=True)
        lines = [
            f"rocommunity {community} default",
            f"sysName {self.sys_name}",
            "sysLocation imlab",
            "sysContact imlab@example.invalid",
            "sysServices 72",
        ]
        if v3_user:
            lines += [f'createUser {v3_user} {auth_proto} "{auth_key}" {priv_proto} "{priv_key}"',
                      f"rouser {v3_user} priv"]
        fd = os.open(self.conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write("\n".join(lines) + "\n")

    def start(self) -> None:
        """Start snmpd and wait until it answers."""
        if self.running:
            return
        argv = ["snmpd", "-f", "-Lo", "-C", "-c", str(self.conf), "-p", str(self.workdir / "snmpd.pid"),
                f"udp:{self.addr}:161"]
        self._launch(argv, "snmpd.log", env={"SNMP_PERSISTENT_DIR": str(self.persist), "MIBS": ""})
        self._wait_ready()
        log.info("event=snmpd_up lab=%s addr=%s v3=%s", self.lab.name, self.addr, bool(self.v3_user))

    def _wait_ready(self) -> None:
        if self.lab.is_configured(self.addr):
            self._wait_snmp(self.addr, self.community, "snmpd.log")
        else:
            _wait_bound(self, [self.addr], "snmpd.log")


class SnmpSim(_Agent):
    """snmpsim agents, one SNMP engine per address on port 161, with IF-MIB data.

    Each agent has ``interfaces`` interfaces (ifIndex 1..n). ifHCInOctets/ifHCOutOctets (and the
    32-bit ifInOctets/ifOutOctets, wrapping at 2^32) grow at exactly the configured bit rate from 0
    at agent start; sysUpTime counts from 0 too, so ``restart()`` is a reboot. ``rate_bps`` is one
    rate for every interface and direction, or a mapping ifIndex -> bps | (in_bps, out_bps)
    (missing indexes default to 1 Mbit/s). Interfaces in ``down_interfaces`` are admin up, oper down.
    Agents are spread over ``processes`` snmpsim processes (default: one per 150 agents, at most the
    number of CPUs) so that 300 agents start in about 15 s on two cores.
    """

    startup_timeout = 180.0

    def __init__(self, lab: Lab, addresses: list[str], *, interfaces: int = 8,
                 rate_bps: int | Mapping[int, int | tuple[int, int]] = 1_000_000,
                 community: str = "public", down_interfaces: Collection[int] = (),
                 error_rate: int = 0, speed_mbps: int = 1000, processes: int | None = None) -> None:
        super().__init__(lab, lab.tmpdir / f"snmpsim-{len(list(lab.tmpdir.glob('snmpsim-*')))}")
        if not addresses:
            raise ValueError("snmpsim needs at least one address")
        self.addresses = list(addresses)
        self.community = community
        self.interfaces = [
            InterfaceSpec(index=i, in_bps=_rates(rate_bps, i)[0], out_bps=_rates(rate_bps, i)[1],
                          oper_up=i not in down_interfaces, error_rate=error_rate, speed_mbps=speed_mbps)
            for i in range(1, interfaces + 1)
        ]
        if processes is None:
            processes = min(os.cpu_count() or 1, math.ceil(len(self.addresses) / AGENTS_PER_SNMPSIM_PROCESS))
        self.processes = max(1, min(processes, len(self.addresses)))
        self._write_data()

    def rate_bps(self, addr: str, if_index: int) -> tuple[int, int]:
        """Configured (in_bps, out_bps) of interface ``if_index`` of the agent at ``addr``."""
        if addr not in self.addresses:
            raise KeyError(addr)
        spec = self.interfaces[if_index - 1]
        return spec.in_bps, spec.out_bps

    def sys_name(self, addr: str) -> str:
        """sysName.0 served by the agent at ``addr``."""
        return f"sim-{addr}"

    def _write_data(self) -> None:
        for addr in self.addresses:
            agent_dir = self.workdir / "data" / addr
            agent_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(agent_dir / f"{self.community}.snmprec", os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                         0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(agent_snmprec(self.sys_name(addr), self.interfaces))
        (self.workdir / "cache").mkdir(exist_ok=True)

    def _shard_argv(self, shard: list[str]) -> list[str]:
        argv = [sys.executable, "-O", "-m", "snmpsim.commands.responder", "--log-level=error"]
        for addr in shard:
            engine_id = "80001f8804" + b"imlab".hex() + ipaddress.IPv4Address(addr).packed.hex()
            argv += ["--v3-engine-id", engine_id, "--v3-user", "imlab-noauth",
                     "--data-dir", str(self.workdir / "data" / addr),
                     "--agent-udpv4-endpoint", f"{addr}:161"]
        return argv

    def start(self) -> None:
        """Start every snmpsim process and wait until all agents answer."""
        if self.running:
            return
        env = {"SNMPSIM_ALLOW_ROOT": "true", "TMPDIR": str(self.workdir / "cache")}
        shards = [self.addresses[k::self.processes] for k in range(self.processes)]
        for k, shard in enumerate(shards):
            self._launch(self._shard_argv(shard), f"snmpsim-{k}.log", env=env)
        for k, shard in enumerate(shards):
            live = [a for a in shard if self.lab.is_configured(a)]
            if live:
                self._wait_snmp(live[-1], self.community, f"snmpsim-{k}.log")
            else:
                _wait_bound(self, shard, f"snmpsim-{k}.log")
        log.info("event=snmpsim_up lab=%s agents=%d processes=%d interfaces=%d", self.lab.name,
                 len(self.addresses), self.processes, len(self.interfaces))


class Responder(_Agent):
    """Raw-socket ICMP echo responder in the far namespace that answers ``addr`` after ``delay_s``.

    ``addr`` is not configured on any interface, so the kernel never answers it; the responder
    sees requests on the veth with a packet socket and sends each reply ``delay_s`` later.
    """

    def __init__(self, lab: Lab, addr: str, delay_s: float) -> None:
        super().__init__(lab, lab.tmpdir / f"responder-{addr}")
        self.addr = addr
        self.delay_s = delay_s

    def start(self) -> None:
        """Start the responder and wait until its sockets are open."""
        if self.running:
            return
        script = Path(__file__).with_name("late_responder.py")
        proc = self._launch([sys.executable, str(script), "--addr", self.addr, "--delay", str(self.delay_s),
                             "--ifname", "lab0"], "responder.log", stdout_pipe=True)
        if not _read_ready(proc.stdout, self.startup_timeout):
            raise self._fail(f"late responder for {self.addr} did not start", "responder.log")
        log.info("event=late_responder_up lab=%s addr=%s delay_s=%.3f", self.lab.name, self.addr,
                 self.delay_s)


def _rates(rate_bps: int | Mapping[int, int | tuple[int, int]], if_index: int) -> tuple[int, int]:
    value: int | tuple[int, int]
    value = rate_bps.get(if_index, 1_000_000) if isinstance(rate_bps, Mapping) else rate_bps
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def _read_ready(stream: IO[bytes] | None, timeout: float) -> bool:
    if stream is None:
        return False
    ready, _, _ = select.select([stream], [], [], timeout)
    return bool(ready) and stream.readline().strip() == b"ready"


def _wait_bound(agent: _Agent, addrs: list[str], logname: str) -> None:
    """Wait until the agent's processes have UDP sockets bound on ``<addr>:161`` for all addrs."""
    wanted = {f"{ipaddress.IPv4Address(a).packed[::-1].hex().upper()}:00A1" for a in addrs}
    deadline = time.monotonic() + agent.startup_timeout
    while time.monotonic() < deadline:
        if not agent.running:
            raise agent._fail("agent exited during startup", logname)
        bound: set[str] = set()
        for pid in agent.pids:
            try:
                lines = Path(f"/proc/{pid}/net/udp").read_text().splitlines()[1:]
            except OSError:
                continue
            bound.update(line.split()[1] for line in lines)
        if wanted <= bound:
            return
        time.sleep(0.1)
    raise agent._fail("agent did not bind its addresses in time", logname)

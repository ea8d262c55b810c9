"""Network lab of real agents in a Linux network namespace, for tests and benchmarks.

The test process stays in the ROOT namespace. Each ``Lab`` creates one far namespace
``imlab-<pid>-<n>``, a veth pair root<->far with a /30 taken from 198.18.255.0/24, and routes a
/20 of the RFC 2544 benchmark range 198.18.0.0/15 (``lab.prefix``) through it. Target addresses
live on the far namespace's ``lo``. An address of ``lab.prefix`` that is not configured is dropped
in silence: a blackhole route plus an nft rule make sure no ICMP unreachable ever comes back.
Nothing is ever sent outside the namespace this module creates and deletes.

API (plain Python, no pytest; usable from tests and from bench/)::

    from tests.lab.netlab import Lab, LabUnavailable, check_lab_requirements, cleanup_stale_labs

    check_lab_requirements() -> str | None      # None if a lab can run here, else the reason
    lab = Lab()                                 # or: with Lab() as lab: ...   (raises LabUnavailable)
    lab.name: str                               # "imlab-<pid>-<n>", the far namespace
    lab.prefix: ipaddress.IPv4Network           # a /20 of 198.18.0.0/15, routed root -> far
    lab.root_address: str                       # root end of the veth: the source address of probes
    lab.root_if: str; lab.tmpdir: Path          # root veth name; temp dir (agent confs and logs)
    lab.add_hosts(n) -> list[str]               # n new addresses on far lo: they answer ping (~40 ms/1000)
    lab.silent_addresses(n) -> list[str]        # n routed, never configured addresses: time out silently
    lab.host_down(addr) / lab.host_up(addr)     # remove / re-add a host address (ICMP and SNMP go silent)
    lab.is_configured(addr) -> bool             # host currently up
    lab.set_loss(percent, udp=False)            # drop that share of ICMP (and UDP) entering the far ns
    lab.clear_loss()
    lab.run(*cmd, **kw) -> CompletedProcess     # command inside the far ns (check=True, text output)
    lab.popen(*cmd, **kw) -> Popen              # process inside the far ns, killed by close()
    lab.start_snmpd(addr, *, community="public", v3_user=None, auth_key=None, priv_key=None,
                    auth_proto="SHA", priv_proto="AES", sys_name=None) -> SnmpdAgent
    lab.start_snmpsim(addresses, *, interfaces=8, rate_bps=1_000_000, community="public",
                      down_interfaces=(), error_rate=0, speed_mbps=1000, processes=None) -> SnmpSim
        # rate_bps: int for every interface, or {ifIndex: bps | (in_bps, out_bps)}
    lab.start_late_responder(addr, delay_s) -> Responder   # addr from silent_addresses()
    lab.close()                                 # idempotent; also registered with atexit

Agents (``tests.lab.agents``) have ``start()``, ``stop()``, ``restart()``, ``running`` and ``pids``;
``restart()`` is an agent reboot (sysUpTime and simulated counters start again from zero).
``SnmpSim``: ``addresses``, ``community``, ``rate_bps(addr, if_index) -> (in_bps, out_bps)``,
``sys_name(addr)``; it serves sysDescr/sysObjectID/sysUpTime/sysName, ifNumber, ifTable (ifDescr
``GigabitEthernet0/i``, ifAdminStatus, ifOperStatus, ifIn/OutOctets wrapping at 2^32,
ifIn/OutErrors) and ifXTable (ifName ``Gi0/i``, ifHCIn/OutOctets, ifHighSpeed, ifAlias).
``SnmpdAgent`` is net-snmp serving the far namespace's real interfaces (lo, lab0). Use numeric
OIDs: no MIB files are installed. If the test process dies, its agents die with it (PDEATHSIG)
and the next ``Lab()`` removes namespaces, veths and temp dirs of dead ``imlab-<pid>-*`` owners.
"""

from __future__ import annotations

import atexit
import contextlib
import ipaddress
import itertools
import logging
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.lab.agents import Responder, SnmpdAgent, SnmpSim, die_with_parent
from tests.lab.hostnet import (
    LabUnavailable,
    allocation_lock,
    check_lab_requirements,
    checked,
    cleanup_stale_labs,
    free_link,
    free_prefix,
    ip,
    kill_namespace_processes,
    root_ifname,
)

log = logging.getLogger(__name__)

FAR_IF = "lab0"
NFT_TABLE = "imlab"
_counter = itertools.count()

__all__ = [
    "Lab",
    "LabUnavailable",
    "Responder",
    "SnmpSim",
    "SnmpdAgent",
    "check_lab_requirements",
    "cleanup_stale_labs",
]



class Lab:
    """One far network namespace with routed target addresses and real agents inside."""

    def __init__(self) -> None:
        reason = check_lab_requirements(need_snmp=False)
        if reason:
            raise LabUnavailable(reason)
        self.closed = False
        self._procs: list[subprocess.Popen[Any]] = []
        self._agents: list[SnmpdAgent | SnmpSim | Responder] = []
        self._configured: set[str] = set()
        self._pool: Iterator[ipaddress.IPv4Address]
        pid, seq = os.getpid(), next(_counter)
        self.name = f"imlab-{pid}-{seq}"
        self.root_if = root_ifname(pid, seq)
        self.tmpdir = Path(tempfile.mkdtemp(prefix=f"{self.name}-"))
        atexit.register(self.close)
        try:
            with allocation_lock():
                cleanup_stale_labs()
                self.prefix = free_prefix()
                link = free_link()
                hosts = list(link.hosts())
                self.root_address, self.far_address = str(hosts[0]), str(hosts[1])
                self._build(link.prefixlen)
        except BaseException:
            self.close()
            raise
        self._pool = (a for a in self.prefix.hosts() if a.packed[3] not in (0, 255))
        log.info("event=lab_up name=%s prefix=%s link=%s", self.name, self.prefix, self.root_address)

    # -- construction ---------------------------------------------------------------------------
    def _build(self, link_len: int) -> None:
        ip("netns", "add", self.name)
        ip("link", "add", self.root_if, "type", "veth", "peer", "name", FAR_IF, "netns", self.name)
        ip("addr", "add", f"{self.root_address}/{link_len}", "dev", self.root_if)
        ip("link", "set", self.root_if, "up")
        self._batch([
            "link set lo up",
            f"link set {FAR_IF} up",
            f"addr add {self.far_address}/{link_len} dev {FAR_IF}",
            f"route add default via {self.root_address}",
            f"route add blackhole {self.prefix}",
        ])
        # Agents may bind to a host address while the host is down (host_down / restart).
        self.run("sysctl", "-qw", "net.ipv4.ip_nonlocal_bind=1", "net.ipv4.icmp_ratelimit=0",
                 "net.ipv4.icmp_msgs_per_sec=100000", "net.ipv4.icmp_msgs_burst=100000")
        # Unconfigured addresses must stay silent; port-unreachable from a real host is kept.
        self._nft(f"""
            table inet {NFT_TABLE} {{
              chain input {{ type filter hook input priority 0; policy accept; }}
              chain output {{
                type filter hook output priority 0; policy accept;
                icmp type destination-unreachable icmp code != port-unreachable drop
              }}
            }}""")
        ip("route", "add", str(self.prefix), "via", self.far_address, "dev", self.root_if)

    def _batch(self, lines: list[str]) -> None:
        if lines:
            checked(["ip", "-n", self.name, "-batch", "-"], "\n".join(lines) + "\n")

    def _nft(self, script: str) -> None:
        checked(self._ns_argv(("nft", "-f", "-")), script)

    # -- addresses ------------------------------------------------------------------------------
    def _take(self, n: int) -> list[str]:
        out = [str(a) for a in itertools.islice(self._pool, n)]
        if len(out) < n:
            raise LabUnavailable(f"lab prefix {self.prefix} has no {n} more free addresses")
        return out

    def add_hosts(self, n: int) -> list[str]:
        """Configure ``n`` new addresses on the far ``lo``; each answers ICMP echo."""
        addrs = self._take(n)
        self._batch([f"addr add {a}/32 dev lo" for a in addrs])
        self._configured.update(addrs)
        log.debug("event=lab_hosts_added name=%s count=%d", self.name, n)
        return addrs

    def silent_addresses(self, n: int) -> list[str]:
        """Return ``n`` addresses that are routed to the lab but never answer anything."""
        return self._take(n)

    def is_configured(self, addr: str) -> bool:
        """True while ``addr`` is a host that is up (configured on the far ``lo``)."""
        return addr in self._configured

    def host_down(self, addr: str) -> None:
        """Take a host off the network: its address disappears, packets to it are dropped."""
        if addr in self._configured:
            self._batch([f"addr del {addr}/32 dev lo"])
            self._configured.discard(addr)

    def host_up(self, addr: str) -> None:
        """Bring a host (back) on the network; agents bound to it answer again."""
        if ipaddress.IPv4Address(addr) not in self.prefix:
            raise ValueError(f"{addr} is not in lab prefix {self.prefix}")
        if addr not in self._configured:
            self._batch([f"addr add {addr}/32 dev lo"])
            self._configured.add(addr)

    # -- impairments ----------------------------------------------------------------------------
    def set_loss(self, percent: int, *, udp: bool = False) -> None:
        """Randomly drop ``percent`` % of ICMP (and UDP if ``udp``) packets entering the far ns."""
        if not 0 <= percent <= 100:
            raise ValueError("percent must be within 0..100")
        protos = ["icmp"] + (["udp"] if udp else [])
        match = "" if percent == 100 else f"numgen random mod 100 < {percent} "
        rules = "\n".join(f"add rule inet {NFT_TABLE} input meta l4proto {p} {match}drop"
                           for p in protos if percent > 0)
        self._nft(f"flush chain inet {NFT_TABLE} input\n{rules}\n")
        log.info("event=lab_loss name=%s percent=%d udp=%s", self.name, percent, udp)

    def clear_loss(self) -> None:
        """Stop dropping packets."""
        self._nft(f"flush chain inet {NFT_TABLE} input\n")

    # -- processes ------------------------------------------------------------------------------
    def _ns_argv(self, cmd: tuple[str, ...]) -> list[str]:
        return ["ip", "netns", "exec", self.name, *cmd]

    def run(self, *cmd: str, **kw: Any) -> subprocess.CompletedProcess[Any]:
        """Run a command inside the far namespace (defaults: check=True, captured text output)."""
        kw.setdefault("check", True)
        kw.setdefault("text", True)
        if "stdout" not in kw and "stderr" not in kw:
            kw.setdefault("capture_output", True)
        return subprocess.run(self._ns_argv(cmd), **kw)

    def popen(self, *cmd: str, **kw: Any) -> subprocess.Popen[Any]:
        """Start a process inside the far namespace; ``close()`` kills it."""
        if self.closed:
            raise RuntimeError(f"lab {self.name} is closed")
        # PDEATHSIG follows the creating thread: only tie children to the long-lived main thread.
        if threading.current_thread() is threading.main_thread() and "preexec_fn" not in kw:
            kw["preexec_fn"] = die_with_parent
        proc: subprocess.Popen[Any] = subprocess.Popen(self._ns_argv(cmd), **kw)
        self._procs = [p for p in self._procs if p.poll() is None] + [proc]
        return proc

    # -- agents ---------------------------------------------------------------------------------
    def _check_addr(self, addr: str) -> None:
        if ipaddress.IPv4Address(addr) not in self.prefix:
            raise ValueError(f"{addr} is not in lab prefix {self.prefix}")

    def start_snmpd(self, addr: str, **kw: Any) -> SnmpdAgent:
        """Start net-snmp snmpd on ``addr``:161 (v2c community, optional v3 authPriv user)."""
        self._check_addr(addr)
        agent = SnmpdAgent(self, addr, **kw)
        self._agents.append(agent)
        agent.start()
        return agent

    def start_snmpsim(self, addresses: list[str], **kw: Any) -> SnmpSim:
        """Start snmpsim agents (one SNMP engine per address, IF-MIB counters at known rates)."""
        for addr in addresses:
            self._check_addr(addr)
        sim = SnmpSim(self, list(addresses), **kw)
        self._agents.append(sim)
        sim.start()
        return sim

    def start_late_responder(self, addr: str, delay_s: float) -> Responder:
        """Answer ICMP echo to the (unconfigured) ``addr`` only after ``delay_s`` seconds."""
        self._check_addr(addr)
        if addr in self._configured:
            raise ValueError(f"{addr} is configured on lo; the kernel would answer it in time")
        responder = Responder(self, addr, delay_s)
        self._agents.append(responder)
        responder.start()
        return responder

    # -- teardown -------------------------------------------------------------------------------
    def close(self) -> None:
        """Kill every process started here, delete the namespace, veth, route and temp dir."""
        if self.closed:
            return
        self.closed = True
        atexit.unregister(self.close)
        for agent in self._agents:
            with contextlib.suppress(Exception):
                agent.stop()
        for proc in self._procs:
            terminate_process(proc)
        if hasattr(self, "name"):
            kill_namespace_processes(self.name)
            subprocess.run(["ip", "link", "del", self.root_if], capture_output=True)
            subprocess.run(["ip", "netns", "del", self.name], capture_output=True)
            if hasattr(self, "prefix"):
                subprocess.run(["ip", "route", "del", str(self.prefix)], capture_output=True)
        shutil.rmtree(self.tmpdir, ignore_errors=True)
        log.info("event=lab_down name=%s", self.name)

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def terminate_process(proc: subprocess.Popen[Any]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=3)

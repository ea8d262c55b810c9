"""Probe vocabulary shared by every prober: targets (checks), results and the per-loop ProbeContext.

A prober is ``async def probe(target, settings, deadline, ctx) -> ProbeResult`` (``settings``: its kind's
model, see :mod:`probes.plugin`): it respects the absolute ``deadline`` (a ``time.monotonic()`` value), never
raises and never touches a database. A :class:`Target` is one check; what only one kind needs (credentials,
a port, a URL, a DNS question) is in its ``params``, owned by that kind.
``ProbeContext`` owns what must exist once per process/event loop: the raw ICMP socket dispatcher,
the single pysnmp ``SnmpEngine`` (one per conflicting SNMPv3 key set, see ``snmp_engine``), the
ifIndex cache and the httpx clients. Heavy imports (pysnmp, httpx) happen on first use only.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any

from probes.icmp_socket import IcmpDispatcher

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

SNMP_VERSIONS = ("1", "2c", "3")
AUTH_PROTOCOLS = ("md5", "sha", "sha224", "sha256", "sha384", "sha512")
PRIV_PROTOCOLS = ("des", "3des", "aes", "aes192", "aes256")


@dataclass(frozen=True)
class SnmpCredentials:
    """How to talk SNMP to one agent. Secrets never appear in ``repr``."""

    version: str = "2c"
    community: str = ""
    user: str = ""
    auth_protocol: str | None = None
    auth_key: str = ""
    priv_protocol: str | None = None
    priv_key: str = ""
    port: int = 161

    def __post_init__(self) -> None:
        if self.version not in SNMP_VERSIONS:
            raise ValueError(f"SNMP version must be one of {SNMP_VERSIONS}, not {self.version!r}")
        if self.auth_protocol is not None and self.auth_protocol not in AUTH_PROTOCOLS:
            raise ValueError(f"auth_protocol must be one of {AUTH_PROTOCOLS} or None")
        if self.priv_protocol is not None and self.priv_protocol not in PRIV_PROTOCOLS:
            raise ValueError(f"priv_protocol must be one of {PRIV_PROTOCOLS} or None")
        if self.version == "3" and not self.user:
            raise ValueError("SNMPv3 needs a user")
        if self.priv_protocol and not self.auth_protocol:
            raise ValueError("SNMPv3 privacy needs authentication")
        if not 1 <= self.port <= 65535:
            raise ValueError("port must be 1..65535")

    def __repr__(self) -> str:
        if self.version == "3":
            return (
                f"SnmpCredentials(version='3', user={self.user!r}, auth_protocol={self.auth_protocol!r}, "
                f"auth_key='***', priv_protocol={self.priv_protocol!r}, priv_key='***', port={self.port})"
            )
        return f"SnmpCredentials(version={self.version!r}, community='***', port={self.port})"

    __str__ = __repr__

    def key_fingerprint(self) -> str:
        """Short digest of the v3 key material (never the keys): tells key sets apart for engine reuse."""
        material = f"{self.auth_protocol}\0{self.auth_key}\0{self.priv_protocol}\0{self.priv_key}"
        return hashlib.sha256(material.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Target:
    """One check to run. ``key`` is unique within a sweep (``icmp:12``); ``check`` is the check's key within its
    device, what its results are stored under (``icmp``, ``tcp:22``, ``service:3:tcp:443``).

    ``availability``: whether the check counts toward its device's reachability (icmp, snmp) or only decides a
    service's state. ``params`` belong to the kind (SNMP credentials, a port, a URL, a DNS question…): each kind
    module documents and reads its own.
    """

    key: str
    address: str
    device_id: int | None = None
    device: str = ""
    site: str = ""
    check: str = ""
    availability: bool = True
    service_id: int | None = None
    params: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def param(self, name: str, default: Any = None) -> Any:
        return self.params.get(name, default)

    @property
    def check_key(self) -> str:
        """The check's key within its device (what results are stored under): ``check``, else ``key``."""
        return self.check or self.key


@dataclass(frozen=True)
class InterfaceSample:
    """Counters and states of one interface, as read in one SNMP check.

    ``counter_bits`` is 64 for ifHCIn/OutOctets and 32 when the agent only has ifIn/OutOctets
    (SNMPv1, or no IF-MIB ifXTable); ``rates.py`` needs it to handle wraps.
    """

    name: str
    if_index: int
    oper_status: int | None = None
    admin_status: int | None = None
    hc_in_octets: int | None = None
    hc_out_octets: int | None = None
    in_errors: int | None = None
    out_errors: int | None = None
    counter_bits: int = 64


@dataclass
class ProbeResult:
    """What one probe of one target observed. Deciding "down" happens in the status engine."""

    kind: str
    target: Target
    success: bool
    started_at: datetime
    duration_s: float
    measurements: dict[str, float] = field(default_factory=dict)
    info: dict[str, str] = field(default_factory=dict)
    interfaces: list[InterfaceSample] = field(default_factory=list)
    error: str | None = None


@dataclass
class IfIndexEntry:
    """ifName → ifIndex of one agent, with what is needed to know when it is stale."""

    by_name: dict[str, int]
    missing: frozenset[str]
    discovered_at: float
    sys_uptime_s: float | None = None
    counter_bits: dict[int, int] = field(default_factory=dict)  # ifIndex → 32 when no HC counters


class ProbeContext:
    """Shared probing resources of one event loop; use as ``async with ProbeContext() as ctx``.

    ``icmp_modes`` lists the ICMP socket kinds to try, in order ("raw", then unprivileged "dgram"). Each kind's
    ``prepare`` opens what it needs here before its first deadline runs.
    """

    def __init__(self, *, icmp_modes: tuple[str, ...] = ("raw", "dgram")) -> None:
        self._icmp_modes = icmp_modes
        self._icmp: IcmpDispatcher | None = None
        self._snmp_engines: dict[str, Any] = {}
        self._v3_users: dict[str, str] = {}
        self._http_clients: dict[tuple[bool, str], httpx.AsyncClient] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self.if_index_cache: dict[str, IfIndexEntry] = {}
        self.snmp_info_cache: dict[str, dict[str, str]] = {}
        self.snmp_auth_cache: dict[SnmpCredentials, Any] = {}
        self.snmp_transport_cache: dict[tuple[str, int, float, int], Any] = {}
        self.snmp_pdu_limit: dict[str, int] = {}

    async def __aenter__(self) -> ProbeContext:
        self._loop = asyncio.get_running_loop()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise RuntimeError("ProbeContext used outside 'async with'")
        return self._loop

    @property
    def icmp(self) -> IcmpDispatcher:
        """The context's single ICMP dispatcher (sockets open on first use)."""
        if self._icmp is None:
            self._icmp = IcmpDispatcher(self.loop, self._icmp_modes)
        return self._icmp

    def snmp_engine(self, creds: SnmpCredentials) -> Any:
        """The shared ``SnmpEngine``; a second engine only for a v3 user name reused with other keys.

        pysnmp keys its USM table by user name, so two agents with the same user and different keys
        cannot share an engine without one overwriting the other's keys mid-flight.
        """
        group = "default"
        if creds.version == "3":
            fingerprint = creds.key_fingerprint()
            bound = self._v3_users.setdefault(creds.user, fingerprint)
            if bound != fingerprint:
                group = f"v3:{creds.user}:{fingerprint}"
        engine = self._snmp_engines.get(group)
        if engine is None:
            from probes.snmp_session import new_engine

            engine = new_engine()
            self._snmp_engines[group] = engine
            log.debug("event=snmp_engine_created group=%s engines=%d", group.split(":")[0],
                      len(self._snmp_engines))
        return engine

    async def http_client(self, verify: bool, ca_file: str = "") -> httpx.AsyncClient:
        """One client per (verify mode, CA bundle); keep-alive off so every probe measures a fresh connection.
        ``ca_file`` adds a CA bundle to the verifying client (internal PKI)."""
        client = self._http_clients.get((verify, ca_file))
        if client is None:
            import httpx

            tls: ssl.SSLContext | bool = False
            if verify:
                tls = ssl.create_default_context()
                if ca_file:
                    tls.load_verify_locations(ca_file)
            client = httpx.AsyncClient(
                verify=tls,
                limits=httpx.Limits(max_keepalive_connections=0, max_connections=None),
                headers={"User-Agent": "infra-monitor-probe/1"},
            )
            self._http_clients[(verify, ca_file)] = client
        return client

    async def aclose(self) -> None:
        if self._icmp is not None:
            self._icmp.close()
            self._icmp = None
        for engine in self._snmp_engines.values():
            dispatcher = getattr(engine, "transport_dispatcher", None)
            if dispatcher is not None:
                dispatcher.close_dispatcher()
        self._snmp_engines.clear()
        for client in self._http_clients.values():
            await client.aclose()
        self._http_clients.clear()

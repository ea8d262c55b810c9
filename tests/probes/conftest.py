"""Fixtures for the probe tests: a real net-snmp snmpd on 127.0.0.1, free ports, one-shot probing."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from probes.base import ProbeContext, ProbeResult, SnmpCredentials, Target
from probes.plugin import KindSettings
from probes.sweep import run_sweep
from tests.requirements import require_commands


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def probe_once(kind: str, target: Target, settings: KindSettings, **ctx_options: Any) -> ProbeResult:
    """Probe one target the way a sweep does, in a fresh event loop and ProbeContext."""

    async def main() -> ProbeResult:
        async with ProbeContext(**ctx_options) as ctx:
            return (await run_sweep(kind, [target], settings, ctx)).results[0]

    return asyncio.run(main())


@dataclass(frozen=True)
class LocalSnmpd:
    """A running snmpd on 127.0.0.1:``port`` and the credentials it accepts."""

    port: int
    sys_name: str
    v2c: SnmpCredentials
    v1: SnmpCredentials
    v3: dict[str, SnmpCredentials]

    def target(self, creds: SnmpCredentials, key: str = "device:1", interfaces: tuple[str, ...] = ("lo",)) -> Target:
        return Target(key=key, address="127.0.0.1", device="snmpd",
                      params={"snmp": creds, "interfaces": interfaces})


V3_USERS = {  # user: (auth_protocol, priv_protocol, net-snmp auth, net-snmp priv)
    "mon-sha-aes": ("sha", "aes", "SHA", "AES"),
    "mon-sha256-aes256": ("sha256", "aes256", "SHA-256", "AES-256"),
    "mon-md5-des": ("md5", "des", "MD5", "DES"),
}


@pytest.fixture(scope="session")
def snmpd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSnmpd]:
    """net-snmp snmpd on a random high UDP port of 127.0.0.1: v1/v2c community and v3 authPriv users."""
    require_commands("snmpd", "snmpget")
    workdir: Path = tmp_path_factory.mktemp("snmpd")
    port = free_port()
    community = "c-" + secrets.token_hex(6)
    sys_name = "probe-test-agent"
    v3: dict[str, SnmpCredentials] = {}
    lines = [f"rocommunity {community} 127.0.0.1", f"sysName {sys_name}"]
    for user, (auth, priv, snmpd_auth, snmpd_priv) in V3_USERS.items():
        auth_key, priv_key = "a-" + secrets.token_hex(8), "p-" + secrets.token_hex(8)
        lines += [f'createUser {user} {snmpd_auth} "{auth_key}" {snmpd_priv} "{priv_key}"', f"rouser {user} priv"]
        v3[user] = SnmpCredentials(version="3", user=user, auth_protocol=auth, auth_key=auth_key,
                                   priv_protocol=priv, priv_key=priv_key, port=port)
    conf = workdir / "snmpd.conf"
    conf.write_text("\n".join(lines) + "\n")
    conf.chmod(0o600)
    log = open(workdir / "snmpd.log", "wb")  # noqa: SIM115 - owned by the child until teardown
    proc = subprocess.Popen(
        ["snmpd", "-f", "-Lo", "-C", "-c", str(conf), "-p", str(workdir / "snmpd.pid"), f"udp:127.0.0.1:{port}"],
        stdout=log, stderr=log, stdin=subprocess.DEVNULL,
        env={**os.environ, "SNMP_PERSISTENT_DIR": str(workdir / "persist"), "MIBS": ""},
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            done = subprocess.run(["snmpget", "-v2c", "-c", community, "-r0", "-t0.3", "-Oqv",
                                   f"127.0.0.1:{port}", "1.3.6.1.2.1.1.3.0"], capture_output=True, text=True)
            if done.returncode == 0:
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"snmpd did not start: {(workdir / 'snmpd.log').read_text(errors='replace')[-800:]}")
            time.sleep(0.1)
        yield LocalSnmpd(
            port=port,
            sys_name=sys_name,
            v2c=SnmpCredentials(version="2c", community=community, port=port),
            v1=SnmpCredentials(version="1", community=community, port=port),
            v3=v3,
        )
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()

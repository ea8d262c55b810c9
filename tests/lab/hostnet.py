"""Root-namespace side of the lab: requirement check, address allocation, stale-lab cleanup.

Labs are named ``imlab-<pid>-<n>``; their root veth is ``iml<pid>-<n>`` and their temp dir
``$TMPDIR/imlab-<pid>-<n>-*``. Prefixes (/20 of 198.18.0.0/15) and links (/30 of 198.18.255.0/24)
are chosen under a file lock after looking at every route and address of the root namespace, so
concurrent labs (a CI run and a developer's run) never collide.
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import logging
import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)

RANGE = ipaddress.IPv4Network("198.18.0.0/15")
LINK_RANGE = ipaddress.IPv4Network("198.18.255.0/24")
PREFIX_LEN = 20
NAME_RE = re.compile(r"^imlab-(\d+)-(\w+)$")
_LOCK_PATH = Path(tempfile.gettempdir()) / "imlab.lock"
_checked_ok = False  # namespaces proved usable once in this process


class LabUnavailable(RuntimeError):
    """This machine cannot run a lab (not root, no network namespaces, a tool missing)."""


def check_lab_requirements(*, need_snmp: bool = True) -> str | None:
    """Return None when a lab can be built here, else a human reason why not."""
    global _checked_ok
    if _checked_ok and not need_snmp:
        return None
    if os.geteuid() != 0:
        return "not running as root"
    tools = ["ip", "nft"] + (["snmpd", "snmpget"] if need_snmp else [])
    missing = [t for t in tools if shutil.which(t, path=sbin_path()) is None]
    if missing:
        return "missing tools: " + ", ".join(missing)
    probe = f"imlab-{os.getpid()}-check"
    try:
        ip("netns", "add", probe)
        ip("-n", probe, "link", "set", "lo", "up")
        subprocess.run(["ip", "netns", "exec", probe, "nft", "list", "ruleset"],
                       check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        return f"cannot create a network namespace: {describe(exc)}"
    finally:
        subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    _checked_ok = True
    return None


def cleanup_stale_labs() -> list[str]:
    """Remove namespaces, veths and temp dirs of labs whose owning process is gone."""
    removed = []
    listing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    for line in listing.splitlines():
        name = line.split()[0] if line.strip() else ""
        match = NAME_RE.match(name)
        if not match or pid_alive(int(match.group(1))):
            continue
        kill_namespace_processes(name)
        if match.group(2).isdigit():
            subprocess.run(["ip", "link", "del", root_ifname(int(match.group(1)), int(match.group(2)))],
                           capture_output=True)
        subprocess.run(["ip", "netns", "del", name], capture_output=True)
        removed.append(name)
    for path in Path(tempfile.gettempdir()).glob("imlab-*-*"):
        match = re.match(r"^imlab-(\d+)-", path.name)
        if match and path.is_dir() and not pid_alive(int(match.group(1))):
            shutil.rmtree(path, ignore_errors=True)
    if removed:
        log.info("event=lab_stale_removed namespaces=%s", ",".join(removed))
    return removed


def sbin_path() -> str:
    return os.environ.get("PATH", "") + ":/usr/sbin:/sbin"


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


def checked(argv: list[str], stdin: str) -> None:
    done = subprocess.run(argv, input=stdin, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {done.stderr.strip()}")


def describe(exc: BaseException) -> str:
    if isinstance(exc, subprocess.CalledProcessError):
        return (exc.stderr or str(exc)).strip()
    return str(exc)


def root_ifname(pid: int, seq: int) -> str:
    return f"iml{pid}-{seq}"[:15]


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def kill_namespace_processes(name: str) -> None:
    pids = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True).stdout.split()
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid), signal.SIGKILL)



@contextlib.contextmanager
def allocation_lock() -> Iterator[None]:
    with open(_LOCK_PATH, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def used_networks() -> list[ipaddress.IPv4Network]:
    out = subprocess.run(["ip", "-4", "-o", "route", "show", "table", "all"],
                         capture_output=True, text=True, check=True).stdout
    out += subprocess.run(["ip", "-4", "-o", "addr", "show"], capture_output=True, text=True,
                          check=True).stdout
    nets = []
    for token in re.findall(r"(?<![\w.])(\d+\.\d+\.\d+\.\d+(?:/\d+)?)", out):
        with contextlib.suppress(ValueError):
            nets.append(ipaddress.IPv4Network(token, strict=False))
    return [n for n in nets if n.overlaps(RANGE)]


def free_prefix() -> ipaddress.IPv4Network:
    used = used_networks()
    for candidate in RANGE.subnets(new_prefix=PREFIX_LEN):
        if candidate.overlaps(LINK_RANGE):
            continue
        if not any(candidate.overlaps(n) for n in used):
            return candidate
    raise LabUnavailable("no free /20 left in 198.18.0.0/15 (too many labs at once?)")


def free_link() -> ipaddress.IPv4Network:
    used = used_networks()
    for candidate in LINK_RANGE.subnets(new_prefix=30):
        if not any(candidate.overlaps(n) for n in used):
            return candidate
    raise LabUnavailable("no free /30 left in 198.18.255.0/24")

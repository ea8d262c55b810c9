"""``infra-monitor check-config``: is this machine ready to run ``serve``/``poller`` with this configuration?

Each check answers ``ok``, ``warn`` (runs, but look at it) or ``fail`` (will not run as configured), with
what it found and what to do. Nothing is written, nothing is created, and no probe leaves the machine: the
ICMP check opens a socket and closes it, the port check binds and releases. The checks, in order:

* **database**: reachable, schema at this program's revision (else ``init`` / ``db upgrade``), and for
  SQLite the file not readable by other users;
* **secrets**: stored secrets that cannot be decrypted with the configured keys, a key file readable by
  others, secrets stored in plain text while a key is configured;
* **icmp**: a raw ICMP socket (CAP_NET_RAW) or an unprivileged one (``net.ipv4.ping_group_range``);
* **web**: ``web.host:web.port`` can be bound (busy: another program, or a ``serve`` already running);
  ``web.base_url`` set when the host is not loopback (links would name the bind address);
* **poller**: another ``serve``/``poller`` already holds this group's lock (on SQLite);
* **reports**: ``reports.output_dir`` writable when reports are scheduled.
"""

from __future__ import annotations

import errno
import fcntl
import ipaddress
import os
import socket
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from infra_monitor.config import Settings

OK, WARN, FAIL = "ok", "warn", "fail"


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # ok | warn | fail
    detail: str


def _database(settings: Settings) -> list[Check]:
    from sqlalchemy.engine import make_url

    from infra_monitor.db import current_revision, head_revision, make_engine, missing_database

    url = make_url(settings.database.url)
    shown = url.render_as_string(hide_password=True)
    problem = missing_database(settings.database, need_schema=True)
    if problem:
        return [Check("database", FAIL, problem)]
    engine = make_engine(settings.database)
    try:
        current, head = current_revision(engine), head_revision()
    finally:
        engine.dispose()
    out = []
    if current != head:
        out.append(Check("database", FAIL, f"{shown}: schema revision {current}, this program needs {head} "
                                           "(run: infra-monitor db upgrade, after a backup)"))
    else:
        out.append(Check("database", OK, f"{shown}: schema revision {current}"))
    if url.get_backend_name() == "sqlite" and url.database:
        mode = stat.S_IMODE(Path(url.database).stat().st_mode)
        if mode & 0o007:
            out.append(Check("database file", WARN, f"{url.database} is readable by every user (mode "
                                                    f"{mode:04o}): chmod 600 it"))
    return out


def _secrets(settings: Settings) -> list[Check]:
    from infra_monitor.db import import_all_models, make_engine
    from inventory import secretbox

    try:
        keyring = secretbox.load_keyring(settings.security.key_file)
    except secretbox.SecretKeyError as exc:
        return [Check("secrets", FAIL, str(exc))]
    engine = make_engine(settings.database)
    try:
        census = secretbox.census(engine, import_all_models().metadata, keyring)
    finally:
        engine.dispose()
    if census.undecryptable:
        return [Check("secrets", FAIL, f"{len(census.undecryptable)} stored secret(s) cannot be decrypted with "
                                       f"the configured keys, e.g. {census.undecryptable[0]} (see docs/secrets.md)")]
    plain = census.total("plaintext")
    if keyring is not None and plain:
        return [Check("secrets", WARN, f"{plain} secret(s) stored in plain text although a key is configured "
                                       "(run: infra-monitor secrets encrypt)")]
    where = f"keys from {keyring.source}" if keyring is not None else "no encryption key configured"
    return [Check("secrets", OK, f"{where}; {census.total('current') + census.total('older')} encrypted, "
                                 f"{plain} in plain text")]


def _icmp() -> list[Check]:
    try:
        socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP).close()
        return [Check("icmp", OK, "raw ICMP sockets allowed (CAP_NET_RAW)")]
    except PermissionError:
        pass
    try:
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP).close()
        return [Check("icmp", OK, "unprivileged ICMP sockets allowed (net.ipv4.ping_group_range)")]
    except OSError:
        return [Check("icmp", FAIL, "this user may not send ICMP echo: give the service CAP_NET_RAW "
                                    "(AmbientCapabilities=CAP_NET_RAW) or allow its group in "
                                    "net.ipv4.ping_group_range (docs/deployment.md)")]


def _web(settings: Settings) -> list[Check]:
    host, port = settings.web.host, settings.web.port
    out = []
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
        out.append(Check("web", OK, f"{host}:{port} can be bound"))
    except OSError as exc:
        busy = exc.errno == errno.EADDRINUSE
        out.append(Check("web", WARN if busy else FAIL,
                         f"{host}:{port}: {exc.strerror or exc}"
                         + (" (a serve already running, or another program: set web.port)" if busy else "")))
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback and not settings.web.base_url:
        out.append(Check("web base_url", WARN, f"web.host is {host} but web.base_url is empty: links in API "
                                               "answers will name the bind address; set the URL users reach"))
    return out


def _poller(settings: Settings, lock_file: Callable[[Settings], Path]) -> list[Check]:
    from sqlalchemy.engine import make_url

    if make_url(settings.database.url).get_backend_name() != "sqlite":
        return [Check("poller", OK, f"group {settings.poller.group!r}: PostgreSQL advisory lock, taken at start")]
    path = lock_file(settings)
    if not path.exists():
        return [Check("poller", OK, f"group {settings.poller.group!r}: no poller running")]
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 200, 0).decode(errors="replace").split()
        who = f"{holder[1]} (pid {holder[0]})" if len(holder) > 1 else "another process"
        return [Check("poller", WARN, f"group {settings.poller.group!r}: {who} already runs the probes "
                                      "(a second serve/poller would exit 75)")]
    finally:
        os.close(fd)
    return [Check("poller", OK, f"group {settings.poller.group!r}: no poller running")]


def _reports(settings: Settings) -> list[Check]:
    if not settings.reports.schedules:
        return []
    out_dir = Path(settings.reports.output_dir)
    probe = out_dir if out_dir.exists() else out_dir.parent
    if not os.access(probe, os.W_OK | os.X_OK):
        return [Check("reports", FAIL, f"{out_dir}: not writable by this user; scheduled reports would fail")]
    return [Check("reports", OK, f"{len(settings.reports.schedules)} schedule(s) write to {out_dir}")]


def run_checks(settings: Settings, lock_file: Callable[[Settings], Path]) -> list[Check]:
    """Every check, in order; a failing database check skips those that need the database."""
    checks = _database(settings)
    if checks[0].status != FAIL:
        checks += _secrets(settings)
    return checks + _icmp() + _web(settings) + _poller(settings, lock_file) + _reports(settings)

"""``infra-monitor serve``: the web UI/API (uvicorn) with the poller and the notifier beside it.

uvicorn owns SIGINT/SIGTERM; when it returns, the poller and the notifier are stopped and the engine
disposed, so Ctrl-C always ends the process cleanly. The poller runs in a child process of its own
(:class:`PollerProcess`): the web server's requests never hold the interpreter lock a sweep needs, so sweeps
take as long under a busy status page as on an idle one. The child stops on the parent's SIGTERM (in-flight
sweeps cancelled and awaited, whole sweeps written), dies with the parent even if that one is killed, and is
started again by the parent if it dies on its own (``event=poller_died``). Requests still running at the signal get
``web.shutdown_timeout_s`` to finish, then are cancelled: a slow client (a body trickling in, a long
download) cannot keep the process alive after SIGTERM. A request stuck in a worker thread (blocking code, such
as a database wait, cannot be cancelled) gets one more second; then the process ends without it (exit 0,
``event=serve_abandoned_requests``), its transaction never committed.

On SQLite only one process runs the scheduled probes of a database and poller group: ``serve`` (with probes)
and ``poller`` take an exclusive lock (``fcntl.flock``) on a file next to the database before anything starts,
and a second one raises :class:`PollerRunning` (the CLI exits 75, EX_TEMPFAIL): SQLite has one writer and no
advisory locks, so several pollers could only queue behind each other's writes. On PostgreSQL several
processes of one group (``serve``'s poller child counts as one) share its devices by shard leases
(:mod:`infra_monitor.shards`); :func:`poller_lock` there only checks that the database answers. ``serve``
binds its port before starting the poller, so a port in use is :class:`PortBusy` (one line, exit 1), not a
traceback after a poller already ran.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import re
import signal
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from infra_monitor.config import Settings

log = logging.getLogger(__name__)
STUCK_GRACE_S = 1.0


class PollerRunning(Exception):
    """Another serve or poller already runs the probes of this database and poller group.

    Structured so that the CLI can say it in the operator's language: ``holder`` is who holds the lock
    (``serve``/``poller``, or the PostgreSQL application name), ``pid`` its process (on PostgreSQL the backend
    pid, ``client`` the address it connects from), ``lock`` the lock file, or ``None`` for the advisory lock.
    ``str()`` is the English sentence (logs, tests).
    """

    def __init__(self, *, holder: str, pid: str, group: str, lock: str | None = None,
                 client: str | None = None) -> None:
        self.holder, self.pid, self.group, self.lock, self.client = holder, pid, group, lock, client
        if lock is not None:
            said = (f"another infra-monitor {holder} (pid {pid}) is running on this database (poller group "
                    f"{group!r}); stop it first (lock {lock})")
        else:
            said = (f"{holder} (PostgreSQL backend pid {pid}{', from ' + client if client else ''}) already "
                    f"runs the probes of this database (poller group {group!r}); stop it first")
        super().__init__(said)


class StartError(Exception):
    """``serve``/``poller`` cannot start (exit 1): the port cannot be bound, the lock file cannot be made."""


class PortBusy(StartError):
    """The web port cannot be bound (in use, or not allowed)."""


def lock_path(settings: Settings) -> Path:
    """The poller lock file of the configured database and poller group."""
    from sqlalchemy.engine import make_url

    url = make_url(settings.database.url)
    group = re.sub(r"[^A-Za-z0-9_.-]", "_", settings.poller.group)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        db = Path(url.database).resolve()
        return db.with_name(f"{db.name}.poller-{group}.lock")
    key = hashlib.sha256(url.render_as_string(hide_password=True).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"infra-monitor-{key}.poller-{group}.lock"


@contextmanager
def poller_lock(settings: Settings, what: str) -> Iterator[Path | str]:
    """Hold the poller lock of ``settings``' database and group for ``what`` (``serve`` or ``poller``), or
    raise :class:`PollerRunning` naming the process that holds it: on SQLite an exclusive lock on a file beside
    the database. On PostgreSQL nothing exclusive is taken: several processes of a group share it by shard
    leases (:mod:`infra_monitor.shards`)."""
    from sqlalchemy.engine import make_url

    if make_url(settings.database.url).get_backend_name() == "postgresql":
        with _pg_reachable(settings) as key:
            yield key
        return
    with _file_lock(settings, what) as path:
        yield path


@contextmanager
def _pg_reachable(settings: Settings) -> Iterator[str]:
    """PostgreSQL: no process-wide lock (the group's processes share it by shard leases, taken by each poller);
    a database that does not answer is a :class:`StartError` before anything starts."""
    from sqlalchemy import text

    from infra_monitor.db import make_engine

    engine = make_engine(settings.database.url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        raise StartError(f"cannot start the poller: the database does not answer ({exc.__class__.__name__})"
                         ) from None
    finally:
        engine.dispose()
    yield f"shard leases of poller group {settings.poller.group!r}"


@contextmanager
def _file_lock(settings: Settings, what: str) -> Iterator[Path]:
    path = lock_path(settings)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise StartError(f"cannot create the poller lock {path}: {exc.strerror}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").split()
            pid, cmd = holder[0] if holder else "?", holder[1] if len(holder) > 1 else "serve"
            raise PollerRunning(holder=cmd, pid=pid, group=settings.poller.group, lock=str(path)) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {what}\n".encode(), 0)
        yield path
    finally:
        os.close(fd)  # releases the lock


def bind_port(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` for uvicorn, or :class:`PortBusy`."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise PortBusy(f"cannot listen on {host}:{port}: {exc.strerror or exc} (another program on that port? "
                       "set web.port or use --port)") from None
    return sock  # not inheritable: a probe's child process must not keep the port


class _Server(uvicorn.Server):
    """uvicorn that treats SIGINT/SIGTERM as "shut down and return", not "die with the signal"."""

    @contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        handled = (signal.SIGINT, signal.SIGTERM)
        original = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)


def run_server(settings: Settings, *, host: str | None = None, port: int | None = None,
               with_probes: bool = True, verbose: bool = False, config: str | None = None) -> None:
    """Serve until SIGINT/SIGTERM; :class:`PollerRunning` or :class:`PortBusy` before anything started."""
    host = host or settings.web.host
    port = port or settings.web.port
    with poller_lock(settings, "serve") if with_probes else _nothing(), bind_port(host, port) as sock:
        _serve(settings, host, port, sock, PollerProcess(config, verbose=verbose) if with_probes else None)
    _leave_stuck_threads(STUCK_GRACE_S)


@contextmanager
def _nothing() -> Iterator[None]:
    yield None


def _serve(settings: Settings, host: str, port: int, sock: socket.socket, poller: PollerProcess | None) -> None:
    from infra_monitor.db import make_engine
    from infra_monitor.status.notify.worker import NotifierThread
    from web.app import create_app

    engine = make_engine(settings.database)
    app = create_app(settings, engine)
    notifier = NotifierThread(settings, engine)
    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False, lifespan="on",
                            # typed int by uvicorn, used as asyncio.timeout(): a float is exact
                            timeout_graceful_shutdown=settings.web.shutdown_timeout_s)  # type: ignore[arg-type]
    server = _Server(config)
    if poller:
        poller.start()
    notifier.start()
    log.info("event=serve_started url=http://%s:%s probes=%s", host, port, bool(poller))
    try:
        server.run(sockets=[sock])
    finally:
        if poller:
            poller.stop()
        notifier.stop()
        engine.dispose()
        log.info("event=serve_stopped")


def _leave_stuck_threads(grace_s: float) -> None:
    """End the process now if threads that uvicorn could not cancel (a request's blocking code) would keep the
    interpreter alive past the shutdown bound; only for the main thread of a ``serve`` process."""
    if threading.current_thread() is not threading.main_thread():
        return
    deadline = time.monotonic() + grace_s
    stuck = [t for t in threading.enumerate() if t is not threading.current_thread() and not t.daemon]
    for thread in stuck:
        thread.join(max(0.0, deadline - time.monotonic()))
    stuck = [t for t in stuck if t.is_alive()]
    if not stuck:
        return
    log.warning("event=serve_abandoned_requests threads=%d names=%s", len(stuck),
                ",".join(sorted({t.name for t in stuck}))[:200])
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


# ---------------------------------------------------------------- the poller's own process ----------------


def _die_with_parent(parent: int) -> None:
    """Ask Linux to send SIGTERM to this process when its parent ends (PR_SET_PDEATHSIG), even by SIGKILL."""
    import contextlib
    import ctypes

    with contextlib.suppress(OSError, AttributeError):  # not Linux: the parent's stop() still ends it
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent ended before the request took effect
        os._exit(0)


def _poller_child(config: str | None, verbose: bool, parent: int) -> None:
    """Entry point of the child process: the scheduled probes until the parent's SIGTERM.

    Ctrl-C on a terminal reaches the whole process group: the child ignores SIGINT and stops when the parent,
    which handles it, sends SIGTERM — so a Ctrl-C during its start-up never prints a traceback.

    It loads the configuration again, from the same file and the environment it inherited, rather than
    receiving the parent's settings object (plain data across processes, nothing to pickle)."""
    import asyncio

    from infra_monitor.config import load_settings
    from infra_monitor.db import make_engine
    from infra_monitor.logging import setup_logging
    from infra_monitor.scheduler import run_poller
    from inventory import secretbox

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent(parent)
    settings = load_settings(config)
    setup_logging(settings.logging.format, settings.logging.level, verbose=verbose)
    secretbox.install_for(settings)
    engine = make_engine(settings.database)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        await run_poller(settings, engine, stop)

    try:
        asyncio.run(main())
    finally:
        engine.dispose()


class PollerProcess:
    """``serve``'s poller in a child process, watched: restarted ``RESTART_S`` after it dies on its own."""

    RESTART_S = 5.0

    def __init__(self, config: str | None, *, verbose: bool = False) -> None:
        import multiprocessing

        self.config = config  # the configuration file serve loaded (None: environment and defaults)
        self.verbose = verbose
        self._context = multiprocessing.get_context("spawn")  # a fresh interpreter: no threads or sockets copied
        self._process: Any = None
        self._stopping = threading.Event()
        self._watch: threading.Thread | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def _spawn(self) -> None:
        self._process = self._context.Process(target=_poller_child, name="infra-monitor-poller",
                                              args=(self.config, self.verbose, os.getpid()))
        self._process.start()
        log.info("event=poller_process pid=%d", self._process.pid)

    def start(self) -> None:
        self._spawn()
        self._watch = threading.Thread(target=self._watchdog, name="poller-watch", daemon=True)
        self._watch.start()

    def _watchdog(self) -> None:
        while not self._stopping.is_set():
            self._process.join(0.5)
            if self._process.exitcode is None or self._stopping.is_set():
                continue
            log.error("event=poller_died pid=%d exitcode=%s restart_in_s=%.0f", self._process.pid,
                      self._process.exitcode, self.RESTART_S)
            if self._stopping.wait(self.RESTART_S):
                return
            self._spawn()

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM to the child, wait up to ``timeout`` for its whole sweeps, then kill it."""
        self._stopping.set()
        if self._watch is not None:
            self._watch.join(timeout)
        process = self._process
        if process is None or process.exitcode is not None:
            return
        process.terminate()
        process.join(timeout)
        if process.exitcode is None:
            log.warning("event=poller_kill pid=%d waited_s=%.0f", process.pid, timeout)
            process.kill()
            process.join()

"""Backup and restore of the SQLite database, online, through SQLite's own backup API.

``backup`` copies a live database — sweeps and API writes go on — into a consistent snapshot: SQLite's
backup API (``sqlite3.Connection.backup``) copies every page in one step under one read transaction, which
in WAL mode never blocks the writers, so the copy is one committed state, never a torn file as ``cp`` of a
WAL database can be (and never restarts, as a stepwise backup does each time another process writes). The
copy is written to a temporary file beside the destination, checked (``PRAGMA integrity_check``, the
schema revision read back), made 0600, fsync'ed and renamed into place: the destination is either the old
file or a whole new backup.

``restore`` refuses a file that is not an infra-monitor database (not SQLite, corrupt, no schema revision,
or a revision newer than this program knows), copies it beside the live database, keeps the live one as
``<db>.before-restore-<UTC time>`` and renames the copy into place, removing the old WAL and shared-memory
files with it. The caller holds every poller lock of the database while it runs (see the CLI), so no
``serve`` or ``poller`` writes meanwhile. PostgreSQL has its own tools (``pg_dump``/``pg_restore``), named in
the error for such a database.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


class BackupError(Exception):
    """What went wrong, naming the file; nothing was changed."""


@dataclass(frozen=True)
class Copied:
    path: Path
    bytes: int
    revision: str | None
    kept: Path | None = None  # restore: where the database it replaced was kept


def sqlite_path(url: str) -> Path:
    """The database file of a ``sqlite:///`` URL, or :class:`BackupError` for any other database."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        shown = parsed.render_as_string(hide_password=True)
        raise BackupError(f"{shown} is PostgreSQL: back it up with its own tools, e.g. "
                          f"pg_dump -Fc -f infra-monitor.dump '{parsed.database}' and pg_restore -d … to restore")
    if not parsed.database or parsed.database == ":memory:":
        raise BackupError("the database is in memory: there is nothing to back up")
    return Path(parsed.database).resolve()


def _revision(conn: sqlite3.Connection) -> str | None:
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        return None
    return str(row[0]) if row else None


def _check(path: Path, what: str) -> str | None:
    """Integrity of the SQLite file at ``path`` and its schema revision, or :class:`BackupError`."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise BackupError(f"{what} {path}: cannot be opened as SQLite ({exc})") from None
    try:
        result = conn.execute("PRAGMA integrity_check").fetchone()
        if not result or result[0] != "ok":
            raise BackupError(f"{what} {path}: integrity check failed: {result[0] if result else 'no answer'}")
        return _revision(conn)
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{what} {path}: not a SQLite database ({exc})") from None
    finally:
        conn.close()


def _copy(source: Path, target: Path) -> None:
    """SQLite's online backup of ``source`` into a new file ``target`` (0600)."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)  # all pages in one step: one snapshot
        dst.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file, no -wal beside it
    finally:
        dst.close()
        src.close()
    with open(target, "rb") as fh:
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def backup(database: Path, destination: Path) -> Copied:
    """Copy the live ``database`` to ``destination`` (replaced whole, or left as it was on any error)."""
    if not database.is_file():
        raise BackupError(f"{database}: no such database file")
    if destination.resolve() == database:
        raise BackupError(f"{destination} is the database itself: give another file")
    if destination.is_dir():
        destination = destination / f"{database.stem}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.db"
    temp = destination.with_name(f".{destination.name}.partial-{os.getpid()}")
    try:
        _copy(database, temp)
        revision = _check(temp, "backup copy")
        os.replace(temp, destination)
        _fsync_dir(destination.parent)
    except OSError as exc:
        raise BackupError(f"cannot write {destination}: {exc.strerror or exc}; nothing was changed") from None
    finally:
        temp.unlink(missing_ok=True)
    return Copied(destination, destination.stat().st_size, revision)


def restore(source: Path, database: Path, known_revisions: set[str]) -> Copied:
    """Put the backup ``source`` in place of ``database``; the replaced file is kept beside it."""
    if not source.is_file():
        raise BackupError(f"{source}: no such backup file")
    revision = _check(source, "backup")
    if revision is None:
        raise BackupError(f"backup {source}: no schema revision: not an infra-monitor database")
    if revision not in known_revisions:
        raise BackupError(f"backup {source}: schema revision {revision} is unknown to this version of "
                          "infra-monitor (made by a newer one?): upgrade the program first")
    temp = database.with_name(f".{database.name}.restoring-{os.getpid()}")
    kept = database.with_name(f"{database.name}.before-restore-{datetime.now(UTC):%Y%m%dT%H%M%SZ}")
    try:
        _copy(source, temp)
        _check(temp, "restored copy")
        if database.exists():
            _copy(database, kept)  # the live database as it was, complete even if it had a WAL
        os.replace(temp, database)
        for suffix in ("-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
        _fsync_dir(database.parent)
    except OSError as exc:
        raise BackupError(f"cannot restore into {database}: {exc.strerror or exc}; the database is as it was"
                          ) from None
    finally:
        temp.unlink(missing_ok=True)
    return Copied(database, database.stat().st_size, revision, kept if kept.exists() else None)


@contextmanager
def no_poller_running(database: Path, group_lock: Path) -> Iterator[None]:
    """Hold every poller lock file of ``database`` (each group's, and ``group_lock``) for the block, or raise
    :class:`BackupError` naming the process that holds one (a ``serve`` or ``poller`` still running)."""
    paths = sorted(set(database.parent.glob(f"{database.name}.poller-*.lock")) | {group_lock})
    with ExitStack() as stack:
        for path in paths:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            stack.callback(os.close, fd)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 200, 0).decode(errors="replace").split()
                who = f"infra-monitor {holder[1]} (pid {holder[0]})" if len(holder) > 1 else "an infra-monitor"
                raise BackupError(f"{who} is running on {database} (lock {path}): stop every serve and poller "
                                  "before a restore; nothing was changed") from None
        yield

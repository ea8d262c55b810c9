"""``infra-monitor backup`` / ``restore`` on a real SQLite database, with real writer and poller processes."""

from __future__ import annotations

import hashlib
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine

from infra_monitor.db import head_revision, upgrade
from tests.deploy.conftest import Deployed, make_deployed

# A writer in another process: each transaction adds the pair (n, -n), so a torn copy shows as an odd count
# or a number without its negative.
WRITER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
db.execute("PRAGMA journal_mode=WAL")
db.execute("CREATE TABLE IF NOT EXISTS backup_probe (n INTEGER NOT NULL)")
print("ready", flush=True)
n = 0
while True:
    n += 1
    db.execute("BEGIN IMMEDIATE")
    db.execute("INSERT INTO backup_probe VALUES (?)", (n,))
    db.execute("INSERT INTO backup_probe VALUES (?)", (-n,))
    db.execute("COMMIT")
"""


def _pairs(path: Path) -> list[int]:
    with sqlite3.connect(path) as db:
        return [n for (n,) in db.execute("SELECT n FROM backup_probe")]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_backup_of_a_database_being_written_is_one_whole_committed_state(deployed: Deployed) -> None:
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(deployed.db)], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        time.sleep(0.5)  # let it commit a few thousand pairs
        done = deployed.run("backup", str(deployed.db.parent / "copy.db"))
        time.sleep(0.2)
    finally:
        writer.kill()
        writer.wait()
    assert done.returncode == 0, done.stderr
    copy = deployed.db.parent / "copy.db"
    assert f"backup written: {copy} (" in done.stdout and f"schema revision {head_revision()}" in done.stdout
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    numbers = _pairs(copy)
    assert numbers and len(numbers) % 2 == 0 and sorted(-n for n in numbers) == sorted(numbers)
    assert len(numbers) < len(_pairs(deployed.db))  # the writer went on after the copy: it did not block it
    assert not Path(f"{copy}-wal").exists()  # one self-contained file
    assert not list(copy.parent.glob(".copy.db.partial-*"))


def test_backup_into_a_directory_names_a_dated_file_and_a_bad_target_changes_nothing(deployed: Deployed) -> None:
    out = deployed.db.parent / "backups"
    out.mkdir()
    assert deployed.run("backup", str(out)).returncode == 0
    (written,) = out.iterdir()
    assert written.name.startswith("im-") and written.suffix == ".db"
    missing = deployed.run("backup", str(deployed.db.parent / "no" / "such" / "dir" / "x.db"))
    assert missing.returncode == 1
    assert "error: cannot write" in missing.stderr and "nothing was changed" in missing.stderr
    itself = deployed.run("backup", str(deployed.db))
    assert itself.returncode == 1 and "is the database itself" in itself.stderr


def test_restore_is_refused_while_a_poller_runs_and_replaces_the_database_once_it_stopped(
        deployed: Deployed) -> None:
    with sqlite3.connect(deployed.db) as db:
        db.execute("CREATE TABLE backup_probe (n INTEGER NOT NULL)")
        db.executemany("INSERT INTO backup_probe VALUES (?)", [(1,), (-1,)])
    backup = deployed.db.parent / "before.db"
    assert deployed.run("backup", str(backup)).returncode == 0
    with sqlite3.connect(deployed.db) as db:
        db.executemany("INSERT INTO backup_probe VALUES (?)", [(2,), (-2,)])  # written after the backup

    poller = deployed.popen("poller")
    try:
        lock = Path(f"{deployed.db}.poller-default.lock")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (lock.exists() and lock.read_text().strip()):
            time.sleep(0.1)
        refused = deployed.run("restore", str(backup))
        assert refused.returncode == 75, refused.stderr
        assert f"infra-monitor poller (pid {poller.pid}) is running on {deployed.db}" in refused.stderr
        assert "nothing was changed" in refused.stderr
        assert _pairs(deployed.db) == [1, -1, 2, -2]  # restore wrote nothing
        assert not list(deployed.db.parent.glob("im.db.before-restore-*"))
    finally:
        poller.terminate()
        poller.wait(timeout=60)

    restored = deployed.run("restore", str(backup))
    assert restored.returncode == 0, restored.stderr
    assert sorted(_pairs(deployed.db)) == [-1, 1]
    (kept,) = deployed.db.parent.glob("im.db.before-restore-*")
    assert f"kept as {kept}" in restored.stdout
    assert sorted(_pairs(kept)) == [-2, -1, 1, 2]  # the replaced database, whole
    assert deployed.run("status").returncode == 0


def test_an_older_backup_is_restored_and_upgraded_to_this_schema(tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    engine = create_engine(f"sqlite:///{old}")
    upgrade(engine, "0004")
    engine.dispose()
    deployed = make_deployed(tmp_path / "live")
    done = deployed.run("restore", str(old))
    assert done.returncode == 0, done.stderr
    assert "schema revision 0004" in done.stdout
    assert f"schema upgraded from revision 0004 to {head_revision()}" in done.stdout
    check = deployed.run("check-config", "--format", "tsv")
    assert f"database\tok\tsqlite:///{deployed.db}: schema revision {head_revision()}" in check.stdout


def test_files_that_are_not_infra_monitor_backups_are_refused_and_the_database_stays(deployed: Deployed,
                                                                                    tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all" * 100)
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE t (x)")
    future = tmp_path / "future.db"
    with sqlite3.connect(future) as db:
        db.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        db.execute("INSERT INTO alembic_version VALUES ('9999')")
    before = _digest(deployed.db)
    for path, said in ((garbage, "not a SQLite database"), (foreign, "not an infra-monitor database"),
                       (future, "schema revision 9999 is unknown"), (tmp_path / "none.db", "no such backup file")):
        result = deployed.run("restore", str(path))
        assert result.returncode == 1, (path, result.stderr)
        assert said in result.stderr and str(path) in result.stderr
    assert _digest(deployed.db) == before
    assert not list(deployed.db.parent.glob("im.db.before-restore-*"))


def test_postgresql_is_sent_to_its_own_tools(tmp_path: Path) -> None:
    deployed = make_deployed(tmp_path, init=False)
    deployed.env["INFRA_MONITOR_DATABASE__URL"] = "postgresql+psycopg://im:secret@127.0.0.1:5432/infra"
    for command in (("backup", str(tmp_path / "x.db")), ("restore", str(tmp_path / "x.db"))):
        result = deployed.run(*command)
        assert result.returncode == 1
        assert "pg_dump" in result.stderr and "secret" not in result.stderr

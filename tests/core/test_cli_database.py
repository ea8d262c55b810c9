"""The real program and its database: reading commands never create one, migrations are quiet unless
``--verbose``, ``init`` says in one line what it applied, and a mistyped ``INFRA_MONITOR_`` variable is refused."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra_monitor.db import head_revision

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, db: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INFRA_MONITOR_")}
    env.update({"INFRA_MONITOR_DATABASE__URL": f"sqlite:///{db}", **extra})
    return subprocess.run([sys.executable, "-m", "infra_monitor", "--lang", "en", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("command", [
    ["status"], ["events"], ["changes"], ["regions"], ["maintenance", "list"], ["user", "list"],
    ["token", "list"], ["secrets", "status"], ["report", "coverage", "--output", "-"],
])
def test_reading_before_init_fails_clearly_and_creates_no_database(tmp_path: Path, command: list[str]) -> None:
    db = tmp_path / "never.db"

    result = run(*command, db=db)

    assert result.returncode == 1, result.stdout + result.stderr
    assert f"database sqlite:///{db} does not exist or is not initialised; run `infra-monitor init`" \
        in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []  # no file, no -wal, no -shm


def test_export_before_init_writes_neither_database_nor_file(tmp_path: Path) -> None:
    result = run("export", str(tmp_path / "out.yaml"), db=tmp_path / "never.db")
    assert result.returncode == 1 and "does not exist or is not initialised" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_empty_file_is_not_an_initialised_database(tmp_path: Path) -> None:
    db = tmp_path / "empty.db"
    db.touch()
    result = run("status", db=db)
    assert result.returncode == 1 and "is not initialised; run `infra-monitor init`" in result.stderr


def test_init_prints_one_line_of_what_it_applied_and_no_alembic_lines(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    first = run("init", db=db)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [first.stdout.strip()]
    assert first.stdout.startswith(f"schema: empty -> {head_revision()} (applied 0001 initial schema, ")
    assert "alembic" not in first.stderr and "Running upgrade" not in first.stderr
    again = run("db", "upgrade", db=db)
    assert again.stdout.strip() == f"schema: {head_revision()} -> {head_revision()} (up to date, nothing applied)"
    assert again.stderr == ""
    assert run("status", db=db).returncode == 0  # now it reads


def test_verbose_or_debug_shows_the_migration_steps(tmp_path: Path) -> None:
    verbose = run("--verbose", "init", db=tmp_path / "v.db")
    assert verbose.returncode == 0, verbose.stderr
    assert "logger=alembic.runtime.migration" in verbose.stderr and "Running upgrade  -> 0001" in verbose.stderr
    debug = run("init", db=tmp_path / "d.db", INFRA_MONITOR_LOGGING__LEVEL="DEBUG")
    assert "Running upgrade  -> 0001" in debug.stderr


@pytest.mark.parametrize(("variable", "nearest"), [
    ("INFRA_MONITOR_WEB__PROT", "INFRA_MONITOR_WEB__PORT"),
    ("INFRA_MONITOR_DATABASE_URL", "INFRA_MONITOR_DATABASE__URL"),          # one underscore: was ignored
    ("INFRA_MONITOR_PROBES__ICMP__INTERVAL", "INFRA_MONITOR_PROBES__ICMP__INTERVAL_S"),
    ("INFRA_MONITOR_SECRETKEY", "INFRA_MONITOR_SECRET_KEY"),
])
def test_unknown_environment_variable_is_refused_naming_the_nearest_key(
        tmp_path: Path, variable: str, nearest: str) -> None:
    result = run("init", db=tmp_path / "e.db", **{variable: "30"})
    assert result.returncode == 2
    assert f"environment variable {variable}: not a configuration key; did you mean {nearest}?" in result.stderr
    assert not (tmp_path / "e.db").exists()


def test_variables_the_program_reads_itself_stay_allowed(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "c.db"}"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("INFRA_MONITOR_")}
    env.update({"INFRA_MONITOR_CONFIG": str(cfg), "INFRA_MONITOR_WEB__PORT": "8123"})
    result = subprocess.run([sys.executable, "-m", "infra_monitor", "--lang", "en", "init"], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "c.db").exists()

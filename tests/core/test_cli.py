"""The command line: help on every command, version, init/upgrade on a fresh database, exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from sqlalchemy import inspect
from typer.main import get_command
from typer.testing import CliRunner

from infra_monitor.cli import app
from infra_monitor.db import head_revision, make_engine

runner = CliRunner()


def _all_commands() -> list[list[str]]:
    root = get_command(app)
    paths: list[list[str]] = []

    def walk(cmd: typer.core.TyperGroup | object, prefix: list[str]) -> None:
        sub = getattr(cmd, "commands", None)
        if not sub:
            paths.append(prefix)
            return
        for name, child in sub.items():
            walk(child, [*prefix, name])

    walk(root, [])
    return paths


def test_every_command_has_help_and_accepts_config() -> None:
    commands = _all_commands()
    assert ["init"] in commands and ["serve"] in commands and ["db", "upgrade"] in commands
    for path in commands:
        result = runner.invoke(app, ["--lang", "en", *path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "--config" in result.output, f"{' '.join(path)} lacks --config"


def test_version_prints_program_and_schema_revision() -> None:
    result = runner.invoke(app, ["--lang", "en", "version"])
    assert result.exit_code == 0
    assert "infra-monitor" in result.output and str(head_revision()) in result.output


def test_unknown_option_is_usage_error_exit_2() -> None:
    assert runner.invoke(app, ["--lang", "en", "init", "--no-such-option"]).exit_code == 2


def test_init_creates_schema_then_upgrade_is_idempotent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "m.db"
    monkeypatch.setenv("INFRA_MONITOR_DATABASE__URL", f"sqlite:///{db}")
    first = runner.invoke(app, ["--lang", "en", "init"])
    assert first.exit_code == 0, first.output
    assert f"-> {head_revision()}" in first.output
    tables = set(inspect(make_engine(f"sqlite:///{db}")).get_table_names())
    assert {"site", "device", "probe_result", "rollup", "alembic_version"} <= tables
    again = runner.invoke(app, ["--lang", "en", "db", "upgrade"])
    assert again.exit_code == 0 and f"{head_revision()} -> {head_revision()}" in again.output


def test_init_on_unwritable_location_fails_with_exit_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFRA_MONITOR_DATABASE__URL", f"sqlite:///{tmp_path}/missing-dir/x.db")
    result = runner.invoke(app, ["--lang", "en", "init"])
    assert result.exit_code == 1
    assert "schema upgrade failed" in result.output

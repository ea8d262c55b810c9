"""Secrets hygiene: config errors never echo secrets, private files are not world-readable, CSV is inert."""

from __future__ import annotations

import csv
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from infra_monitor.cli import app
from infra_monitor.config import ConfigError, load_settings


def _config_error(tmp_path: Path, body: str, environ: dict[str, str] | None = None) -> str:
    cfg = tmp_path / "bad.toml"
    cfg.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(cfg, environ=environ or {})
    return str(err.value)


# --- 1. configuration errors mask secrets ------------------------------------------------------------

def test_webhook_with_bad_url_does_not_echo_its_secret_or_url_credentials(tmp_path: Path) -> None:
    msg = _config_error(tmp_path, '[[notifications.webhooks]]\nname = "ops"\n'
                                  'url = "ftp://bot:url-pass-777@hooks.example/x"\nsecret = "hook-secret-xyz"\n')
    assert "notifications.webhooks.0.url" in msg
    assert "url-pass-777" not in msg and "hook-secret-xyz" not in msg
    assert "bot:***@hooks.example" in msg


def test_webhook_missing_name_does_not_echo_the_whole_table_with_its_secret(tmp_path: Path) -> None:
    msg = _config_error(tmp_path, '[[notifications.webhooks]]\nurl = "https://hooks.example/x"\n'
                                  'secret = "hook-secret-xyz"\n')
    assert "notifications.webhooks.0.name" in msg
    assert "hook-secret-xyz" not in msg
    assert "'secret': '***'" in msg


def test_admin_token_of_the_wrong_type_is_named_not_shown(tmp_path: Path) -> None:
    msg = _config_error(tmp_path, "[web]\nadmin_token = 918273645\n")
    assert "web.admin_token" in msg and "918273645" not in msg and "***" in msg


def test_admin_token_from_the_environment_is_masked(tmp_path: Path) -> None:
    msg = _config_error(tmp_path, "", environ={"INFRA_MONITOR_WEB__ADMIN_TOKEN": "[\"tok-secret-abc\"]"})
    assert "web.admin_token" in msg and "tok-secret-abc" not in msg


def test_database_url_with_a_bad_scheme_masks_the_password(tmp_path: Path) -> None:
    msg = _config_error(tmp_path, '[database]\nurl = "mysql://monitor:db-pass-555@db.example/infra"\n')
    assert "database.url" in msg and "db-pass-555" not in msg
    assert "monitor:***@db.example" in msg


def test_database_url_from_the_environment_masks_the_password(tmp_path: Path) -> None:
    msg = _config_error(tmp_path, "", environ={
        "INFRA_MONITOR_DATABASE__URL": "postgres://monitor:env@pass-42@db.example/infra"})
    assert "database.url" in msg and "pass-42" not in msg and "monitor:***@db.example" in msg


def test_email_password_is_masked_when_the_channel_is_invalid(tmp_path: Path) -> None:
    msg = _config_error(tmp_path, '[[notifications.email]]\nname = "mail"\nhost = "smtp.example"\n'
                                  'port = 99999\npassword = "smtp-pass-999"\nrecipients = []\n')
    assert "notifications.email.0.port" in msg and "notifications.email.0.sender" in msg
    assert "smtp-pass-999" not in msg


def test_whole_document_errors_do_not_dump_secrets(tmp_path: Path) -> None:
    msg = _config_error(tmp_path, '[web]\nadmin_token = "tok-secret-abc"\n'
                                  '[database]\nurl = "postgresql+psycopg://u:db-pass-555@h/db"\n'
                                  '[[notifications.webhooks]]\nname = "ops"\nurl = "https://h/x"\n'
                                  'secret = "hook-secret-xyz"\n'
                                  '[[reports.schedules]]\nkind = "coverage"\nemail = ["nobody"]\n')
    assert "reports.schedules[0].email" in msg
    for secret in ("tok-secret-abc", "db-pass-555", "hook-secret-xyz"):
        assert secret not in msg


def test_cli_config_error_output_does_not_echo_the_secret(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[[notifications.webhooks]]\nname = "ops"\nurl = "hooks.example"\nsecret = "hook-secret-xyz"\n'
                   "[web]\nadmin_token = 918273645\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["init", "--config", str(cfg)])
    assert result.exit_code == 2
    assert "notifications.webhooks.0.url" in result.output and "web.admin_token" in result.output
    assert "hook-secret-xyz" not in result.output and "918273645" not in result.output


# --- 2. file modes -----------------------------------------------------------------------------------

def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def private_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[CliRunner, Path]]:
    db = tmp_path / "im.db"
    monkeypatch.setenv("INFRA_MONITOR_DATABASE__URL", f"sqlite:///{db}")
    monkeypatch.delenv("INFRA_MONITOR_CONFIG", raising=False)
    old = os.umask(0o022)  # the usual umask: without care, files would be world-readable
    yield CliRunner(), db
    os.umask(old)


def test_init_creates_the_sqlite_file_not_world_readable(private_cli: tuple[CliRunner, Path]) -> None:
    runner, db = private_cli
    result = runner.invoke(app, ["init"])
    assert result.exit_code == 0, result.output
    assert db.exists() and _mode(db) & 0o077 == 0, oct(_mode(db))
    for side in (db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        if side.exists():
            assert _mode(side) & 0o077 == 0, (side, oct(_mode(side)))


@pytest.mark.parametrize("name", ["full.yaml", "full.json"])
def test_export_with_secrets_writes_a_private_file(
        private_cli: tuple[CliRunner, Path], tmp_path: Path, name: str) -> None:
    runner, _ = private_cli
    assert runner.invoke(app, ["init"]).exit_code == 0
    target = tmp_path / name
    target.write_text("old", encoding="utf-8")
    target.chmod(0o644)  # an existing world-readable file is replaced, not reused
    result = runner.invoke(app, ["export", str(target), "--include-secrets"])
    assert result.exit_code == 0, result.output
    assert _mode(target) == 0o600, oct(_mode(target))
    assert target.read_text(encoding="utf-8") != "old"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(f".{name}")] == []  # no temp file left


def test_export_with_secrets_to_csv_writes_private_files(
        private_cli: tuple[CliRunner, Path], tmp_path: Path) -> None:
    runner, _ = private_cli
    assert runner.invoke(app, ["init", "--demo"]).exit_code == 0
    target = tmp_path / "csv"
    result = runner.invoke(app, ["export", str(target), "--include-secrets"])
    assert result.exit_code == 0, result.output
    files = list(target.glob("*.csv"))
    assert "snmp_profiles.csv" in {f.name for f in files}
    assert _mode(target) & 0o077 == 0
    assert all(_mode(f) == 0o600 for f in files), {f.name: oct(_mode(f)) for f in files}


# --- 3. CSV export is inert for spreadsheets ---------------------------------------------------------

def test_csv_export_neutralises_formula_cells(private_cli: tuple[CliRunner, Path], tmp_path: Path) -> None:
    runner, _ = private_cli
    assert runner.invoke(app, ["init"]).exit_code == 0
    doc = tmp_path / "in.yaml"
    doc.write_text(
        "regions:\n- {code: '24', slug: bac-giang, name: Bắc Giang, level: province, unit_type: tinh}\n"
        "sites:\n"
        "- {slug: evil, name: '=HYPERLINK(\"http://x\")', region: '24', category: department,"
        " description: '+cmd', status: active}\n"
        "- {slug: plain, name: 'Sở TT&TT', region: '24', category: department, description: '@SUM(1)',"
        " status: active}\n",
        encoding="utf-8")
    imported = runner.invoke(app, ["import", str(doc)])
    assert imported.exit_code == 0, imported.output
    target = tmp_path / "csv"
    result = runner.invoke(app, ["export", str(target)])
    assert result.exit_code == 0, result.output
    with (target / "sites.csv").open(encoding="utf-8", newline="") as fh:
        rows = {r["slug"]: r for r in csv.DictReader(fh)}
    assert rows["evil"]["name"] == "'=HYPERLINK(\"http://x\")"
    assert rows["evil"]["description"] == "'+cmd"
    assert rows["plain"]["name"] == "Sở TT&TT" and rows["plain"]["description"] == "'@SUM(1)"
    for row in rows.values():
        assert not any(v.startswith(("=", "+", "-", "@", "\t", "\r")) for v in row.values())
    # The apostrophe is the export's own: importing the CSV export back gives the values as they were.
    again = runner.invoke(app, ["import", str(target), "--dry-run"])
    assert again.exit_code == 0, again.output
    from inventory.docfiles import load_file

    back = {s["slug"]: s for s in load_file(target)[0]["sites"]}
    assert back["evil"]["name"] == '=HYPERLINK("http://x")' and back["plain"]["description"] == "@SUM(1)"
    # YAML and JSON are not spreadsheets: their values stay as they are
    assert runner.invoke(app, ["export", str(tmp_path / "out.yaml")]).exit_code == 0
    sites = {s["slug"]: s for s in yaml.safe_load((tmp_path / "out.yaml").read_text(encoding="utf-8"))["sites"]}
    assert sites["evil"]["name"] == '=HYPERLINK("http://x")' and sites["plain"]["description"] == "@SUM(1)"

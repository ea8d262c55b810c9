"""``infra-monitor check-config`` through the real command: what is ready, what warns, what fails."""

from __future__ import annotations

import os
import socket
import sqlite3
import time
from pathlib import Path

from sqlalchemy import create_engine

from infra_monitor.db import head_revision, upgrade
from tests.deploy.conftest import Deployed, make_deployed


def _rows(stdout: str) -> dict[str, tuple[str, str]]:
    lines = stdout.splitlines()
    assert lines[0] == "check\tstatus\tdetail"
    return {name: (status, detail) for name, status, detail in (line.split("\t") for line in lines[1:])}


def test_a_ready_machine_passes_every_check(deployed: Deployed) -> None:
    result = deployed.run("check-config")
    assert result.returncode == 0, result.stdout + result.stderr
    rows = _rows(result.stdout)
    assert {k: s for k, (s, _d) in rows.items()} == {"database": "ok", "secrets": "ok", "icmp": "ok",
                                                     "web": "ok", "poller": "ok"}
    assert rows["database"][1] == f"sqlite:///{deployed.db}: schema revision {head_revision()}"
    assert f"configuration {deployed.config}" in result.stderr and "0 failed, 0 warning(s)" in result.stderr
    vi = deployed.run("check-config", lang="vi")
    assert "0 lỗi, 0 cảnh báo" in vi.stderr and vi.stdout == result.stdout  # TSV is the same in every language


def test_a_missing_database_fails_naming_init_and_creates_nothing(tmp_path: Path) -> None:
    deployed = make_deployed(tmp_path, init=False)
    result = deployed.run("check-config")
    assert result.returncode == 1
    status, detail = _rows(result.stdout)["database"]
    assert status == "fail" and "infra-monitor init" in detail
    assert not deployed.db.exists()


def test_a_schema_behind_the_program_fails_naming_db_upgrade(tmp_path: Path) -> None:
    deployed = make_deployed(tmp_path, init=False)
    engine = create_engine(f"sqlite:///{deployed.db}")
    upgrade(engine, "0004")
    engine.dispose()
    result = deployed.run("check-config")
    assert result.returncode == 1
    status, detail = _rows(result.stdout)["database"]
    assert status == "fail" and "schema revision 0004" in detail and "infra-monitor db upgrade" in detail


def test_a_busy_port_a_running_poller_and_a_readable_database_are_warnings(deployed: Deployed) -> None:
    os.chmod(deployed.db, 0o644)
    poller = deployed.popen("poller")
    try:
        lock = Path(f"{deployed.db}.poller-default.lock")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (lock.exists() and lock.read_text().strip()):
            time.sleep(0.1)
        with socket.socket() as other:
            other.bind(("127.0.0.1", deployed.port))
            other.listen()
            result = deployed.run("check-config")
    finally:
        poller.terminate()
        poller.wait(timeout=60)
    assert result.returncode == 0, result.stdout  # warnings do not fail
    rows = _rows(result.stdout)
    assert rows["web"][0] == "warn" and f"127.0.0.1:{deployed.port}" in rows["web"][1]
    assert rows["poller"][0] == "warn" and f"poller (pid {poller.pid})" in rows["poller"][1]
    assert rows["database file"][0] == "warn" and "chmod 600" in rows["database file"][1]
    assert "0 failed, 3 warning(s)" in result.stderr


def test_undecryptable_secrets_and_an_unwritable_report_directory_fail(tmp_path: Path) -> None:
    locked = tmp_path / "reports-here"
    locked.mkdir()
    deployed = make_deployed(tmp_path / "db", extra=(
        f'[reports]\noutput_dir = "{locked}"\n[[reports.schedules]]\nkind = "coverage"\nevery = "month"\n'))
    with sqlite3.connect(deployed.db) as db:
        # a community encrypted under a key this machine does not have (copied from another server)
        db.execute("INSERT INTO snmp_profile (name, version, community, user, auth_key, priv_key, port, "
                   "description, created, last_updated) VALUES ('p', '2c', 'enc:v1:gAAAAAnotreal', '', '', '', "
                   "161, '', '2026-01-01', '2026-01-01')")
    os.chmod(locked, 0o500)
    try:
        result = deployed.run("check-config")
    finally:
        os.chmod(locked, 0o700)
    rows = _rows(result.stdout)
    assert result.returncode == 1
    assert rows["secrets"][0] == "fail" and "cannot be decrypted" in rows["secrets"][1]
    if os.geteuid() != 0:  # root writes anywhere: the directory check only means something for a service user
        assert rows["reports"][0] == "fail"


def test_a_configuration_that_does_not_load_exits_2_naming_the_key(tmp_path: Path) -> None:
    deployed = make_deployed(tmp_path, init=False)
    deployed.config.write_text('[web]\nprot = 8000\n', encoding="utf-8")
    result = deployed.run("check-config")
    assert result.returncode == 2 and "prot" in result.stderr and str(deployed.config) in result.stderr

"""List commands through the real program: TSV when piped, a rich table when asked, JSON; ``changes`` shows
the changed fields; a refused import says that nothing was written instead of claiming counts."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from infra_monitor.db import make_engine
from tests.inventory.documents import example_document, row, write_yaml
from tests.web.builders import Province

ROOT = Path(__file__).resolve().parents[2]


def run(db: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INFRA_MONITOR_")}
    env["INFRA_MONITOR_DATABASE__URL"] = f"sqlite:///{db}"
    return subprocess.run([sys.executable, "-m", "infra_monitor", "--lang", "en",
                           *args], env=env, cwd=ROOT, input=stdin,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def province_db(tmp_path: Path) -> tuple[Path, Province]:
    db = tmp_path / "p.db"
    engine: Engine = make_engine(f"sqlite:///{db}")
    province = Province.build(engine, communes=4)
    province.cut_district(0)
    province.event(province.district_routers[0], "up", "down", message="d213-rt\tdown\nno answer", minutes_ago=3)
    province.event(province.commune_routers[1], "down", "up", message="xa-001-rt back", minutes_ago=1)
    engine.dispose()
    return db, province


def test_events_piped_are_tsv_one_line_per_event_with_tabs_and_newlines_escaped(
        province_db: tuple[Path, Province]) -> None:
    db, _ = province_db
    result = run(db, "events")
    assert result.returncode == 0, result.stderr
    header, *lines = result.stdout.splitlines()
    assert header.split("\t") == ["TIME (GMT+7)", "SEVERITY", "KIND", "DEVICE", "MESSAGE"]
    assert len(lines) == 2 and all(len(line.split("\t")) == 5 for line in lines)
    newest, oldest = (line.split("\t") for line in lines)
    assert newest[1:] == ["info", "state_change", "xa-001/xa-001-rt", "xa-001-rt back"]
    assert oldest[1:4] == ["critical", "state_change", "ubnd-213/d213-rt"]
    assert oldest[4] == "d213-rt\\tdown\\nno answer"  # the cell's tab and newline cannot split the row


def test_events_as_rich_table_and_as_json(province_db: tuple[Path, Province]) -> None:
    db, _ = province_db
    table = run(db, "events", "--format", "table")
    assert table.returncode == 0, table.stderr
    assert "┃ SEVERITY" in table.stdout and "\t" not in table.stdout
    assert "Critical" in table.stdout and "Down → Up" in table.stdout  # for people: from the event's fields
    data = json.loads(run(db, "events", "--format", "json").stdout)
    assert [e["message"] for e in data] == ["xa-001-rt back", "d213-rt\tdown\nno answer"]
    assert data == json.loads(run(db, "events", "--json").stdout)


def test_account_lists_and_maintenance_list_share_the_tsv_convention(province_db: tuple[Path, Province]) -> None:
    db, _ = province_db
    assert run(db, "user", "add", "lan.nguyen", "--role", "operator", "--name", "Nguyễn Thị Lan",
               "--password-stdin", stdin="mat-khau-dai-123\n").returncode == 0
    made = run(db, "token", "create", "--user", "lan.nguyen", "--description", "grafana wall")
    assert made.returncode == 0, made.stderr
    assert run(db, "maintenance", "add", "--name", "Thay switch", "--site", "xa-002", "--start",
               "01/01/2030 08:00", "--end", "01/01/2030 10:00").returncode == 0

    users = run(db, "user", "list").stdout.splitlines()
    assert users[0].split("\t") == ["username", "name", "role", "state", "last sign-in"]
    assert users[1].split("\t")[:4] == ["lan.nguyen", "Nguyễn Thị Lan", "operator", "active"]
    tokens = run(db, "token", "list").stdout.splitlines()
    assert tokens[0].split("\t")[:3] == ["id", "key", "user"] and len(tokens) == 2
    assert tokens[1].split("\t")[2] == "lan.nguyen" and tokens[1].endswith("\tgrafana wall")
    assert made.stdout.strip() not in "\n".join(tokens)
    windows = run(db, "maintenance", "list").stdout.splitlines()
    assert windows[0].split("\t") == ["ID", "NAME", "SCOPE", "SCHEDULE", "ACTIVE", "NEXT OCCURRENCE"]
    assert windows[1].split("\t")[1:3] == ["Thay switch", "site xa-002"]
    [shown] = json.loads(run(db, "user", "list", "--format", "json").stdout)
    assert shown["username"] == "lan.nguyen" and shown["role"] == "operator"


def test_changes_show_each_changed_field_old_to_new_with_secrets_masked(tmp_path: Path) -> None:
    db = tmp_path / "inv.db"
    assert run(db, "init").returncode == 0
    doc = example_document()
    assert run(db, "import", str(write_yaml(doc, tmp_path / "a.yaml"))).returncode == 0
    row(doc, "sites", slug="tt-voi")["address"] = "Thị trấn Vôi, huyện Lạng Giang, tỉnh Bắc Giang, Việt Nam"
    row(doc, "snmp_profiles", name="demo-v3")["priv_key"] = "newprivpass456"
    row(doc, "snmp_profiles", name="demo-v3")["user"] = "monitor2"
    assert run(db, "import", str(write_yaml(doc, tmp_path / "b.yaml"))).returncode == 0

    result = run(db, "changes", "--limit", "2")
    assert result.returncode == 0, result.stderr
    header, *lines = result.stdout.splitlines()
    assert header.split("\t") == ["time", "actor", "action", "object", "name", "changes", "request"]
    changes = {line.split("\t")[4]: line.split("\t")[5] for line in lines}
    assert changes["UBND thị trấn Vôi"] == 'address: "" → Thị trấn Vôi, huyện Lạng Giang, tỉnh Bắ…'  # shortened
    assert changes["demo-v3"] == "user: monitor → monitor2"  # the key changed too, but is never shown
    assert "newprivpass456" not in result.stdout and "privpass123" not in result.stdout
    data = json.loads(run(db, "changes", "--limit", "2", "--format", "json").stdout)
    site = next(c for c in data if c["object_type"] == "site")
    assert site["changes"] == [{"field": "address", "old": "",
                                "new": "Thị trấn Vôi, huyện Lạng Giang, tỉnh Bắc Giang, Việt Nam"}]


def test_refused_import_says_nothing_was_written_and_lists_the_errors_not_counts(tmp_path: Path) -> None:
    db = tmp_path / "inv.db"
    assert run(db, "init").returncode == 0
    doc = example_document()
    assert run(db, "import", str(write_yaml(doc, tmp_path / "a.yaml"))).returncode == 0
    row(doc, "sites", slug="tt-voi")["address"] = "an update that must not be applied"
    row(doc, "sites", slug="so-tttt")["category"] = "village"
    path = write_yaml(doc, tmp_path / "b.yaml")

    result = run(db, "import", str(path))

    assert result.returncode == 1
    assert f"{path}:sites#" in result.stderr and ":category: " in result.stderr and "'village'" in result.stderr
    assert "nothing was written" in result.stderr and "1 error in" in result.stderr
    assert "updated" not in result.stdout + result.stderr.replace("updated=", "")
    assert result.stdout == ""
    with sqlite3.connect(db) as conn:
        [(address,)] = conn.execute("SELECT address FROM site WHERE slug = 'tt-voi'").fetchall()
    assert address != "an update that must not be applied"


def test_events_on_a_terminal_are_a_rich_table_without_asking(province_db: tuple[Path, Province]) -> None:
    import pty

    db, _ = province_db
    env = {k: v for k, v in os.environ.items() if not k.startswith("INFRA_MONITOR_")}
    env.update({"INFRA_MONITOR_DATABASE__URL": f"sqlite:///{db}", "COLUMNS": "160", "TERM": "xterm"})
    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "infra_monitor", "--lang", "en", "events"], env=env, cwd=ROOT,
                                stdout=follower, stderr=subprocess.PIPE, text=True)
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal's other side closed: the program ended
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert proc.wait(timeout=60) == 0, proc.stderr.read() if proc.stderr else ""
    finally:
        os.close(leader)
    shown = b"".join(chunks).decode()
    assert "SEVERITY" in shown and "┃" in shown and "│" in shown and "\t" not in shown
    assert "Down → Up" in shown

"""``infra-monitor problems list|show|ack|assign|comment`` through the real command on a real SQLite file."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from infra_monitor.cli import app
from tests.users import ensure_user
from tests.web.builders import Province
from tests.web.problems_setup import observe, outage, sweep

runner = CliRunner()


@pytest.fixture
def env(province: Province, web_url: str) -> dict[str, str]:
    outage(province, 0, minutes=-40)
    outage(province, 1, minutes=-20)   # and 213 recovers
    sweep(province, observe(province, province.district_routers[1]), -10)   # its communes back on a backup
    return {"INFRA_MONITOR_DATABASE__URL": web_url}


def run(env: dict[str, str], *args: str) -> str:
    result = runner.invoke(app, ["--lang", "en", "problems", *args], env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_list_shows_open_problems_and_the_history_on_request(env: dict[str, str]) -> None:
    lines = run(env, "list", "--format", "tsv").splitlines()
    assert lines[0].split("\t")[:3] == ["ID", "STATE", "ROOT CAUSE"] and "(GMT+7)" in lines[0]
    assert len(lines) == 2
    row = lines[1].split("\t")
    assert row[1:5] == ["open", "d215-rt", "ubnd-215", "Huyện Yên Thế"]
    assert row[7] == "0/10" and row[8] == "no"
    resolved = run(env, "list", "--resolved", "--format", "tsv").splitlines()
    assert len(resolved) == 2 and resolved[1].split("\t")[1:3] == ["resolved", "d213-rt"]
    assert resolved[1].split("\t")[6] == "20 min"   # from -40 to -20 min
    assert len(run(env, "list", "--all", "--district", "d-213", "--format", "tsv").splitlines()) == 2
    assert "no problems" in run(env, "list", "--level", "commune")
    data = json.loads(run(env, "list", "--all", "--format", "json"))
    assert [p["state"] for p in data] == ["open", "resolved"]


def test_bad_options_exit_2_naming_the_option(env: dict[str, str]) -> None:
    bad = runner.invoke(app, ["--lang", "en", "problems", "list", "--district", "atlantis", "--since", "soon"], env=env)
    assert bad.exit_code == 2
    assert "--district" in bad.output and "--since" in bad.output
    assert runner.invoke(app, ["--lang", "en", "problems", "show", "999"], env=env).exit_code == 2
    assert runner.invoke(app, ["--lang", "en", "problems", "comment", "1", " "], env=env).exit_code == 2


def test_ack_assign_comment_then_show_lists_members_and_history(env: dict[str, str], engine: Engine) -> None:
    ensure_user(engine, "tuan", "operator")
    pid = json.loads(run(env, "list", "--format", "json"))[0]["id"]
    assert "acknowledged by lan" in run(env, "ack", str(pid), "--comment", "gọi VNPT", "--user", "lan")
    run(env, "assign", str(pid), "tuan", "--user", "lan")
    run(env, "comment", str(pid), "cáp quang bị đứt", "--user", "lan")
    assert runner.invoke(app, ["--lang", "en", "problems", "assign", str(pid), "ghost"], env=env).exit_code == 2
    shown = json.loads(run(env, "show", str(pid), "--format", "json"))
    assert (shown["acknowledged"], shown["ack_by"], shown["ack_comment"], shown["assignee"]) == (
        True, "lan", "gọi VNPT", "tuan")
    assert [h["action"] for h in shown["history"]] == ["opened", "acknowledged", "assigned", "commented"]
    assert len(shown["members"]) == 10
    text = run(env, "show", str(pid), "--format", "tsv")
    assert "== history ==" in text and "cáp quang bị đứt" in text and "xa-001-rt" in text
    assert "yes (lan)" in run(env, "list", "--format", "tsv")


def test_events_until_keeps_only_older_events(province: Province, web_url: str) -> None:
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    env = {"INFRA_MONITOR_DATABASE__URL": web_url}
    outage(province, 0, minutes=-5)
    sweep(province, observe(province), -1)
    until = (province.now - timedelta(minutes=3)).astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%d/%m/%Y %H:%M")
    result = runner.invoke(app, ["events", "--until", until, "--format", "json"], env=env)
    assert result.exit_code == 0, result.output
    assert {e["new_state"] for e in json.loads(result.output)} == {"down", "unreachable"}
    everything = json.loads(runner.invoke(app, ["events", "--format", "json"], env=env).output)
    assert "up" in {e["new_state"] for e in everything}
    bad = runner.invoke(app, ["events", "--until", "tomorrow"], env=env)
    assert bad.exit_code == 2 and "--until" in bad.output

"""``infra-monitor status``: sites and devices with state, since (GMT+7), cause, root cause; coverage; JSON."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from infra_monitor.cli import app
from tests.web.builders import Province

runner = CliRunner()


@pytest.fixture
def env(province: Province, web_url: str) -> dict[str, str]:
    province.cut_district(0)
    return {"INFRA_MONITOR_DATABASE__URL": web_url}


def test_status_lists_sites_devices_causes_root_causes_and_coverage(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["status"], env=env)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "== Sites ==" in out and "== Devices ==" in out and "== Coverage ==" in out
    down = next(line for line in out.splitlines() if line.startswith("ubnd-213\t"))
    assert "DOWN" in down and "(GMT+7)" in down
    cut = next(line for line in out.splitlines() if "\txa-002-rt\t" in line)
    assert "UNREACHABLE" in cut and "parent_unreachable" in cut and "d213-rt" in cut
    commune = next(line for line in out.splitlines() if line.startswith("commune\t"))
    assert commune.split()[:6] == ["commune", "230", "10", "220", "10", "5"]


def test_status_filters_by_site_and_level(env: dict[str, str]) -> None:
    one = runner.invoke(app, ["status", "--site", "xa-001", "--all"], env=env).output
    assert "xa-001-rt" in one and "xa-002-rt" not in one
    level = runner.invoke(app, ["status", "--level", "district"], env=env).output
    assert "ubnd-213" in level and "xa-001 " not in level
    assert runner.invoke(app, ["status", "--site", "nope"], env=env).exit_code == 1
    assert runner.invoke(app, ["status", "--level", "planet"], env=env).exit_code == 2


def test_status_json_is_machine_readable(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["status", "--json"], env=env)
    assert result.exit_code == 0
    data = json.loads(result.output)
    states = {s["slug"]: s["state"] for s in data["sites"]}
    assert states["ubnd-213"] == "down" and states["xa-000"] == "unreachable"
    root = next(d for d in data["devices"] if d["name"] == "xa-000-rt")
    assert root["root_cause_name"] == "d213-rt"
    assert {c["level"] for c in data["coverage"]} >= {"commune", "vc"}
    assert data["timezone"] == "Asia/Ho_Chi_Minh"

"""The systemd units in deploy/: valid for systemd itself, hardened, and starting the commands they name.

``systemd-analyze verify`` reads each unit as systemd would (unknown keys, bad values, a command that is not
executable); ``systemd-analyze security --offline`` scores its exposure. The program path is pointed at this
checkout's environment so that the ExecStart lines are checked against a real executable.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.requirements import require_commands

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "deploy" / "systemd"
VENV = Path(sys.executable).parent.parent  # .venv of this checkout


def _installed(tmp_path: Path, name: str, as_name: str | None = None) -> Path:
    text = (UNITS / name).read_text(encoding="utf-8").replace("/opt/infra-monitor/.venv", str(VENV))
    unit = tmp_path / (as_name or name)
    unit.write_text(text, encoding="utf-8")
    return unit


@pytest.mark.parametrize(("name", "as_name"), [("infra-monitor.service", None),
                                               ("infra-monitor-poller@.service", "infra-monitor-poller@d213.service")])
def test_units_verify_cleanly_and_score_ok_on_exposure(tmp_path: Path, name: str, as_name: str | None) -> None:
    require_commands("systemd-analyze")
    unit = _installed(tmp_path, name, as_name)
    verify = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert verify.returncode == 0 and verify.stderr.strip() == "", verify.stderr
    security = subprocess.run(["systemd-analyze", "security", "--offline=true", str(unit)],
                              capture_output=True, text=True, timeout=60)
    found = re.search(r"Overall exposure level for \S+: ([0-9.]+) (\w+)", security.stdout)
    assert found, security.stdout[-2000:] + security.stderr
    assert float(found.group(1)) <= 2.0 and found.group(2) == "OK", found.group(0)


def test_a_unit_with_a_mistake_is_caught_by_the_same_check(tmp_path: Path) -> None:
    """The check above would be worthless if verify passed anything."""
    require_commands("systemd-analyze")
    unit = _installed(tmp_path, "infra-monitor.service")
    unit.write_text(unit.read_text().replace(str(VENV), "/nonexistent"), encoding="utf-8")
    verify = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert verify.returncode != 0 or verify.stderr.strip()


def _directives(name: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in (UNITS / name).read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            out.setdefault(key, []).append(value)
    return out


def test_both_units_run_real_commands_as_their_own_user_with_only_the_icmp_capability() -> None:
    serve, poller = _directives("infra-monitor.service"), _directives("infra-monitor-poller@.service")
    assert serve["ExecStart"] == ["/opt/infra-monitor/.venv/bin/infra-monitor serve"]
    assert poller["ExecStart"] == ["/opt/infra-monitor/.venv/bin/infra-monitor poller"]
    assert "INFRA_MONITOR_POLLER__GROUP=%i" in poller["Environment"]
    for unit in (serve, poller):
        assert unit["User"] == ["infra-monitor"] and unit["CapabilityBoundingSet"] == ["CAP_NET_RAW"]
        assert unit["AmbientCapabilities"] == ["CAP_NET_RAW"] and unit["NoNewPrivileges"] == ["yes"]
        assert unit["ProtectSystem"] == ["strict"] and unit["ReadWritePaths"] == ["/var/lib/infra-monitor"]
        assert unit["RestartPreventExitStatus"] == ["2"]  # a wrong configuration is not retried in a loop
        assert unit["ExecStartPre"] == ["/opt/infra-monitor/.venv/bin/infra-monitor --lang en check-config"]
    # the same hardening in both, apart from what names the command and the group
    differs = {"Description", "ExecStart", "Environment", "TimeoutStopSec"}
    assert {k: v for k, v in serve.items() if k not in differs} == {k: v for k, v in poller.items()
                                                                     if k not in differs}


def test_the_commands_the_units_start_exist_in_the_cli() -> None:
    for command in ("serve", "poller", "check-config"):
        help_ = subprocess.run([sys.executable, "-m", "infra_monitor", command, "--help"], cwd=ROOT,
                               capture_output=True, text=True, timeout=60)
        assert help_.returncode == 0, help_.stderr

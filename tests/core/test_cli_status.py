"""``infra-monitor status`` through the real program: the summary first, then only what is not UP (``--all``
for everything), and ``--site``/``--level``/``--district`` narrowing the summary and the coverage too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra_monitor.db import make_engine
from tests.web.builders import Province

ROOT = Path(__file__).resolve().parents[2]


def status(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INFRA_MONITOR_")}
    env["INFRA_MONITOR_DATABASE__URL"] = f"sqlite:///{db}"
    result = subprocess.run([sys.executable, "-m", "infra_monitor", "--lang", "en", "status", *args], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result


def sections(out: str) -> dict[str, list[list[str]]]:
    """``== Title ==`` blocks of TSV lines, split into cells, in output order."""
    found: dict[str, list[list[str]]] = {}
    current: list[list[str]] | None = None
    for line in out.splitlines():
        if line.startswith("== ") and line.endswith(" =="):
            current = found.setdefault(line[3:-3], [])
        elif not line:
            current = None
        elif current is not None:
            current.append(line.split("\t"))
    return found


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """Two districts, six communes; district 213 cut off: its router DOWN, three communes UNREACHABLE."""
    path = tmp_path / "s.db"
    engine = make_engine(f"sqlite:///{path}")
    Province.build(engine, communes=6).cut_district(0)
    engine.dispose()
    return path


def test_summary_comes_first_then_only_what_is_not_up(db: Path) -> None:
    out = status(db).stdout
    found = sections(out)
    assert list(found) == ["Summary", "Coverage", "Sites", "Devices"]
    assert out.index("== Summary ==") < out.index("== Coverage ==") < out.index("data from the sweep") \
        < out.index("== Sites ==")
    summary = {r[0]: r[1:] for r in found["Summary"][1:]}
    assert found["Summary"][0] == ["", "up", "down", "unreachable", "unknown", "maintenance", "total"]
    assert summary["sites"] == ["5", "1", "3", "0", "0", "9"]  # data center, 2 district sites, 6 communes
    assert summary["devices"] == ["8", "1", "6", "0", "0", "15"]
    listed = [r[0] for r in found["Sites"][1:]]
    assert sorted(listed) == ["ubnd-213", "xa-000", "xa-002", "xa-004"]
    devices = {r[1]: r[2] for r in found["Devices"][1:]}
    assert devices["d213-rt"] == "DOWN" and devices["xa-000-vc"] == "UNREACHABLE" and len(devices) == 7
    assert "xa-001" not in listed and "dc-core-01" not in devices
    assert "5 UP sites not listed (--all lists them)" in out
    commune = next(r for r in found["Coverage"] if r[0] == "commune")
    assert commune[:3] == ["commune", "230", "6"]


def test_all_lists_the_up_sites_and_devices_too(db: Path) -> None:
    found = sections(status(db, "--all").stdout)
    assert len(found["Sites"]) - 1 == 9 and len(found["Devices"]) - 1 == 15


def test_site_narrows_the_summary_and_the_coverage_to_that_site(db: Path) -> None:
    out = status(db, "--site", "xa-002", "--all").stdout
    found = sections(out)
    summary = {r[0]: r[1:] for r in found["Summary"][1:]}
    assert summary["sites"] == ["0", "0", "1", "0", "0", "1"]
    assert summary["devices"] == ["0", "0", "2", "0", "0", "2"]
    coverage = {r[0]: r[1:] for r in found["Coverage"][1:]}
    assert set(coverage) == {"commune", "vc"}  # not the province's levels, nor its plan targets
    assert coverage["commune"][:2] == ["-", "1"] and coverage["vc"][:2] == ["-", "1"]
    assert [r[0] for r in found["Sites"][1:]] == ["xa-002"]


def test_level_and_district_narrow_everything(db: Path) -> None:
    level = sections(status(db, "--level", "district", "--all").stdout)
    assert [r[0] for r in level["Coverage"][1:]] == ["district"]
    assert {r[0] for r in level["Sites"][1:]} == {"ubnd-213", "ubnd-215"}
    assert {r[0]: r[1:] for r in level["Summary"][1:]}["sites"] == ["1", "1", "0", "0", "0", "2"]

    district = json.loads(status(db, "--district", "215", "--format", "json").stdout)
    assert district["summary"]["sites"] == {"up": 4, "down": 0, "unreachable": 0, "unknown": 0, "maintenance": 0}
    assert district["sites"] == [] and district["devices"] == []  # all UP there: nothing listed without --all
    assert {c["level"]: c["inventoried"] for c in district["coverage"]} == {"district": 1, "commune": 3, "vc": 3}
    assert all(c["target"] is None for c in district["coverage"])

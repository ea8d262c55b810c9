"""A full disk while writing a report or an inventory export: one clear error, nothing half-written.

A 64 KiB tmpfs is mounted for each test (root only: skipped with the reason on a laptop, failed under CI)
and filled so that only a few KiB are left: ``infra-monitor report coverage --format pdf`` and
``infra-monitor export inv.yaml`` (real processes) must exit 1 with one ``error:`` line naming the file and
"no space left", no traceback, no partial file under the final name, no temporary file left behind, and a
file of the same name that was already there left exactly as it was. Once space is freed the same command
replaces that file, so the failure was the disk's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from infra_monitor.db import make_engine, upgrade
from inventory.importer import import_document
from tests.requirements import missing, require_commands

ROOT = Path(__file__).resolve().parents[2]
TMPFS_SIZE = "64k"
LEFT_BYTES = 8192  # what stays free: less than either output, so the write starts and then fails
OLD_CONTENT = b"the previous version, which must survive\n"
FILLER = "filler"


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A freshly mounted 64 KiB tmpfs, unmounted afterwards."""
    if os.geteuid() != 0:
        missing("mounting a tmpfs to fill it needs root")
    require_commands("mount", "umount")
    where = tmp_path / "tiny"
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE},mode=0755", "tmpfs", str(where)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        missing(f"cannot mount a tmpfs on {where}: {done.stderr.strip()}")
    try:
        yield where
    finally:
        if subprocess.run(["umount", str(where)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(where)], capture_output=True)


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database (on the normal disk) with 60 devices: the YAML export is about 20 KiB."""
    base = tmp_path_factory.mktemp("diskfull")
    url = f"sqlite:///{base / 'inv.db'}"
    engine = make_engine(url)
    upgrade(engine)
    devices: list[dict[str, Any]] = [
        {"site": "xa-a", "name": f"router-{i:02d}", "role": "router", "status": "active",
         "primary_ip": f"10.20.{i}.1/32",
         "interfaces": [{"name": "ge-0/0/0", "description": f"uplink of router {i} to the district"},
                        {"name": "lo0", "ip_addresses": [{"address": f"10.20.{i}.1/32"}]}]}
        for i in range(60)]
    doc = {"sites": [{"slug": "xa-a", "name": "Xã Á", "category": "unit", "status": "active"}],
           "device_roles": [{"slug": "router", "name": "Router"}], "devices": devices}
    with Session(engine) as s:
        report = import_document(s, doc, source="disk-full.yaml")
        assert report.ok, [str(e) for e in report.errors]
    engine.dispose()
    cfg = base / "c.toml"
    cfg.write_text(f'[database]\nurl = "{url}"\n')
    return cfg


def fill(disk: Path, leave: int = LEFT_BYTES) -> None:
    """Write a filler file so that only ``leave`` bytes of ``disk`` stay free."""
    st = os.statvfs(disk)
    free = st.f_bavail * st.f_frsize
    assert free > leave, f"{disk}: only {free} bytes free"
    (disk / FILLER).write_bytes(b"\0" * (free - leave))


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "infra_monitor", "--lang", "en",
                           *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})


COMMANDS = {
    "report": lambda cfg, out: ("report", "coverage", "--config", cfg, "--format", "pdf", "--output", out),
    "export": lambda cfg, out: ("export", out, "--config", cfg),
}
OUTPUTS = {"report": "r.pdf", "export": "inv.yaml"}


@pytest.mark.parametrize("existing", [False, True], ids=["new-file", "existing-file"])
@pytest.mark.parametrize("what", ["report", "export"])
def test_full_disk_gives_one_clear_error_and_leaves_no_partial_file(
        tiny_disk: Path, config: Path, what: str, existing: bool) -> None:
    target = tiny_disk / OUTPUTS[what]
    if existing:
        target.write_bytes(OLD_CONTENT)
    fill(tiny_disk)
    done = run_cli(*COMMANDS[what](config, target))
    assert done.returncode == 1, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, done.stderr
    assert str(target) in errors[0] and "no space left" in errors[0].lower(), errors[0]
    # nothing half-written under the final name, no temporary left, the old file untouched
    assert sorted(p.name for p in tiny_disk.iterdir()) == sorted([FILLER, *([target.name] if existing else [])])
    if not existing:
        return
    assert target.read_bytes() == OLD_CONTENT
    # with the space back, the same command replaces the file with a whole new one
    (tiny_disk / FILLER).unlink()
    again = run_cli(*COMMANDS[what](config, target))
    assert again.returncode == 0, again.stderr
    written = target.read_bytes()
    assert len(written) > LEFT_BYTES and written != OLD_CONTENT
    assert written.startswith(b"%PDF") if what == "report" else b"router-59" in written
    assert sorted(p.name for p in tiny_disk.iterdir()) == [target.name]

"""Each entry module imports on its own in a fresh interpreter (a circular import shows only when a module is
the first one imported, as a test module or a tool may do)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULES = ["infra_monitor.status.store.listing", "infra_monitor.status.store.problem_listing", "web.api.events",
           "infra_monitor.status.store.sweeps", "infra_monitor.readmodel", "infra_monitor.metrics",
           "infra_monitor.i18n", "infra_monitor.scheduler", "infra_monitor.cli", "web.app", "web.api.inventory"]


@pytest.mark.parametrize("module", MODULES)
def test_module_imports_first(module: str) -> None:
    r = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=ROOT, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]

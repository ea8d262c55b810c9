"""pytest fixtures for the network lab (register with ``pytest_plugins = ["tests.lab.fixtures"]``).

``lab`` is a fresh ``Lab`` per test, ``module_lab`` one per test module; both are closed afterwards.
When the machine cannot run a lab (not root, no network namespaces, nft/snmpd/snmpget missing,
snmpsim not importable) the test is skipped with the reason, or fails when ``CI`` is set, so a
CI run can never pass by skipping the lab.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.lab.netlab import Lab, check_lab_requirements


@functools.cache
def lab_unavailable_reason() -> str | None:
    """Why the lab cannot run here (None if it can); computed once per session."""
    reason = check_lab_requirements(need_snmp=True)
    if reason:
        return reason
    probe = subprocess.run([sys.executable, "-c", "import snmpsim.commands.responder"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["unknown error"])[-1]
        return f"snmpsim cannot be imported: {last}"
    return None


def require_lab() -> None:
    """Skip (no CI) or fail (CI set) the current test when the lab cannot run here."""
    reason = lab_unavailable_reason()
    if reason:
        message = f"lab needs root and network namespaces: {reason}"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


@pytest.fixture(scope="session")
def lab_available() -> None:
    """Session-level check that a lab can be built (skip or fail as described above)."""
    require_lab()


@pytest.fixture
def lab(lab_available: None) -> Iterator[Lab]:
    """A fresh lab for one test, torn down afterwards."""
    with Lab() as instance:
        yield instance


@pytest.fixture(scope="module")
def module_lab(lab_available: None) -> Iterator[Lab]:
    """One lab shared by the tests of a module (cheaper when they only add hosts and agents)."""
    with Lab() as instance:
        yield instance

"""Tests that need the machine to themselves while the suite runs in parallel (pytest-xdist workers).

A test marked ``@pytest.mark.alone`` (with a reason) runs while no other test of the same run runs in any
worker: its real processes must answer within real deadlines (an agent that must answer within 1 s, pollers
that must finish a sweep every 1.5 s), which two cores shared with three busy workers cannot promise. Every
other test runs beside the others as usual.

Across the worker processes of one run this is a readers-writer lock made of two ``flock`` files in the run's
shared temporary directory: every test takes the *turnstile* exclusively for a moment and then the *room*
shared; an ``alone`` test keeps the turnstile (so no new test enters) and waits for the room exclusively (the
tests already in it finish). The turnstile gives the ``alone`` test its turn even while the other workers keep
starting tests. Without xdist there is nothing to wait for.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

MARK = "alone"


def lock_dir(basetemp: Path) -> Path | None:
    """The directory every worker of this run shares (the controller's basetemp), or None without xdist."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return None
    return basetemp.parent  # each worker's basetemp is <run basetemp>/popen-gwN


@contextlib.contextmanager
def _flock(path: Path, mode: int) -> Iterator[None]:
    with open(path, "a") as fh:
        fcntl.flock(fh, mode)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextlib.contextmanager
def room(directory: Path | None, *, alone: bool) -> Iterator[None]:
    """Hold the room shared (a usual test) or exclusively (an ``alone`` test) for the body."""
    if directory is None:
        yield
        return
    turnstile, shared_room = directory / "tests-turnstile.lock", directory / "tests-room.lock"
    if alone:
        with _flock(turnstile, fcntl.LOCK_EX), _flock(shared_room, fcntl.LOCK_EX):
            yield
        return
    with _flock(turnstile, fcntl.LOCK_EX):
        entered = open(shared_room, "a")  # noqa: SIM115 - held past the turnstile, closed below
        fcntl.flock(entered, fcntl.LOCK_SH)
    try:
        yield
    finally:
        fcntl.flock(entered, fcntl.LOCK_UN)
        entered.close()

"""A stop that lands while a housekeeping job runs is a stop, not an error: nothing is logged at ERROR and
no traceback reaches the log. (CI saw
``serve``'s SIGTERM arrive during the first housekeeping and print APScheduler's traceback of the cancel.)"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

import pytest

from infra_monitor import pipeline
from infra_monitor.db import make_engine, upgrade
from infra_monitor.scheduler import Poller
from tests.conftest import _settings_for


def test_a_stop_during_housekeeping_logs_no_error(tmp_path: Any, monkeypatch: pytest.MonkeyPatch,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    settings = _settings_for(url, INFRA_MONITOR_PROBES__ICMP__ENABLED="false",
                             INFRA_MONITOR_PROBES__SNMP__ENABLED="false")
    engine = make_engine(url)
    upgrade(engine)
    started = threading.Event()

    def slow_housekeeping(*_a: object) -> None:
        started.set()
        time.sleep(1.0)

    monkeypatch.setattr(pipeline, "housekeeping", slow_housekeeping)

    async def run() -> None:
        async with Poller(settings, engine) as poller:
            poller.start_schedule()
            while not started.is_set():
                await asyncio.sleep(0.02)

    caplog.set_level(logging.INFO)
    asyncio.run(run())
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
    assert not any(r.exc_info for r in caplog.records)
    assert any("event=job_cancelled job=housekeeping" in r.getMessage() for r in caplog.records)
    engine.dispose()

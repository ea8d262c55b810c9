"""``infra-monitor serve``: the web UI/API (uvicorn) with the poller and the notifier beside it.

uvicorn owns SIGINT/SIGTERM; when it returns, the poller and notifier threads are stopped and the
engine disposed, so Ctrl-C always ends the process cleanly.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Generator
from contextlib import contextmanager

import uvicorn

from infra_monitor.config import Settings

log = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    """uvicorn that treats SIGINT/SIGTERM as "shut down and return", not "die with the signal"."""

    @contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        handled = (signal.SIGINT, signal.SIGTERM)
        original = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)


def run_server(settings: Settings, *, host: str | None = None, port: int | None = None,
               with_probes: bool = True) -> None:
    from infra_monitor.db import make_engine
    from infra_monitor.scheduler import PollerThread
    from infra_monitor.status.notify.worker import NotifierThread
    from web.app import create_app

    engine = make_engine(settings.database)
    app = create_app(settings, engine)
    poller = PollerThread(settings, engine) if with_probes else None
    notifier = NotifierThread(settings, engine)
    host = host or settings.web.host
    port = port or settings.web.port
    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False, lifespan="on")
    server = _Server(config)
    if poller:
        poller.start()
    notifier.start()
    log.info("event=serve_started url=http://%s:%s probes=%s", host, port, bool(poller))
    try:
        server.run()
    finally:
        if poller:
            poller.stop()
        notifier.stop()
        engine.dispose()
        log.info("event=serve_stopped")

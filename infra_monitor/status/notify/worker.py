"""The notifier: drains the ``notification`` outbox in its own thread, with retries and exponential backoff.

Sweeps only insert outbox rows; delivery happens here, so a slow or dead receiver never delays probing.
Each row is claimed, sent and then marked in short transactions of its own (no transaction is open while a
receiver is being waited for). A failed try schedules the next one at ``initial × 2^(attempts-1)`` (capped);
after ``max_attempts`` tries the row is marked ``failed`` with the last error.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, select, update
from sqlalchemy.engine import Engine

from infra_monitor.db import short_reason, transient_reason, write_session
from infra_monitor.status.notify.base import DeliveryError, Sender
from infra_monitor.status.notify.dispatcher import backoff_delay
from infra_monitor.status.notify.email import EmailSender
from infra_monitor.status.notify.webhook import WebhookSender
from infra_monitor.status.store.models import NotificationRow

if TYPE_CHECKING:
    from infra_monitor.config import Settings

log = logging.getLogger(__name__)

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
_T: Table = NotificationRow.__table__  # type: ignore[attr-defined]


@dataclass
class DrainStats:
    sent: int = 0
    retried: int = 0
    failed: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed


def _now() -> datetime:
    return datetime.now(UTC)


class OutboxWorker:
    """Delivers due outbox rows through ``senders`` (channel name → sender)."""

    def __init__(
        self,
        engine: Engine,
        senders: Mapping[str, Sender],
        *,
        max_attempts: int = 8,
        backoff_initial_s: float = 5.0,
        backoff_max_s: float = 3600.0,
        batch: int = 50,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.engine = engine
        self.senders = dict(senders)
        self.max_attempts = max_attempts
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.batch = batch
        self.clock = clock

    def _claim(self, now: datetime) -> list[tuple[int, str, dict[str, Any], int]]:
        with write_session(self.engine) as session, session.begin():
            rows = session.execute(
                select(_T.c.id, _T.c.channel, _T.c.payload, _T.c.attempts)
                .where(_T.c.status == PENDING, _T.c.next_attempt_at <= now)
                .order_by(_T.c.next_attempt_at, _T.c.id)
                .limit(self.batch)
            ).all()
            claimed = []
            for row_id, channel, payload, attempts in rows:
                done = session.execute(
                    update(_T).where(_T.c.id == row_id, _T.c.status == PENDING).values(status=SENDING)
                )
                if done.rowcount == 1:  # type: ignore[attr-defined]
                    claimed.append((row_id, channel, payload, attempts))
        return claimed

    def _finish(self, row_id: int, **values: Any) -> None:
        with write_session(self.engine) as session, session.begin():
            session.execute(update(_T).where(_T.c.id == row_id).values(**values))

    def drain_once(self, now: datetime | None = None) -> DrainStats:
        """Try every due row once; returns what happened."""
        now = now or self.clock()
        stats = DrainStats()
        for row_id, channel, payload, attempts in self._claim(now):
            sender = self.senders.get(channel)
            attempts += 1
            try:
                if sender is None:
                    raise DeliveryError(f"no channel named {channel!r} is configured")
                sender.send(payload)
            except Exception as exc:
                error = str(exc) if isinstance(exc, DeliveryError) else f"{type(exc).__name__}: {exc}"
                if sender is None or attempts >= self.max_attempts:
                    self._finish(row_id, status=FAILED, attempts=attempts, last_error=error[:500])
                    stats.failed += 1
                    log.error("notification_failed id=%d channel=%s attempts=%d error=%r",
                              row_id, channel, attempts, error)
                else:
                    delay = backoff_delay(attempts, self.backoff_initial_s, self.backoff_max_s)
                    self._finish(row_id, status=PENDING, attempts=attempts, last_error=error[:500],
                                 next_attempt_at=now + delay)
                    stats.retried += 1
                    log.warning("notification_retry id=%d channel=%s attempts=%d delay_s=%.1f error=%r",
                                row_id, channel, attempts, delay.total_seconds(), error)
            else:
                self._finish(row_id, status=SENT, attempts=attempts, sent_at=self.clock(), last_error=None)
                stats.sent += 1
        return stats

    def recover_interrupted(self) -> int:
        """Rows left ``sending`` by a crash go back to ``pending`` (at-least-once delivery)."""
        with write_session(self.engine) as session, session.begin():
            result = session.execute(update(_T).where(_T.c.status == SENDING).values(status=PENDING))
            return int(result.rowcount)  # type: ignore[attr-defined]

    def run(self, stop: threading.Event, poll_s: float = 1.0) -> None:
        """Drain until ``stop`` is set; a full batch is followed at once by the next one. A busy or unreachable
        database is logged once and retried every ``poll_s``."""
        recovered, busy = False, False
        while not stop.is_set():
            try:
                if not recovered:
                    self.recover_interrupted()
                    recovered = True
                stats = self.drain_once()
                if busy:
                    busy = False
                    log.info("notifier_resumed")
            except Exception as exc:
                reason = transient_reason(exc)
                if reason is None:
                    log.exception("notifier_drain_failed")
                elif not busy:
                    busy = True
                    log.warning("notifier_deferred reason=%s error=%r (retried every %.0f s; logged once)", reason,
                                short_reason(exc), poll_s)
                stats = DrainStats()
            if stats.handled < self.batch:
                stop.wait(poll_s)


def senders_from_settings(settings: Settings) -> dict[str, Sender]:
    """One sender per configured channel, by name."""
    out: dict[str, Sender] = {}
    for w in settings.notifications.webhooks:
        out[w.name] = WebhookSender(name=w.name, url=w.url, secret=w.secret, timeout_s=w.timeout_s)
    for e in settings.notifications.email:
        out[e.name] = EmailSender(
            name=e.name, host=e.host, port=e.port, starttls=e.starttls, username=e.username, password=e.password,
            sender=e.sender, recipients=tuple(e.recipients), timeout_s=e.timeout_s,
        )
    return out


class NotifierThread(threading.Thread):
    """The outbox worker in a daemon thread (started by ``serve``)."""

    def __init__(self, settings: Settings, engine: Engine, *, poll_s: float = 1.0,
                 senders: Mapping[str, Sender] | None = None) -> None:
        super().__init__(name="notifier", daemon=True)
        self.poll_s = poll_s
        self._stop_event = threading.Event()
        n = settings.notifications
        self.worker = OutboxWorker(
            engine, senders if senders is not None else senders_from_settings(settings),
            max_attempts=n.max_attempts, backoff_initial_s=n.backoff_initial_s,
        )

    def run(self) -> None:
        log.info("notifier_started channels=%d", len(self.worker.senders))
        self.worker.run(self._stop_event, self.poll_s)
        log.info("notifier_stopped")

    def stop(self, timeout: float = 10.0) -> None:
        self._stop_event.set()
        if self.is_alive():
            self.join(timeout)

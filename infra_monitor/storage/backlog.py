"""Writes the database could not take yet (locked beyond the busy timeout, PostgreSQL down or restarting),
kept in memory in arrival order and written once it is free.

The poller puts every sweep here and flushes: each item is written by its own call (one transaction), oldest
first, under one lock, so sweeps reach the status engine in the order they finished and none overtakes
another. A transient failure (:func:`infra_monitor.db.transient_reason`) stops the flush and keeps the item
and everything after it; the outage is logged once, and once more when the backlog has been written. Any
other error drops that one item with an error line, so one bad sweep never blocks the ones after it.

The backlog is bounded by a count of results (``poller.backlog_max_results``): when it is over, the oldest
items are dropped whole and the count is logged.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from infra_monitor.db import short_reason, transient_reason

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class FlushReport(Generic[T, R]):
    written: list[tuple[T, R]] = field(default_factory=list)
    failed: list[tuple[T, str]] = field(default_factory=list)  # dropped for a non-transient error, and why
    reason: str | None = None  # why the flush stopped early (transient), None when the backlog is empty
    error: str = ""

    def result_of(self, item: T) -> R | None:
        return next((r for i, r in self.written if i is item), None)

    def failure_of(self, item: T) -> str | None:
        return next((why for i, why in self.failed if i is item), None)


class Backlog(Generic[T]):
    """A bounded FIFO of pending writes; ``size(item)`` is what counts against ``max_size`` (results)."""

    def __init__(self, max_size: int, size: Callable[[T], int], what: str = "results") -> None:
        self.max_size = max_size
        self._size = size
        self.what = what
        self._items: deque[T] = deque()
        self._lock = threading.Lock()        # guards _items, _in_flight and the counters
        self._flush_lock = threading.Lock()  # one flush at a time: items are written in order
        self._in_flight: T | None = None
        self._outage: tuple[str, float, int] | None = None  # reason, since (monotonic), items then
        self.dropped = 0  # items' sizes dropped because the backlog was full
        self.failed = 0   # items' sizes dropped because their write failed for good

    @property
    def pending_items(self) -> int:
        with self._lock:
            return len(self._items)

    @property
    def pending_size(self) -> int:
        with self._lock:
            return sum(self._size(i) for i in self._items)

    def __bool__(self) -> bool:
        return self.pending_items > 0

    def add(self, item: T) -> None:
        """Queue ``item`` behind the others; drop the oldest when over ``max_size`` (never the one being written)."""
        with self._lock:
            self._items.append(item)
            total = sum(self._size(i) for i in self._items)
            dropped_items = dropped = 0
            while total > self.max_size and len(self._items) > 1:
                victim = self._items[0] if self._items[0] is not self._in_flight else self._items[1]
                if victim is item:
                    break
                self._items.remove(victim)
                n = self._size(victim)
                total -= n
                dropped += n
                dropped_items += 1
            self.dropped += dropped
        if dropped_items:
            log.error("event=backlog_dropped what=%s dropped=%d items=%d pending=%d max=%d (the database has been "
                      "unavailable too long; the oldest were dropped)", self.what, dropped, dropped_items, total,
                      self.max_size)

    def flush(self, write: Callable[[T], R]) -> FlushReport[T, R]:
        """Write the pending items in order with ``write`` until done or the database refuses (transient)."""
        report: FlushReport[T, R] = FlushReport()
        with self._flush_lock:
            while True:
                with self._lock:
                    if not self._items:
                        break
                    item = self._in_flight = self._items[0]
                try:
                    result = write(item)
                except Exception as exc:
                    reason = transient_reason(exc)
                    with self._lock:
                        self._in_flight = None
                        if reason is None:
                            self._items.remove(item)
                            self.failed += self._size(item)
                    if reason is None:
                        why = f"{type(exc).__name__}: {short_reason(exc)}"
                        report.failed.append((item, why))
                        log.error("event=backlog_write_failed what=%s size=%d error=%s (dropped)", self.what,
                                  self._size(item), why)
                        log.debug("backlog write failure", exc_info=exc)
                        continue
                    report.reason, report.error = reason, short_reason(exc)
                    self._note_outage(reason, report.error)
                    break
                with self._lock:
                    self._in_flight = None
                    self._items.remove(item)
                report.written.append((item, result))
        if report.reason is None:
            self._note_recovered(len(report.written))
        return report

    def _note_outage(self, reason: str, error: str) -> None:
        with self._lock:
            pending, size = len(self._items), sum(self._size(i) for i in self._items)
            first = self._outage is None
            if first:
                self._outage = (reason, time.monotonic(), pending)
        if first:
            log.warning("event=backlog_deferred what=%s reason=%s pending_items=%d pending=%d error=%r (kept in "
                        "memory, written once the database is free; logged once)", self.what, reason, pending,
                        size, error)

    def _note_recovered(self, written: int) -> None:
        with self._lock:
            outage, self._outage = self._outage, None
        if outage is not None:
            reason, since, _ = outage
            log.info("event=backlog_written what=%s items=%d after_s=%.1f reason_was=%s", self.what, written,
                     time.monotonic() - since, reason)

"""Request-scoped dependencies shared by the API and the pages: settings, engine, DB sessions.

Handlers that only read take :func:`get_session` (a deferred transaction: it never takes SQLite's write lock,
so pages and lists stay concurrent). Handlers that write take :func:`get_write_session`: its transaction
begins ``BEGIN IMMEDIATE`` on SQLite and so waits its turn for the write lock under the busy timeout instead
of failing at once when another writer got in first. A lock held beyond that timeout answers 503 with
``Retry-After`` (see :mod:`web.errors`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import Request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from infra_monitor.config import Settings
from infra_monitor.db import write_session

COMMITTED = "db_committed"  # request.state flag: this request committed a write (never replay it)


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_engine(request: Request) -> Engine:
    return request.app.state.engine


def get_session(request: Request) -> Iterator[Session]:
    """A read session per request (deferred transaction); rolled back at the end."""
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        try:
            yield session
        except BaseException:
            session.rollback()
            raise


def get_write_session(request: Request) -> Iterator[Session]:
    """A write session per request (``BEGIN IMMEDIATE`` on SQLite); committed by the handler, rolled back
    otherwise. A commit is noted on ``request.state`` so a failure after it is never retried."""
    with write_session(request.app.state.engine, expire_on_commit=False) as session:

        def committed(_session: Any) -> None:
            setattr(request.state, COMMITTED, True)

        event.listen(session, "after_commit", committed)
        try:
            yield session
        except BaseException:
            session.rollback()
            raise

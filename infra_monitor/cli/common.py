"""Shared CLI plumbing: the ``--config`` option, settings/engine loading, exit codes, progress output.

Exit codes: 0 done, 1 the operation failed, 2 bad usage or configuration.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer
from sqlalchemy.engine import Engine

from infra_monitor.config import ConfigError, Settings, load_settings
from infra_monitor.logging import setup_logging

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="configuration file (TOML); default: $INFRA_MONITOR_CONFIG or built-in",
                 show_default=False),
]

T = TypeVar("T")


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def load(config: Path | None, *, log: bool = True) -> Settings:
    """Settings for a command, or exit 2 with the message naming the file and key."""
    try:
        settings = load_settings(config)
    except ConfigError as exc:
        fail(str(exc), EXIT_USAGE)
    if log:
        setup_logging(settings.logging.format, settings.logging.level)
    return settings


def engine_for(settings: Settings) -> Engine:
    from infra_monitor.db import import_all_models, make_engine

    import_all_models()
    return make_engine(settings.database)


def is_terminal() -> bool:
    return sys.stderr.isatty()


def progress(items: Iterable[T], total: int, label: str) -> Iterator[T]:
    """A rich progress bar on a terminal, plain periodic lines otherwise."""
    if is_terminal():
        from rich.progress import Progress

        with Progress(transient=True) as bar:
            task = bar.add_task(label, total=total)
            for item in items:
                yield item
                bar.advance(task)
        return
    step = max(1, total // 10)
    for i, item in enumerate(items, 1):
        yield item
        if i % step == 0 or i == total:
            print(f"{label}: {i}/{total}", file=sys.stderr)

"""Structured logging on stderr: one event per line, ``key=value`` or JSON (chosen in config).

Secrets are never logged: any field whose name looks secret is masked, and the SNMP/credential objects
mask themselves in ``repr``.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

SECRET_KEYS = re.compile(r"(community|password|secret|token|auth_key|priv_key)", re.IGNORECASE)
_KV_SECRET = re.compile(r"\b(\w*(?:community|password|secret|token|auth_key|priv_key)\w*)=(\S+)", re.IGNORECASE)


def mask_secrets(text: str) -> str:
    return _KV_SECRET.sub(lambda m: f"{m.group(1)}=***", text)


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"
        msg = mask_secrets(record.getMessage())
        if " " in msg and "=" not in msg.split(" ", 1)[0]:
            msg = f'msg="{msg}"'
        line = f"ts={ts} level={record.levelname.lower()} logger={record.name} {msg}"
        if record.exc_info:
            line += " exc=" + json.dumps(self.formatException(record.exc_info))
        return line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        obj = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": mask_secrets(record.getMessage()),
        }
        if record.exc_info:
            obj["exc"] = self.formatException(record.exc_info)
        return json.dumps(obj, ensure_ascii=False)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time of the record (test runners swap it)."""

    @property  # type: ignore[override]
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def setup_logging(fmt: str = "kv", level: str = "INFO", *, verbose: bool = False) -> None:
    """One handler on stderr for the root logger at ``level``. Alembic's migration steps (a dozen INFO lines
    per command) are shown only with ``verbose`` (``infra-monitor --verbose``) or at level DEBUG."""
    handler = _StderrHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else KeyValueFormatter())
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("apscheduler.executors.default", "apscheduler.scheduler", "httpx", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    quiet = not verbose and logging.getLevelName(level) > logging.DEBUG
    logging.getLogger("alembic").setLevel(logging.WARNING if quiet else logging.NOTSET)

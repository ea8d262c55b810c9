"""``database.echo = true`` without secrets in the log: bound parameters of secret columns are shown as ``***``.

SQLAlchemy's echo logs each statement, then its parameters, on the ``sqlalchemy.engine.Engine`` logger, when
``echo`` is on or when that logger is enabled at INFO by the logging configuration. :func:`install` (called by
:func:`infra_monitor.db.make_engine` for every engine) adds

* a ``before_cursor_execute`` listener that works out, from the compiled statement, which parameters are
  secret: those bound to a :class:`~inventory.secretbox.SecretString` column (SNMP community, v3 keys…)
  or whose name contains password, passwd, token, secret, hash, community, auth_key, priv_key or api_key;
* a logging filter on the engine's logger that replaces those values by ``***`` in the parameters line that
  follows (the statement itself carries placeholders only), and, when rows are logged too (the logger at
  DEBUG), the values of result columns with such a name. Other values stay visible.

The listener returns at once when the engine's logger is off (the usual case), so it costs nothing then; when
on, it runs right before SQLAlchemy logs, in the same thread.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from inventory.secretbox import SecretString

MASK = "***"
SECRET_NAME = re.compile(r"password|passwd|token|secret|hash|community|auth_key|priv_key|api_key", re.IGNORECASE)
_SUFFIX = re.compile(r"__\d+$")   # insertmanyvalues renames binds per row: community__0, community__1…


class _Pending(threading.local):
    params: Any = None
    positions: frozenset[int] = frozenset()
    names: frozenset[str] = frozenset()
    width: int = 0


_pending = _Pending()


def _secret_bind(name: str, bind: Any) -> bool:
    if bind is not None and isinstance(getattr(bind, "type", None), SecretString):
        return True
    key = getattr(bind, "key", None) or name
    return bool(SECRET_NAME.search(str(key)) or SECRET_NAME.search(name))


def _note(conn: Any, _cursor: Any, _statement: str, parameters: Any, context: Any, _many: bool) -> None:
    """Remember which of ``parameters`` are secret, for the parameters line SQLAlchemy logs next."""
    logger = getattr(conn.engine.logger, "logger", conn.engine.logger)
    if not logger.isEnabledFor(logging.INFO):
        return
    compiled = getattr(context, "compiled", None)
    binds: Mapping[str, Any] = getattr(compiled, "binds", None) or {}
    order: Sequence[str] = getattr(compiled, "positiontup", None) or ()
    first = parameters[0] if isinstance(parameters, list) and parameters else parameters
    names: set[str] = set()
    if isinstance(first, Mapping):
        names = {k for k in first if _secret_bind(k, binds.get(_SUFFIX.sub("", str(k))))}
    positions = {i for i, name in enumerate(order) if _secret_bind(name, binds.get(name))}
    _pending.params = parameters
    _pending.positions = frozenset(positions)
    _pending.names = frozenset(names)
    _pending.width = len(order)


def _mask_one(params: Any, positions: frozenset[int], names: frozenset[str], width: int) -> Any:
    if isinstance(params, Mapping):
        return {k: (MASK if k in names and v not in (None, "") else v) for k, v in params.items()}
    if isinstance(params, list | tuple) and positions and width:
        if len(params) % width:         # not rows of the compiled statement: hide everything rather than guess
            return type(params)(MASK for _ in params)
        return type(params)(MASK if i % width in positions and v not in (None, "") else v
                            for i, v in enumerate(params))
    return params


def masked(params: Any, many: bool, positions: frozenset[int], names: frozenset[str], width: int) -> Any:
    """``params`` (one set, or a list of sets when ``many``) with the secret values replaced by ``***``."""
    if many and isinstance(params, list):
        return [_mask_one(p, positions, names, width) for p in params]
    return _mask_one(params, positions, names, width)


class MaskSecrets(logging.Filter):
    """Rewrites the echoed parameters line of a statement whose secret parameters :func:`_note` found."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if record.msg == "Row %r" and isinstance(args, tuple) and len(args) == 1:
            _mask_row(args[0])
            return True
        if not isinstance(args, tuple) or len(args) != 2 or not hasattr(args[1], "params"):
            return True
        shown = args[1]
        if shown.params is None or shown.params is not _pending.params:
            return True
        if _pending.positions or _pending.names:
            shown.params = masked(shown.params, bool(getattr(shown, "ismulti", False)), _pending.positions,
                                  _pending.names, _pending.width)
        return True


def _mask_row(shown: Any) -> None:
    row = getattr(shown, "row", None)
    fields = getattr(row, "_fields", None)
    if row is None or not fields:
        return
    if any(SECRET_NAME.search(str(f)) for f in fields):
        shown.row = tuple(MASK if SECRET_NAME.search(str(f)) and v not in (None, "") else v
                          for f, v in zip(fields, row, strict=False))


def install(engine: Engine) -> None:
    """Mask secret parameters in ``engine``'s echo (idempotent)."""
    if not event.contains(engine, "before_cursor_execute", _note):
        event.listen(engine, "before_cursor_execute", _note)
    logger = getattr(engine.logger, "logger", engine.logger)
    if isinstance(logger, logging.Logger) and not any(isinstance(f, MaskSecrets) for f in logger.filters):
        logger.addFilter(MaskSecrets())

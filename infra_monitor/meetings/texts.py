"""How a room's reasons and changes read, in the catalogue's language (``meetings.po``): one place for the
pages, the CLI and the notifications. Decimal figures (a link's %, its Mbit/s) are written in the language's
number format (``95,3`` / ``95.3``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from infra_monitor.readmodel.fmt import number

Translate = Callable[..., str]


def reason_text(t: Translate, reason: Mapping[str, Any], lang: str = "en") -> str:
    """``mt_reason_<code>`` filled with the reason's parameters."""
    params = {k: ("" if v is None else number(v, lang, 1) if isinstance(v, float) else v)
              for k, v in reason.items() if k != "code"}
    return t(f"mt_reason_{reason.get('code', '')}", **params)


def reasons_text(t: Translate, reasons: Iterable[Mapping[str, Any]], lang: str = "en") -> str:
    return "; ".join(reason_text(t, r, lang) for r in reasons)


def change_text(t: Translate, change: str) -> str:
    return t(f"mt_change_{change}") if change else ""

"""What every delivery channel implements: ``send(payload)``, raising :class:`DeliveryError` on failure."""

from __future__ import annotations

from typing import Any, Protocol


class DeliveryError(Exception):
    """A message could not be delivered; the text is safe to store and log (no secrets)."""


class Sender(Protocol):
    @property
    def name(self) -> str: ...

    def send(self, payload: dict[str, Any]) -> None:
        """Deliver ``payload`` or raise (any exception counts as a failed attempt)."""
        ...

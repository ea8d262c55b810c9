"""Webhook channel: the payload as a JSON POST, signed with HMAC-SHA256 of the exact body.

Receivers verify ``X-Infra-Monitor-Signature: sha256=<hex>`` by computing
``hmac.new(secret, body, sha256).hexdigest()`` over the raw request body (see :func:`verify`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass, field
from typing import Any

import httpx

from infra_monitor.status.notify.base import DeliveryError

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Infra-Monitor-Signature"
USER_AGENT = "infra-monitor-webhook/1"


def encode(payload: dict[str, Any]) -> bytes:
    """Canonical body: UTF-8 JSON (Vietnamese kept as is), sorted keys."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sign(body: bytes, secret: str) -> str:
    """Header value for ``body``: ``sha256=<hex HMAC-SHA256 with secret>``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(body: bytes, secret: str, header: str | None) -> bool:
    """Receiver side check of a signature header (constant-time comparison)."""
    return header is not None and hmac.compare_digest(sign(body, secret), header)


@dataclass(frozen=True)
class WebhookSender:
    name: str
    url: str = field(repr=False)
    secret: str = field(default="", repr=False)
    timeout_s: float = 5.0

    def send(self, payload: dict[str, Any]) -> None:
        body = encode(payload)
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT}
        if self.secret:
            headers[SIGNATURE_HEADER] = sign(body, self.secret)
        try:
            response = httpx.post(self.url, content=body, headers=headers, timeout=self.timeout_s)
        except httpx.TimeoutException:
            raise DeliveryError(f"timeout after {self.timeout_s}s") from None
        except httpx.HTTPError as exc:
            raise DeliveryError(f"transport error: {type(exc).__name__}") from None
        if not 200 <= response.status_code < 300:
            raise DeliveryError(f"HTTP {response.status_code}")
        log.info("notification_sent channel=%s kind=webhook bytes=%d", self.name, len(body))

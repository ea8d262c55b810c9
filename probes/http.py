"""HTTP(S) prober: status code, latency to response headers, and TLS certificate expiry in days.

Every probe opens a fresh connection (the context's clients keep no idle connections), so latency
includes connect and TLS handshake, like blackbox_exporter. The certificate is read from the
connection's TLS object while the response is open (``getpeercert(binary_form=True)`` works even
when verification is off). success = a final status in 200..399.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Any

import httpx
from cryptography import x509

from probes.base import ProbeContext, ProbeResult, ProbeSettings, Target

log = logging.getLogger(__name__)


def _tls_expiry_days(response: httpx.Response) -> float | None:
    stream: Any = response.extensions.get("network_stream")
    ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
    if ssl_object is None:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    if not der:
        return None
    not_after = x509.load_der_x509_certificate(der).not_valid_after_utc
    return round((not_after - datetime.now(UTC)).total_seconds() / 86400, 3)


async def probe(target: Target, settings: ProbeSettings, deadline: float, ctx: ProbeContext) -> ProbeResult:
    started_at = datetime.now(UTC)
    t0 = time.monotonic()
    measurements: dict[str, float] = {}
    info: dict[str, str] = {}
    error: str | None = None
    success = False
    if not target.url:
        error = "target has no URL"
    else:
        try:
            client = await ctx.http_client(settings.http_verify_tls)
            async with asyncio.timeout_at(min(deadline, t0 + settings.timeout_s)):
                async with client.stream(
                    "GET", target.url, follow_redirects=settings.http_follow_redirects,
                    timeout=settings.timeout_s,
                ) as response:
                    measurements["latency_ms"] = round((time.monotonic() - t0) * 1000, 3)
                    measurements["status_code"] = float(response.status_code)
                    expiry = _tls_expiry_days(response)
                    if expiry is not None:
                        measurements["tls_expiry_days"] = expiry
                    if response.http_version:
                        info["http_version"] = response.http_version
            success = 200 <= response.status_code < 400
            if not success:
                error = f"HTTP status {response.status_code}"
        except TimeoutError:
            error = f"no response within {settings.timeout_s:g}s"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # a prober never raises
            log.exception("event=http_probe_failed target=%s", target.key)
            error = f"internal error: {exc!r}"
    return ProbeResult(
        kind="http",
        target=target,
        success=success,
        started_at=started_at,
        duration_s=time.monotonic() - t0,
        measurements=measurements,
        info=info,
        error=error,
    )

"""TCP connect prober: time to a completed three-way handshake on ``target.port`` (connect_ms)."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from datetime import UTC, datetime

from probes.base import ProbeContext, ProbeResult, ProbeSettings, Target

log = logging.getLogger(__name__)


async def probe(target: Target, settings: ProbeSettings, deadline: float, ctx: ProbeContext) -> ProbeResult:
    started_at = datetime.now(UTC)
    t0 = time.monotonic()
    measurements: dict[str, float] = {}
    error: str | None = None
    if target.port is None:
        error = "target has no TCP port"
    else:
        writer: asyncio.StreamWriter | None = None
        try:
            async with asyncio.timeout_at(min(deadline, t0 + settings.timeout_s)):
                _reader, writer = await asyncio.open_connection(target.address, target.port)
            measurements["connect_ms"] = round((time.monotonic() - t0) * 1000, 3)
        except TimeoutError:
            error = f"connect to port {target.port} timed out"
        except OSError as exc:
            reason = os.strerror(exc.errno) if exc.errno else str(exc)  # asyncio rewrites strerror
            error = f"connect to port {target.port} failed: {reason}"
        except Exception as exc:  # a prober never raises
            log.exception("event=tcp_probe_failed target=%s", target.key)
            error = f"internal error: {exc!r}"
        finally:
            if writer is not None:
                writer.close()
    return ProbeResult(
        kind="tcp",
        target=target,
        success=error is None,
        started_at=started_at,
        duration_s=time.monotonic() - t0,
        measurements=measurements,
        error=error,
    )

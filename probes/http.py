"""HTTP(S) prober: status code, latency to response headers, and TLS certificate expiry in days.

Every probe opens a fresh connection (the context's clients keep no idle connections), so latency
includes connect and TLS handshake, like blackbox_exporter. The certificate is read from the
connection's TLS object while the response is open (``getpeercert(binary_form=True)`` works even
when verification is off). success = a final status in ``expected_status`` (default 200..399) and, when
``expected_content`` is set, that substring in the first ``max_body_bytes`` of the body. ``[probes.http]``
sets ``verify_tls``, ``follow_redirects`` and ``ca_file`` (an internal CA bundle).
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography import x509
from pydantic import Field

from probes.base import ProbeContext, ProbeResult, Target
from probes.plugin import InfoSpec, InventoryRecords, KindSettings, MeasurementSpec, ProbeKind, Problem, TargetBuild
from probes.tcp import list_field

log = logging.getLogger(__name__)


class HttpSettings(KindSettings):
    """``[probes.http]``."""

    timeout_s: float = Field(5.0, gt=0, le=600)
    concurrency: int = Field(64, ge=1, le=10_000)
    verify_tls: bool = Field(True, description="refuse a certificate the system (or ca_file) does not trust")
    follow_redirects: bool = True
    ca_file: str = Field("", description="PEM bundle of an internal CA added to the trusted ones; '' = none")
    max_body_bytes: int = Field(1_000_000, ge=1024, le=100_000_000,
                                description="body read when a service expects content")


def url_of(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return None
    return value.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def build_targets(inv: InventoryRecords, settings: HttpSettings) -> TargetBuild:
    """``http:<url>`` per URL of a device's ``http_urls`` custom field (availability checks, as before services)
    and ``service:<id>:http`` per http service (its URL, else ``http://<device address>/``)."""
    out = TargetBuild()
    for d in inv.devices:
        if not d.address:
            continue
        urls, why = list_field(d.custom_fields, "http_urls", url_of, "http(s) URLs")
        for url in urls:
            out.targets.append(Target(key=f"http:{d.id}:{url}", check=f"http:{url}", address=d.address,
                                      device_id=d.id, device=d.name, site=d.site, params={"url": url}))
        if why:
            out.problems.append(Problem(d.id, "http", why))
    for svc in inv.services:
        device = inv.device(svc.device_id)
        if svc.kind != "http" or device is None:
            continue
        check = f"service:{svc.id}:http"
        host = f"[{svc.address}]" if ":" in svc.address else svc.address
        url = url_of(svc.url) if svc.url else f"http://{host}/"
        if url is None:
            out.problems.append(Problem(svc.device_id, check, f"service {svc.name!r}: not an http(s) URL: {svc.url!r}"))
            continue
        out.targets.append(Target(
            key=check, check=check, address=svc.address, device_id=svc.device_id, device=device.name,
            site=device.site, availability=False, service_id=svc.id,
            params={"url": url, "expected_status": tuple(svc.expected_status),
                    "expected_content": svc.expected_content,
                    "tls_expiry_warning_days": svc.tls_expiry_warning_days}))
    return out


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


def _accepted(code: int, expected: tuple[int, ...]) -> bool:
    return code in expected if expected else 200 <= code < 400


async def probe(target: Target, settings: HttpSettings, deadline: float, ctx: ProbeContext) -> ProbeResult:
    """Params: ``url``; optional ``expected_status`` (codes), ``expected_content`` (substring),
    ``tls_expiry_warning_days`` (a certificate expiring sooner is reported in ``info["warning"]``)."""
    started_at = datetime.now(UTC)
    t0 = time.monotonic()
    measurements: dict[str, float] = {}
    info: dict[str, str] = {}
    error: str | None = None
    success = False
    url = target.param("url")
    expected: tuple[int, ...] = tuple(target.param("expected_status", ()) or ())
    content: str = target.param("expected_content", "") or ""
    if not url:
        error = "target has no URL"
    else:
        try:
            client = await ctx.http_client(settings.verify_tls, settings.ca_file)
            async with asyncio.timeout_at(min(deadline, t0 + settings.timeout_s)):
                async with client.stream(
                    "GET", url, follow_redirects=settings.follow_redirects, timeout=settings.timeout_s,
                ) as response:
                    measurements["latency_ms"] = round((time.monotonic() - t0) * 1000, 3)
                    measurements["status_code"] = float(response.status_code)
                    expiry = _tls_expiry_days(response)
                    if expiry is not None:
                        measurements["tls_expiry_days"] = expiry
                    if response.http_version:
                        info["http_version"] = response.http_version
                    body = b""
                    if content:
                        async for chunk in response.aiter_bytes():
                            body += chunk
                            if len(body) >= settings.max_body_bytes or content.encode() in body:
                                break
            success = _accepted(response.status_code, expected)
            if not success:
                error = f"HTTP status {response.status_code}"
            elif content and content.encode() not in body:
                success = False
                error = f"expected content {content[:60]!r} not in the response"
            warn_days = target.param("tls_expiry_warning_days")
            if success and expiry is not None and warn_days is not None and expiry < warn_days:
                info["warning"] = f"TLS certificate expires in {expiry:.0f} days"
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


KIND = ProbeKind(
    name="http", settings=HttpSettings, build_targets=build_targets, probe=probe, label_vi="Web (HTTP)",
    label_en="Web (HTTP)",
    measurements=(
        MeasurementSpec("latency_ms", "ms", "Thời gian phản hồi", "Response time", rolled_up=True, role="latency"),
        MeasurementSpec("status_code", "", "Mã trạng thái HTTP", "HTTP status code"),
        MeasurementSpec("tls_expiry_days", "d", "Chứng chỉ TLS còn hạn (ngày)", "TLS certificate expires in (days)"),
    ),
    info=(InfoSpec("http_version", "Phiên bản HTTP", "HTTP version"),),
)

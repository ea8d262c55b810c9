"""Jinja2 rendering of the operator pages: language choice, formatting helpers, the shared page context.

Autoescaping is on for every template, so names from the inventory render as text whatever they contain.
The language comes from ``?lang=`` (remembered in the ``lang`` cookie by :class:`RememberLanguage`), then
the cookie, then ``general.language``; dates are shown in the configured zone labelled ``(GMT+7)``.

Live pages (``/static/live.js``): a page marks the parts that change with ``data-live-region`` and an id; the
script asks for the same URL with the header ``X-Live-Regions: 1`` and :func:`respond` answers with only
those elements (:func:`live_regions`: a linear scan of the rendered page, no HTML parser, no extra query),
so a refresh costs the page's own queries and sends a fraction of its bytes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infra_monitor.config import Settings
from infra_monitor.i18n import COOKIE, LANGUAGES, pick_language, translator
from infra_monitor.readmodel import fmt
from infra_monitor.readmodel.service import ReadModel
from web import probe_errors

TEMPLATE_DIR = Path(__file__).with_name("templates")
COOKIE_MAX_AGE_S = 365 * 86400
LIVE_HEADER = "x-live-regions"
MAX_REFRESH_S = 15.0
MIN_REFRESH_S = 1.0
_REGION_START = re.compile(r"<([a-zA-Z][a-zA-Z0-9]*)\b[^>]*\sdata-live-region\b[^>]*>")

env = Environment(loader=FileSystemLoader(TEMPLATE_DIR), autoescape=True, undefined=StrictUndefined,
                  trim_blocks=True, lstrip_blocks=True)


@dataclass(frozen=True)
class Fmt:
    """Formatting bound to one page's language, zone and clock."""

    lang: str
    tz: tzinfo
    now: datetime

    def dt(self, value: datetime | None, seconds: bool = False) -> str:
        return fmt.local_dt(value, self.tz, seconds=seconds)

    def time(self, value: datetime | None) -> str:
        return fmt.local_time(value, self.tz)

    def gmt(self) -> str:
        return fmt.gmt_label(self.tz, self.now)

    def pct(self, value: float | None, decimals: int = 2) -> str:
        return fmt.percent(value, self.lang, decimals)

    def num(self, value: float | None, decimals: int = 0) -> str:
        return fmt.number(value, self.lang, decimals)

    def bps(self, value: float | None) -> str:
        return fmt.bitrate(value, self.lang)

    def kbps(self, value: int | None) -> str:
        return fmt.bitrate(value * 1000 if value is not None else None, self.lang)

    def span(self, seconds: float | None) -> str:
        """A length of time: ``3 giờ 12 phút`` / ``3 h 12 min``."""
        return fmt.duration(seconds, self.lang)

    def ms(self, value: float | None) -> str:
        return "—" if value is None else f"{fmt.number(value, self.lang, 1)} ms"

    def since(self, value: datetime | None) -> str:
        """How long ago ``value`` was: ``2 giờ 5 phút``."""
        return "" if value is None else fmt.duration(self.now - value, self.lang)

    def secs(self, seconds: float | None) -> str:
        return fmt.duration(timedelta(seconds=seconds) if seconds is not None else None, self.lang)


@dataclass(frozen=True)
class Page:
    """What every template receives besides its own data."""

    request: Request
    lang: str
    settings: Settings
    fmt: Fmt
    t: Callable[..., str]

    def url(self, path: str, **params: Any) -> str:
        """``path`` with the non-empty ``params`` as a query string."""
        query = {k: v for k, v in params.items() if v not in (None, "")}
        return f"{path}?{urlencode(query)}" if query else path

    @property
    def principal(self) -> Any:
        """The signed-in user (or token) of this request, None on public pages."""
        return getattr(self.request.state, "principal", None)

    def other_lang_url(self) -> str:
        params = dict(self.request.query_params)
        params["lang"] = "en" if self.lang == "vi" else "vi"
        return f"{self.request.url.path}?{urlencode(params)}"


def readmodel(request: Request) -> ReadModel:
    return request.app.state.readmodel  # type: ignore[no-any-return]


def page(request: Request) -> Page:
    """FastAPI dependency: the page context for this request."""
    settings: Settings = request.app.state.settings
    lang = pick_language(request.query_params.get("lang"), request.cookies.get(COOKIE), settings.general.language)
    rm = readmodel(request)
    return Page(request=request, lang=lang, settings=settings, fmt=Fmt(lang, rm.tz, rm.now()), t=translator(lang))


def live_interval(settings: Settings) -> int:
    """Seconds between live refreshes of a page: a quarter of the shortest enabled probe interval, 1–15 s,
    so a change shows up well within one probe interval."""
    intervals = [cfg.interval_s for _k, cfg in settings.probes if cfg.enabled]
    quarter = min(intervals) / 4 if intervals else MAX_REFRESH_S
    return int(max(MIN_REFRESH_S, min(MAX_REFRESH_S, quarter)))


def render_text(p: Page, template: str, **context: Any) -> str:
    def perr(text: str | None) -> str:
        return probe_errors.explain(p.t, text)

    context.setdefault("refresh_s", live_interval(p.settings))
    return env.get_template(template).render(page=p, t=p.t, f=p.fmt, lang=p.lang, perr=perr, **context)


def wants_regions(request: Request) -> bool:
    """The live script asks for the page's regions only."""
    return request.headers.get(LIVE_HEADER) == "1"


def live_regions(html: str) -> str:
    """Every element carrying ``data-live-region`` in ``html`` (outermost ones, in page order), one after the
    other. Templates are well formed and every inventory text is escaped, so counting the region's own tag
    name opening and closing finds its end."""
    out: list[str] = []
    pos = 0
    while (m := _REGION_START.search(html, pos)) is not None:
        tag = m.group(1).lower()
        if html[m.end() - 2:m.end()] == "/>":
            out.append(m.group(0))
            pos = m.end()
            continue
        pair = re.compile(rf"<(/?){tag}\b[^>]*>", re.IGNORECASE)
        depth, end = 1, len(html)
        for t in pair.finditer(html, m.end()):
            depth += -1 if t.group(1) else 1
            if depth == 0:
                end = t.end()
                break
        out.append(html[m.start():end])
        pos = end
    return "\n".join(out)


def respond(p: Page, html: str, status_code: int = 200) -> HTMLResponse:
    """The rendered page, or only its live regions when the live script asks for them."""
    if wants_regions(p.request):
        response = HTMLResponse(live_regions(html), status_code=status_code)
    else:
        response = HTMLResponse(html, status_code=status_code)
    response.headers["Vary"] = "X-Live-Regions, Cookie"
    response.headers["Cache-Control"] = "no-store"
    return response


def render(p: Page, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return respond(p, render_text(p, template, **context), status_code)


class RememberLanguage:
    """ASGI middleware: a page asked for with ``?lang=xx`` sets the ``lang`` cookie for the next pages
    (plain ASGI, so requests without ``?lang=`` pass through at no cost)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lang = None
        # Only pages remember the language: an API call (a report downloaded in English) must not switch the UI.
        if scope["type"] == "http" and not str(scope.get("path", "")).startswith("/api/"):
            lang = (parse_qs(scope.get("query_string", b"").decode("latin-1")).get("lang") or [None])[-1]
        if lang not in LANGUAGES:
            await self.app(scope, receive, send)
            return
        cookie = f"{COOKIE}={lang}; Max-Age={COOKIE_MAX_AGE_S}; Path=/; SameSite=lax"
        current = cookie_parser(Headers(scope=scope).get("cookie", "")).get(COOKIE)

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and current != lang:
                MutableHeaders(scope=message).append("set-cookie", cookie)
            await send(message)

        await self.app(scope, receive, send_with_cookie)

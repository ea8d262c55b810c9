"""Limit/offset pagination (NetBox's): ``{count, next, previous, results}`` with absolute page URLs.

``limit`` defaults to 50; 0 or anything above 1000 means 1000 (NetBox's MAX_PAGE_SIZE behaviour).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.datastructures import URL

from inventory.api.filters import FilterError

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int


def _non_negative(name: str, raw: str | None, default: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise FilterError({name: [f"'{raw}' is not an integer."]}) from None
    if value < 0:
        raise FilterError({name: ["Must be zero or positive."]})
    return value


def parse_page(limit: str | None, offset: str | None) -> Page:
    size = _non_negative("limit", limit, DEFAULT_LIMIT)
    if size == 0 or size > MAX_LIMIT:
        size = MAX_LIMIT
    return Page(limit=size, offset=_non_negative("offset", offset, 0))


def page_body(url: URL, page: Page, count: int, results: list[dict[str, Any]]) -> dict[str, Any]:
    """The list envelope; ``next``/``previous`` keep every other query parameter of ``url``."""
    nxt = None
    if page.offset + page.limit < count:
        nxt = str(url.include_query_params(limit=page.limit, offset=page.offset + page.limit))
    prev = None
    if page.offset > 0:
        prev_offset = max(page.offset - page.limit, 0)
        prev_url = url.include_query_params(limit=page.limit)
        prev = str(prev_url.remove_query_params("offset") if prev_offset == 0 else
                   prev_url.include_query_params(offset=prev_offset))
    return {"count": count, "next": nxt, "previous": prev, "results": results}

"""Limit/offset pagination (NetBox's): ``{count, next, previous, results}`` with absolute page URLs.

``limit`` defaults to 50; 0 or anything above 1000 means 1000 (NetBox's MAX_PAGE_SIZE behaviour). ``offset``
is at most 2^63 - 1 (SQL OFFSET is a BIGINT). The handlers parse both themselves, so a bad value is a 400
naming it; :data:`LIMIT_SCHEMA` and :data:`OFFSET_SCHEMA` tell the OpenAPI spec they are integers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.datastructures import URL

from web.api.inventory.filters import FilterError, declared

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000
MAX_OFFSET = 2**63 - 1
LIMIT_SCHEMA = declared({"type": "integer", "minimum": 0})
OFFSET_SCHEMA = declared({"type": "integer", "minimum": 0, "maximum": MAX_OFFSET})


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int


def _non_negative(name: str, raw: str | None, default: int) -> int:
    if raw is None:
        return default
    digits = raw.removeprefix("-")
    try:  # ASCII digits only: int() would also take "", " 5", "1_000" or "٣", which the spec does not
        if not (digits.isascii() and digits.isdigit()):
            raise ValueError(raw)
        value = int(raw)
    except ValueError:  # also more digits than int() reads
        raise FilterError({name: [f"'{raw}' is not an integer."]}) from None
    if value < 0:
        raise FilterError({name: ["Must be zero or positive."]})
    return value


def parse_page(limit: str | None, offset: str | None) -> Page:
    size = _non_negative("limit", limit, DEFAULT_LIMIT)
    if size == 0 or size > MAX_LIMIT:
        size = MAX_LIMIT
    start = _non_negative("offset", offset, 0)
    if start > MAX_OFFSET:
        raise FilterError({"offset": [f"Must be at most {MAX_OFFSET}."]})
    return Page(limit=size, offset=start)


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

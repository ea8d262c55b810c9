"""Accent-insensitive search: ``?q=lang giang`` finds "Lạng Giang" and "Lang-Giang".

Region, site, device, tenant, circuit and service rows carry a ``search_text`` column: their searchable fields
folded to lowercase ASCII (Vietnamese diacritics stripped, đ → d) and joined by spaces. A session
``before_flush`` hook keeps it current on every write, whatever the path (API, import, CLI), so a search is
one indexed-table ``LIKE`` per word and works the same on SQLite and PostgreSQL without extensions.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from sqlalchemy import ColumnElement, and_, event, true
from sqlalchemy.orm import Session

from inventory.models import Circuit, Device, InventoryModel, Region, Service, Site, Tenant

SEARCH_FIELDS: dict[type[InventoryModel], tuple[str, ...]] = {
    Region: ("code", "name", "slug", "unit_type", "description"),
    Site: ("slug", "name", "address", "description"),
    Device: ("name", "serial", "asset_tag", "description"),
    Tenant: ("slug", "name", "description"),
    Circuit: ("cid", "description"),
    Service: ("name", "http_url", "dns_name", "description"),
}
_NON_WORD = re.compile(r"[^0-9a-z]+")
_MAX_LEN = 1000


def fold(text: str) -> str:
    """Lowercase ASCII words of ``text``: ``"Lạng-Giang, Đồng"`` → ``"lang giang dong"``."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NON_WORD.sub(" ", ascii_only.lower()).strip()


def search_text_of(obj: InventoryModel) -> str:
    """The ``search_text`` value ``obj`` should have."""
    parts = (getattr(obj, f, None) for f in SEARCH_FIELDS[type(obj)])
    return fold(" ".join(str(p) for p in parts if p))[:_MAX_LEN]


def q_filter(model: type[InventoryModel], q: str) -> ColumnElement[bool]:
    """A WHERE condition matching rows of ``model`` whose searchable text contains every word of ``q``."""
    if model not in SEARCH_FIELDS:
        raise ValueError(f"{model.__name__} has no search_text column; searchable: "
                         f"{', '.join(m.__name__ for m in SEARCH_FIELDS)}")
    column: Any = model.search_text  # type: ignore[attr-defined]
    words = fold(q).split()
    if not words:
        return true()
    return and_(*[column.contains(w, autoescape=True) for w in words])


@event.listens_for(Session, "before_flush")
def _refresh_search_text(session: Session, _ctx: Any, _instances: Any) -> None:
    for obj in (*session.new, *session.dirty):
        if type(obj) in SEARCH_FIELDS:
            text = search_text_of(obj)
            if obj.search_text != text:
                obj.search_text = text

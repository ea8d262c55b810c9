"""``?tag=`` filters by the tags of an object (JSON list), on SQLite and PostgreSQL alike."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from inventory.changelog import change_context
from inventory.models import Region, Site, Tag


def _sites(session: Session) -> None:
    with change_context("test-setup"):
        session.add_all([Tag(slug="tslcd", name="TSLCD"), Tag(slug="vung-sau", name="Vùng sâu"),
                         Tag(slug="a-b", name="a-b")])
        region = Region(code="24", name="Bắc Giang", slug="bac-giang", level="province")
        session.add(region)
        session.flush()
        session.add_all([
            Site(slug="s-both", name="Both", category="unit", region_id=region.id, tags=["tslcd", "vung-sau"]),
            Site(slug="s-one", name="One", category="unit", region_id=region.id, tags=["tslcd"]),
            Site(slug="s-none", name="None", category="unit", region_id=region.id, tags=[]),
            Site(slug="s-like", name="Like", category="unit", region_id=region.id, tags=["a-b"]),
        ])
        session.commit()


def _slugs(client: TestClient, params: list[tuple[str, str]]) -> list[str]:
    resp = client.get("/api/dcim/sites/", params=params)
    assert resp.status_code == 200, resp.text
    return sorted(r["slug"] for r in resp.json()["results"])


def test_tag_filter_matches_whole_tags_and_combines_with_and(client: TestClient, session: Session) -> None:
    _sites(session)
    assert _slugs(client, [("tag", "tslcd")]) == ["s-both", "s-one"]
    assert _slugs(client, [("tag", "tslcd"), ("tag", "vung-sau")]) == ["s-both"]
    assert _slugs(client, [("tag", "vung")]) == []  # a whole tag, not a substring
    assert _slugs(client, [("tag__n", "tslcd")]) == ["s-like", "s-none"]
    assert _slugs(client, [("tag", "a-b")]) == ["s-like"]


def test_tag_filter_is_listed_among_accepted_filters(client: TestClient, session: Session) -> None:
    resp = client.get("/api/dcim/sites/", params={"tagz": "x"})
    assert resp.status_code == 400 and "tag" in resp.json()["tagz"][0]

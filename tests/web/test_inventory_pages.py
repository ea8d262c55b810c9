"""Inventory lists with search, filters and pages; the videoconference endpoint list; the global search page
and ``/api/search/`` — through the real app on a built province."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import Engine

from inventory.models import Device
from tests.web.builders import HOSTILE, Province

ROW_LINK = re.compile(r'<tr><td data-label="[^"]*"><a href="(/[^"]+)">([^<]*)</a>')


@pytest.fixture
def province(engine: Engine) -> Province:
    """Thirty communes: 63 devices, 30 videoconference endpoints, 32 circuits."""
    return Province.build(engine, communes=30, names=[HOSTILE])


def _rows(html: str) -> list[tuple[str, str]]:
    return ROW_LINK.findall(html)


def test_device_list_pages_show_every_device_once(client: TestClient, engine: Engine) -> None:
    with engine.connect() as conn:
        everyone = {f"/devices/{i}" for i in conn.execute(select(Device.id)).scalars()}  # type: ignore[call-overload]
    seen: list[str] = []
    first = client.get("/inventory/devices?per_page=25&lang=en")
    assert first.status_code == 200
    assert "Rows 1–25 of 63" in first.text
    assert len(_rows(first.text)) == 25
    for n in (1, 2, 3):
        seen += [href for href, _ in _rows(client.get(f"/inventory/devices?per_page=25&page={n}").text)]
    assert len(seen) == len(set(seen)) == 63
    assert set(seen) == everyone
    last = client.get("/inventory/devices?per_page=25&page=3&lang=en").text
    assert "Rows 51–63 of 63" in last
    assert 'href="/inventory/devices?per_page=25&amp;page=2"' in last  # "previous" keeps the page size


def test_a_page_past_the_end_shows_the_last_page(client: TestClient) -> None:
    r = client.get("/inventory/devices?per_page=50&page=99&lang=en")
    assert "Rows 51–63 of 63" in r.text


def test_search_is_accent_insensitive_and_finds_addresses(client: TestClient, engine: Engine) -> None:
    r = client.get("/inventory/sites", params={"q": "tan soi 003", "lang": "en"})
    assert [label for _h, label in _rows(r.text)] == ["UBND xã Tân Sỏi 003"]
    r = client.get("/inventory/sites", params={"q": "TÂN SỎI 00", "lang": "en"})
    assert "of 9" in r.text  # 001…009 (000 is the hostile name)
    with engine.connect() as conn:
        host = conn.execute(select(Device.name).where(Device.name == "xa-004-rt")).scalar_one()  # type: ignore[call-overload]
    assert host
    r = client.get("/inventory/devices", params={"q": "127.60.", "lang": "en"})
    assert "of 63" in r.text
    r = client.get("/inventory/devices", params={"q": "xa-004", "lang": "en"})
    assert sorted(label for _h, label in _rows(r.text)) == ["xa-004-rt", "xa-004-vc"]


def test_filters_combine_and_stay_in_the_links(client: TestClient, province: Province) -> None:
    province.cut_district(0)
    down = _rows(client.get("/inventory/devices?state=down").text)
    assert [label for _h, label in down] == ["d213-rt"]
    behind = _rows(client.get("/inventory/devices?state=unreachable&district=213&per_page=100").text)
    assert len(behind) == 30  # 15 communes × (router + codec)
    assert all(re.match(r"xa-\d{3}-(rt|vc)$", label) for _h, label in behind)
    none_there = client.get("/inventory/devices?state=unreachable&district=215&lang=en").text
    assert "Nothing matches these filters." in none_there
    codecs = client.get("/inventory/devices?role=vc&state=unreachable&per_page=25&lang=en").text
    assert "of 15" in codecs
    assert 'name="role" value="vc"' in codecs  # the form keeps a filter it has no field for
    page_two = client.get("/inventory/devices?state=unreachable&per_page=25&page=1").text
    assert "state=unreachable" in page_two and "page=2" in page_two


def test_unknown_filter_values_filter_nothing_and_hostile_text_is_inert(client: TestClient) -> None:
    assert "of 63" in client.get("/inventory/devices?status=bogus&state=nope&lang=en").text
    for q in ("%", "_", "' OR 1=1 --", HOSTILE, "a" * 200):
        r = client.get("/inventory/devices", params={"q": q})
        assert r.status_code == 200
        assert "<script>alert" not in r.text
    assert client.get("/inventory/devices", params={"q": "a" * 201}).status_code == 422
    assert client.get("/inventory/devices?page=0").status_code == 422
    assert client.get("/inventory/nothing").status_code == 404


def test_videoconference_endpoint_list(client: TestClient, province: Province) -> None:
    r = client.get("/inventory/vc?lang=en&per_page=100")
    assert r.status_code == 200
    assert "Rows 1–30 of 30" in r.text
    assert "sip:xa3@mcu" in r.text and "Phòng họp" in r.text
    province.cut_district(1)
    r = client.get("/inventory/vc?state=unreachable&lang=en&per_page=100")
    assert "of 15" in r.text
    assert all(label.endswith("-vc") for _h, label in _rows(r.text))
    r = client.get("/inventory/vc", params={"q": "sip:xa7@", "lang": "en"})
    assert [label for _h, label in _rows(r.text)] == ["xa-007-vc"]
    assert "of 15" in client.get("/inventory/vc?district=215&lang=en").text


def test_circuit_list_searches_the_provider_and_filters_by_district(client: TestClient) -> None:
    assert "of 32" in client.get("/inventory/circuits?q=vnpt&lang=en").text
    r = client.get("/inventory/circuits?district=213&lang=en&per_page=100").text
    assert "of 16" in r  # the district's own link and its 15 communes
    assert "TSLCD-07001" not in r and "TSLCD-07000" in r


def test_global_search_groups_matches_by_kind(client: TestClient) -> None:
    r = client.get("/search", params={"q": "xa 005", "lang": "en"})
    assert r.status_code == 200
    for group in ("search-sites", "search-devices", "search-vc", "search-circuits"):
        assert f'id="{group}"' in r.text
    assert 'href="/devices/' in r.text and 'href="/sites/xa-005"' in r.text
    api = client.get("/api/search/", params={"q": "yen the"}).json()
    kinds = {g["kind"]: g for g in api["results"]}
    assert kinds["regions"]["hits"][0]["href"] == "/regions/215"
    assert kinds["sites"]["count"] == 1
    many = client.get("/api/search/", params={"q": "xa", "limit": 5}).json()
    devices = next(g for g in many["results"] if g["kind"] == "devices")
    assert devices["count"] == 60 and len(devices["hits"]) == 5
    assert devices["more_href"] == "/inventory/devices?q=xa"
    page = client.get("/search", params={"q": "xa", "lang": "en"}).text
    assert "See all 60 results" in page
    assert "Nothing found for" in client.get("/search", params={"q": "zzzz", "lang": "en"}).text


def test_search_needs_a_user(client: TestClient) -> None:
    anonymous = TestClient(client.app)
    assert anonymous.get("/api/search/?q=xa").status_code == 401
    assert anonymous.get("/search?q=xa", follow_redirects=False).status_code in (302, 303, 307)


def test_lists_sort_by_a_column_and_the_header_link_reverses_it(client: TestClient, province: Province) -> None:
    first = _rows(client.get("/inventory/devices?sort=-name").text)[0]
    assert first[1] == "xa-029-vc"
    province.cut_district(0)
    by_state = [label for _h, label in _rows(client.get("/inventory/devices?sort=state&per_page=25").text)]
    assert by_state[0] == "d213-rt"  # "down" sorts first
    page = client.get("/inventory/devices?sort=state").text
    assert 'aria-sort="ascending"' in page
    assert 'href="/inventory/devices?sort=-state"' in page
    assert 'href="/inventory/devices?sort=state&amp;page=2"' in page  # pages keep the order
    biggest = _rows(client.get("/inventory/sites?sort=-devices").text)[0]
    assert biggest[0].startswith("/sites/xa-")  # two devices each, the DC and districts one
    assert _rows(client.get("/inventory/circuits?sort=-commit_rate_kbps").text)[0][1].startswith("TSLCD-2")
    assert _rows(client.get("/inventory/devices?sort=bogus").text)[0][1] == "d213-rt"  # default order: name


def test_every_page_has_the_search_box(client: TestClient) -> None:
    for path in ("/", "/sites", "/events", "/inventory/vc", "/problems", "/sites/xa-001"):
        html = client.get(path).text
        assert 'id="top-search"' in html and 'action="/search"' in html, path

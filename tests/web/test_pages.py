"""The operator pages through the real app: every page in Vietnamese and English, escaping, the remembered
language, the stale-data banner, the self-refreshing overview fragment, local assets only."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.web.builders import HOSTILE, Province

PAGES = ["/", "/fragments/overview", "/sites", "/sites?state=unreachable&level=commune&sort=name",
         "/regions/213", "/sites/xa-000", "/sites/xa-001", "/devices/1", "/events", "/map",
         "/inventory/sites", "/inventory/devices", "/inventory/circuits"]
WORDS = {"vi": ("Mất kết nối", "Hoạt động"), "en": ("Down", "Up")}


@pytest.fixture
def outage(province: Province) -> Province:
    province.cut_district(0)
    province.event(province.district_routers[0], "up", "down", message=HOSTILE)
    province.measurements([province.commune_routers[1]], hours=2)
    return province


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_page_renders_in_both_languages(client: TestClient, outage: Province, lang: str) -> None:
    for path in PAGES:
        sep = "&" if "?" in path else "?"
        r = client.get(f"{path}{sep}lang={lang}")
        assert r.status_code == 200, (path, r.text[:500])
        assert r.headers["content-type"].startswith("text/html")
        down, up = WORDS[lang]
        if path not in ("/inventory/circuits",):
            assert down in r.text or up in r.text, path
        if not path.startswith("/fragments"):
            assert f'<html lang="{lang}">' in r.text, path


def test_vietnamese_is_the_default_with_diacritics_dates_and_decimal_comma(client: TestClient,
                                                                          outage: Province) -> None:
    page = client.get("/").text
    assert "Sự cố cần xử lý" in page and "Độ phủ so với kế hoạch" in page
    assert re.search(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2} \(GMT\+7\)", page)
    assert "100,0%" in page or "50,0%" in page  # reachability bars use the decimal comma
    assert "d213-rt" in page and "10 thiết bị bị cô lập phía sau" in page


def test_the_chosen_language_is_remembered_in_a_cookie(client: TestClient, province: Province) -> None:
    first = client.get("/?lang=en")
    assert first.cookies.get("lang") == "en"
    later = client.get("/sites")
    assert '<html lang="en">' in later.text and "Sites" in later.text
    back = client.get("/?lang=vi")
    assert '<html lang="vi">' in back.text and back.cookies.get("lang") == "vi"


def test_hostile_names_render_as_text(client: TestClient, outage: Province) -> None:
    for path in ["/", "/sites", "/sites/xa-000", "/regions/213", "/map", "/inventory/sites", "/events",
                 "/devices/1", "/sites?q=script"]:
        body = client.get(path).text
        assert HOSTILE not in body, path
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get("/sites/xa-000").text


def test_the_stale_banner_appears_when_no_sweep_finished_recently(client: TestClient, province: Province) -> None:
    assert 'id="stale-banner"' not in client.get("/").text
    province.heartbeat(age_s=3600)
    for path in ("/", "/fragments/overview", "/sites", "/sites/xa-001"):
        body = client.get(path).text
        assert 'id="stale-banner"' in body and "DỮ LIỆU ĐÃ CŨ" in body, path
    assert "STALE DATA" in client.get("/?lang=en").text


def test_the_overview_refreshes_itself_from_a_fragment_within_one_probe_interval(
        client: TestClient, province: Province) -> None:
    page = client.get("/").text
    m = re.search(r'data-refresh-url="([^"]+)" data-refresh-s="(\d+)"', page)
    assert m is not None
    assert 1 <= int(m.group(2)) <= 15
    before = client.get(m.group(1).replace("&amp;", "&")).text
    assert 'data-state="down"' in before and "<html" not in before
    province.cut_district(1)
    after = client.get(m.group(1).replace("&amp;", "&")).text
    assert "d215-rt" in after and "d215-rt" not in before


def test_pages_load_every_asset_from_the_app_itself(client: TestClient, province: Province) -> None:
    for path in ("/", "/sites/xa-001", "/map"):
        body = client.get(path).text
        external = re.findall(r'(?:src|href)="(https?:)?//', body)
        assert not external, (path, external)
        for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', body):
            assert client.get(asset).status_code == 200, asset
    assert 'name="viewport"' in client.get("/").text


def test_state_is_shown_by_text_and_shape_never_by_colour_alone(client: TestClient, outage: Province) -> None:
    body = client.get("/sites").text
    badge = re.search(r'<span class="badge b-down"[^>]*>(.*?)</span>', body, re.S)
    assert badge is not None and "<svg" in badge.group(1) and "Mất kết nối" in badge.group(1)
    shapes = {s: re.search(rf'<symbol id="sym-{s}".*?</symbol>', client.get("/map").text, re.S) for s in
              ("up", "down", "unreachable", "maintenance", "unknown")}
    assert all(shapes.values()) and len({m.group(0).split(">", 1)[1] for m in shapes.values() if m}) == 5


def test_district_drill_down_lists_its_communes_and_the_root_cause(client: TestClient, outage: Province) -> None:
    body = client.get("/regions/213").text
    assert "Thành phố Bắc Giang" in body and "xa-002" in body and "xa-001" not in body
    assert "d213-rt" in body
    assert client.get("/regions/999").status_code == 404


def test_site_page_has_devices_circuits_vc_and_graph_sources(client: TestClient, outage: Province) -> None:
    body = client.get("/sites/xa-001").text
    for text in ("xa-001-rt", "xa-001-vc", "TSLCD-07001", "100,0 Mbps", "sip:xa1@mcu",
                 'data-src="/api/status/sites/xa-001/series"', "/static/graph.js"):
        assert text in body, text
    assert client.get("/sites/nope").status_code == 404
    assert client.get("/devices/99999").status_code == 404


def test_map_places_sites_by_coordinates_and_links_each_point(client: TestClient, province: Province) -> None:
    body = client.get("/map").text
    links = re.findall(r'<a href="/sites/([^"]+)" class="pt-link" data-state="(\w+)"', body)
    assert len(links) == 13 and ("ubnd-213", "up") in links
    province.cut_district(0)
    assert ("ubnd-213", "down") in re.findall(r'<a href="/sites/([^"]+)" class="pt-link" data-state="(\w+)"',
                                             client.get("/map").text)


def test_both_languages_translate_every_key() -> None:
    from infra_monitor.i18n import missing_keys

    assert missing_keys() == {}

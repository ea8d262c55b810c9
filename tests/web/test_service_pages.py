"""The services list (``/services``) and a service page (``/services/{id}``) through the real app.

Services are created through the REST API; the list pages, sorts and filters them with the query in the URL,
the page shows the service's fields and its checks (none measured yet: "no check result", state unknown —
never a state that was not measured); a real sweep shows each port apart; both languages, every word shown
through a translation; SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from infra_monitor.config import Settings
from tests.web.builders import Province
from tests.web.test_translations import _data_words, _unmarked_words, _words, pseudo  # noqa: F401 - a fixture


@pytest.fixture
def web_url(db_url: str) -> str:
    """Every test on SQLite and on PostgreSQL."""
    return db_url


ROW = re.compile(r'<td data-label="[^"]*"><a href="/services/(\d+)">([^<]*)</a></td>')


def _create(client: TestClient, province: Province, **body: Any) -> dict[str, Any]:
    resp = client.post("/api/ipam/services/", json={"device": province.core, **body})
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


@pytest.fixture
def services(client: TestClient, province: Province) -> list[dict[str, Any]]:
    out = [_create(client, province, name=f"Hệ thống {n:02d}", kind="tcp", ports=[8000 + n],
                   criticality="high" if n % 2 else "low", counts_toward="hosted_systems")
           for n in range(1, 31)]
    out.append(_create(client, province, name="Cổng thông tin điện tử", kind="http",
                       http_url="https://127.0.0.1:9/portal", expected_status=[200], expected_content="Bắc Giang",
                       criticality="critical", counts_toward="hosted_systems"))
    out.append(_create(client, province, name="Phân giải tên miền", kind="dns", protocol="udp", ports=[53],
                       dns_name="portal.bacgiang.gov.vn", dns_expected=["127.0.0.1"], status="planned"))
    return out


def _rows(html: str) -> list[str]:
    return [name for _id, name in ROW.findall(html)]


def test_the_list_pages_sorts_and_filters_services(client: TestClient, services: list[dict[str, Any]]) -> None:
    first = client.get("/services?per_page=25&sort=name&lang=en")
    assert first.status_code == 200
    assert "Rows 1–25 of 32" in first.text
    names = _rows(first.text)
    assert names == sorted(names) and len(names) == 25
    second = _rows(client.get("/services?per_page=25&sort=name&page=2").text)
    assert len(second) == 7 and not set(names) & set(second)
    desc = _rows(client.get("/services?sort=-name").text)
    assert desc[0] == "Phân giải tên miền"
    assert _rows(client.get("/services?kind=http").text) == ["Cổng thông tin điện tử"]
    assert _rows(client.get("/services?status=planned").text) == ["Phân giải tên miền"]
    assert len(_rows(client.get("/services?criticality=low").text)) == 15
    assert len(_rows(client.get("/services?hosted=no").text)) == 1
    assert _rows(client.get("/services", params={"q": "cổng"}).text) == ["Cổng thông tin điện tử"]
    assert "No service matches the filters." in client.get("/services?q=zzzz&lang=en").text
    assert client.get("/services?kind=smtp&sort=nonsense&page=99").status_code == 200  # ignored, last page


def test_a_service_page_shows_its_fields_and_no_unmeasured_state(
        client: TestClient, services: list[dict[str, Any]]) -> None:
    portal = services[30]
    page = client.get(f"/services/{portal['id']}?lang=en")
    assert page.status_code == 200
    text = page.text
    assert "Cổng thông tin điện tử" in text and "https://127.0.0.1:9/portal" in text
    assert "Critical" in text and "Systems hosted in the data center" in text and "Bắc Giang" in text
    assert 'data-state="unknown"' in text
    assert 'href="/devices/' in text and f'/api/ipam/services/{portal["id"]}/' in text
    vi = client.get(f"/services/{portal['id']}?lang=vi").text
    assert "Rất quan trọng" in vi and "Đơn vị chủ quản" in vi
    planned = client.get(f"/services/{services[31]['id']}?lang=en").text
    assert "This service is not checked now" in planned and "portal.bacgiang.gov.vn A" in planned
    assert client.get("/services/999999").status_code == 404
    assert client.get("/services/0").status_code == 404


def test_the_navigation_links_the_services(client: TestClient, services: list[dict[str, Any]]) -> None:
    assert 'href="/services"' in client.get("/?lang=en").text


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_service_pages_show_no_text_that_did_not_go_through_a_translation(
        client: TestClient, engine: Engine, settings: Settings, services: list[dict[str, Any]], pseudo: None,  # noqa: F811
        lang: str) -> None:
    typed = " ".join(f"{s['dns_name']} {s['http_url']} {s['expected_content']}" for s in services)  # their data
    allowed = _data_words(engine, settings) | set(_words(typed)) | {"API", "JSON", "TCP", "UDP", "HTTP", "S", "A"}
    found: dict[str, set[str]] = {}
    for path in ["/services", "/services?kind=dns", f"/services/{services[30]['id']}",
                 f"/services/{services[31]['id']}", f"/services/{services[0]['id']}"]:
        r = client.get(f"{path}{'&' if '?' in path else '?'}lang={lang}")
        assert r.status_code == 200, path
        words = {w for w in _unmarked_words(r.text) if w not in allowed}
        if words:
            found[path] = words
    assert found == {}, f"text shown without a translation ({lang}): {found}"


def test_a_real_sweep_shows_each_port_of_a_service_apart_and_the_service_down(
        client: TestClient, province: Province, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    from typer.testing import CliRunner

    from infra_monitor.cli import app

    device = client.get(f"/api/dcim/devices/{province.core}/").json()
    host = device["primary_ip"]["address"].split("/")[0]
    listener = socket.socket()
    listener.bind((host, 0))
    listener.listen()
    open_port = listener.getsockname()[1]
    closed = socket.socket()
    closed.bind((host, 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    svc = _create(client, province, name="Thư điện tử", kind="tcp", ports=[open_port, closed_port],
                  counts_toward="hosted_systems")
    web = _create(client, province, name="Một cửa", kind="tcp", ports=[open_port])
    monkeypatch.setenv("INFRA_MONITOR_DATABASE__URL", settings.database.url)
    try:
        result = CliRunner().invoke(app, ["--lang", "en", "probe", "--once", "--kind", "tcp", "--json"])
    finally:
        listener.close()
    assert result.exit_code == 0, result.output
    page = client.get(f"/services/{svc['id']}?lang=en").text
    assert f'data-check="service:{svc["id"]}:tcp:{open_port}" data-state="up"' in page
    assert f'data-check="service:{svc["id"]}:tcp:{closed_port}" data-state="down"' in page
    assert 'id="service-state" data-state="down"' in page
    src = re.search(r'data-src="(/api/status/devices/\d+/checks/series\?check=[^"]+)"', page)
    assert src is not None, "the service page draws a graph per check"
    series = client.get(src.group(1).replace("&amp;", "&") + "&metric=rtt&period=1h")
    assert series.status_code == 200, series.text
    assert 'id="service-state" data-state="up"' in client.get(f"/services/{web['id']}").text
    listing = client.get("/services?lang=en").text
    assert f'<tr data-service="{svc["id"]}" data-state="down">' in listing
    assert "1 monitored: 0 up, 1 down" in listing


def test_a_service_the_probes_refuse_is_a_configuration_error_on_its_page(
        client: TestClient, province: Province, engine: Engine) -> None:
    from sqlalchemy import update

    from inventory.models import Service

    svc = _create(client, province, name="Tên miền", kind="dns", protocol="udp", ports=[53],
                  dns_name="portal.bacgiang.gov.vn")
    with engine.begin() as conn:  # a record written before the rules refused it
        conn.execute(update(Service).where(Service.id == svc["id"]).values(dns_name=""))  # type: ignore[arg-type]
    page = client.get(f"/services/{svc['id']}?lang=en").text
    assert 'id="service-config-error"' in page and 'data-state="error"' in page
    assert "Configuration error" in page


def test_the_global_search_finds_services(client: TestClient, services: list[dict[str, Any]]) -> None:
    page = client.get("/search", params={"q": "cong thong tin", "lang": "en"}).text
    assert 'id="search-services"' in page and "Cổng thông tin điện tử" in page
    api = client.get("/api/search/", params={"q": "hệ thống 07"}).json()
    group = next(g for g in api["results"] if g["kind"] == "services")
    assert group["count"] == 1 and group["hits"][0]["href"] == f"/services/{services[6]['id']}"


def test_the_device_services_partial_links_each_service(engine: Engine, province: Province,
                                                        services: list[dict[str, Any]]) -> None:
    from infra_monitor.i18n import translator
    from infra_monitor.readmodel.services import services_of_device
    from web.templating import env

    with engine.connect() as conn:
        rows = services_of_device(conn, province.core)
    html = env.get_template("_device_services.html").render(t=translator("en"), device_services=rows)
    assert html.count('<li data-service="') == len(services) == len(rows)
    assert f'href="/services/{services[30]["id"]}"' in html and "No data" in html

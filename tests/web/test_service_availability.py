"""Hosted systems over time through the real app, on SQLite and PostgreSQL: a service's availability from its
checks' state intervals (time, not sample counts) with the part of the window it stands on, on its page, in the
services list, in ``/api/status/services/{id}``, in the overview's "hosted systems" panel (with links to the
ones down) and in ``infra-monitor status``; a real sweep against a loopback listener; every text translated;
the overview's query count does not grow with the number of hosted systems.
"""

from __future__ import annotations

import json
import re
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from infra_monitor.cli import app
from infra_monitor.config import Settings
from infra_monitor.storage.check_intervals import staleness
from infra_monitor.storage.writer import ResultRecord, write_results
from probes.registry import KINDS
from tests.web.builders import Province
from tests.web.test_translations import (  # noqa: F401 - pseudo: a fixture
    DURATION_WORDS,
    NAMES,
    SYMBOLS,
    _data_words,
    _unmarked_words,
    _words,
    pseudo,
)

runner = CliRunner()
MIN = timedelta(minutes=1)


@pytest.fixture
def web_url(db_url: str) -> str:
    """Every test on SQLite and on PostgreSQL."""
    return db_url


def _create(client: TestClient, province: Province, **body: Any) -> dict[str, Any]:
    resp = client.post("/api/ipam/services/", json={"device": province.core, **body})
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


def _history(engine: Engine, device_id: int, service_id: int, key: str, start: datetime,
             states: list[bool]) -> None:
    """One result a minute from ``start``, as sweeps write them (one transaction each)."""
    for m, ok in enumerate(states):
        with engine.begin() as conn:
            write_results(conn, [ResultRecord(ts=start + m * MIN, device_id=device_id, kind="tcp", success=ok,
                                              check_key=key, service_id=service_id, availability=False)])


@pytest.fixture
def history(client: TestClient, province: Province, engine: Engine, settings: Settings) -> dict[str, Any]:
    """Portal: up 30 minutes then down 20, then silent for twice the staleness window (its last result is no
    state now, and the silence is no data); mail: never checked; both hosted systems."""
    portal = _create(client, province, name="Cổng thông tin điện tử tỉnh", kind="tcp", ports=[443],
                     counts_toward="hosted_systems", criticality="critical")
    mail = _create(client, province, name="Thư điện tử công vụ", kind="tcp", ports=[25],
                   counts_toward="hosted_systems")
    start = datetime.now(UTC).replace(microsecond=0) - 50 * MIN - 2 * staleness(settings)
    _history(engine, province.core, portal["id"], f"service:{portal['id']}:tcp:443", start,
             [True] * 30 + [False] * 21)  # the last result, 50 minutes after the first, is down; nothing after it
    return {"portal": portal, "mail": mail}


def test_a_service_availability_is_time_up_over_time_with_data_and_says_what_it_stands_on(
        client: TestClient, history: dict[str, Any]) -> None:
    portal, mail = history["portal"], history["mail"]
    api = client.get(f"/api/status/services/{portal['id']}")
    assert api.status_code == 200, api.text
    doc = api.json()
    # 30 min up, 20 min down (the last result ends the interval: the silence after it is no data)
    assert doc["availability"]["24h"] == {"pct": 60.0, "data_s": 3000.0, "window_s": 86400.0}
    assert doc["availability"]["30d"]["pct"] == 60.0 and doc["availability"]["30d"]["data_s"] == 3000.0
    assert doc["state"] == "unknown"  # its last result is too old to be a state now
    assert [c["key"] for c in doc["checks"]] == [f"service:{portal['id']}:tcp:443"]
    never = client.get(f"/api/status/services/{mail['id']}").json()
    assert never["availability"]["24h"] == {"pct": None, "data_s": 0.0, "window_s": 86400.0}
    assert client.get("/api/status/services/999999").status_code == 404

    vi = client.get(f"/services/{portal['id']}?lang=vi").text
    section = vi[vi.index('id="service-availability"'):]
    assert '<span class="avail">60,00%</span>' in section
    assert "tính trên 50 phút có dữ liệu trong 24 giờ" in section
    en = client.get(f"/services/{portal['id']}?lang=en").text
    assert "over 50 min of 24 h" in en[en.index('id="service-availability"'):]
    assert f'href="/api/status/services/{portal["id"]}"' in en

    listing = client.get("/services?hosted=1&lang=en").text
    row = re.search(rf'<tr data-service="{portal["id"]}".*?</tr>', listing, re.S)
    assert row is not None and 'data-availability="60.0"' in row.group(0)
    row = re.search(rf'<tr data-service="{mail["id"]}".*?</tr>', listing, re.S)
    assert row is not None and 'data-availability=""' in row.group(0)
    # both together: 30 min up of 50 counted, averaged over the two monitored systems
    hosted = listing[listing.index('id="hosted-availability"'):]
    assert "over 25 min of 24 h" in hosted.split("</p>")[0]


def test_the_overview_shows_the_hosted_systems_and_links_the_ones_down(
        client: TestClient, province: Province, engine: Engine, history: dict[str, Any]) -> None:
    down = _create(client, province, name="Một cửa điện tử", kind="tcp", ports=[8443], counts_toward="hosted_systems")
    now = datetime.now(UTC).replace(microsecond=0)
    _history(engine, province.core, down["id"], f"service:{down['id']}:tcp:8443", now - 2 * MIN, [False, False])
    ov = client.get("/api/status/overview").json()["hosted"]
    assert (ov["inventoried"], ov["monitored"], ov["up"], ov["down"], ov["unknown"]) == (3, 3, 0, 1, 2)
    assert ov["down_services"] == [{"id": down["id"], "name": "Một cửa điện tử"}]
    assert ov["availability_24h"] is not None and ov["availability_24h"] < 60.0
    for path in ("/?lang=en", "/fragments/overview?lang=en"):
        page = client.get(path).text
        panel = page[page.index('id="hosted-systems"'):]
        panel = panel[:panel.index("</section>")]
        assert "Systems hosted in the data center" in panel
        assert re.search(r'data-hosted="down">.*?<strong>1</strong>', panel, re.S)
        assert f'href="/services/{down["id"]}" data-hosted-down="{down["id"]}"' in panel
        assert 'href="/services?hosted=yes"' in panel and "over " in panel
    vi = client.get("/?lang=vi").text
    assert "Hệ thống tại TTDL" in vi


def test_infra_monitor_status_summarises_the_hosted_systems(
        client: TestClient, settings: Settings, history: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFRA_MONITOR_DATABASE__URL", settings.database.url)
    out = runner.invoke(app, ["--lang", "en", "status", "--format", "json"])
    assert out.exit_code == 0, out.output
    hosted = json.loads(out.output)["summary"]["hosted_systems"]
    assert (hosted["inventoried"], hosted["monitored"], hosted["up"], hosted["down"], hosted["unknown"]) == (
        2, 2, 0, 0, 2)
    assert hosted["availability_24h"] == 60.0 and hosted["availability_24h_data_s"] == 1500.0
    en = runner.invoke(app, ["--lang", "en", "status", "--format", "table"])
    assert en.exit_code == 0, en.output
    assert "Hosted systems: 2/2 monitored, 0 up, 0 down, 2 unknown" in en.output
    assert "availability 24 h: 60.00% (over 25 min of data in 24 h)" in en.output
    vi = runner.invoke(app, ["--lang", "vi", "status", "--format", "table"])
    assert "Hệ thống tại TTDL: 2/2 được giám sát" in vi.output
    assert "khả dụng 24 giờ: 60,00% (tính trên 25 phút có dữ liệu trong 24 giờ)" in vi.output
    tsv = runner.invoke(app, ["--lang", "vi", "status", "--format", "tsv"])
    assert "Hosted systems: 2/2 monitored" in tsv.output  # machine output stays English


def test_a_real_sweep_against_a_loopback_listener_gives_a_service_its_availability(
        client: TestClient, province: Province, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    device = client.get(f"/api/dcim/devices/{province.core}/").json()
    host = device["primary_ip"]["address"].split("/")[0]
    listener = socket.socket()
    listener.bind((host, 0))
    listener.listen()
    port = listener.getsockname()[1]
    closed = socket.socket()
    closed.bind((host, 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    up = _create(client, province, name="Quản lý văn bản", kind="tcp", ports=[port], counts_toward="hosted_systems")
    half = _create(client, province, name="Thư điện tử", kind="tcp", ports=[port, closed_port],
                   counts_toward="hosted_systems")
    monkeypatch.setenv("INFRA_MONITOR_DATABASE__URL", settings.database.url)
    try:
        for _ in range(2):
            sweep = runner.invoke(app, ["--lang", "en", "probe", "--once", "--kind", "tcp", "--json"])
            assert sweep.exit_code == 0, sweep.output
    finally:
        listener.close()
    a = client.get(f"/api/status/services/{up['id']}").json()
    b = client.get(f"/api/status/services/{half['id']}").json()
    assert a["state"] == "up" and a["availability"]["24h"]["pct"] == 100.0
    assert 0 < a["availability"]["24h"]["data_s"] < 600
    assert b["state"] == "down" and b["availability"]["24h"]["pct"] == 0.0  # one port down: the service is down
    page = client.get(f"/services/{up['id']}?lang=en").text
    assert 'id="service-state" data-state="up"' in page and "100" in page[page.index('id="service-availability"'):]


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_pages_with_availability_show_no_text_that_did_not_go_through_a_translation(
        client: TestClient, engine: Engine, settings: Settings, history: dict[str, Any], pseudo: None,  # noqa: F811
        lang: str) -> None:
    allowed = (_data_words(engine, settings) | set(_words("Cổng thông tin điện tử tỉnh Thư điện tử công vụ"))
               | SYMBOLS | NAMES | DURATION_WORDS | {k.upper() for k in KINDS} | {"tcp"})  # tcp: the check key
    found: dict[str, set[str]] = {}
    for path in ["/", "/services", f"/services/{history['portal']['id']}", f"/services/{history['mail']['id']}"]:
        r = client.get(f"{path}?lang={lang}")
        assert r.status_code == 200, path
        words = {w for w in _unmarked_words(r.text) if w not in allowed}
        if words:
            found[path] = words
    assert found == {}, f"text shown without a translation ({lang}): {found}"


def test_the_hosted_systems_cost_the_overview_and_the_services_list_a_constant_number_of_queries(
        tmp_path: Any) -> None:
    from sqlalchemy.orm import Session

    from infra_monitor.config import load_settings
    from infra_monitor.db import make_engine
    from infra_monitor.readmodel import ReadModel
    from inventory.models import Service
    from tests.web.test_query_counts import StatementCounter
    from web.app import create_app

    per_size: dict[int, dict[str, int]] = {}
    for n in (2, 30):
        engine = make_engine(f"sqlite:///{tmp_path / f'h{n}.db'}")
        province = Province.build(engine, communes=3)
        with Session(engine) as session:
            rows = [Service(device_id=province.core, name=f"Hệ thống {i}", kind="tcp", ports=[9000 + i],
                            counts_toward="hosted_systems") for i in range(n)]
            session.add_all(rows)
            session.commit()
            ids = [int(r.id) for r in rows]  # type: ignore[arg-type]
        start = datetime.now(UTC) - 5 * MIN
        for k, i in enumerate(ids):
            _history(engine, province.core, i, f"service:{i}:tcp:{9000 + k}", start, [True, True, k % 2 == 0])
        settings = load_settings(None, environ={"INFRA_MONITOR_DATABASE__URL": str(engine.url),
                                                "INFRA_MONITOR_WEB__ADMIN_TOKEN": _admin_token()})
        rm = ReadModel(engine, settings, cache_ttl_s=0)
        application = create_app(settings, engine)
        application.state.readmodel.cache.ttl_s = 0
        counter = StatementCounter(engine)
        with TestClient(application, headers={"Authorization": "Token " + _admin_token()}) as c:
            def pages(c: TestClient = c, first: int = ids[0]) -> None:
                for path in ("/", "/services?hosted=yes&per_page=25", f"/api/status/services/{first}"):
                    assert c.get(path).status_code == 200, path
            pages()
            per_size[n] = {"overview": (rm.overview(), counter.during(rm.overview))[1],
                           "pages": counter.during(pages)}
        assert rm.overview().hosted is not None and rm.overview().hosted.monitored == n  # type: ignore[union-attr]
        engine.dispose()
    assert per_size[2] == per_size[30]


def _admin_token() -> str:
    from tests.users import ADMIN_TOKEN

    return ADMIN_TOKEN

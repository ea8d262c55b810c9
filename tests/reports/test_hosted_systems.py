"""The demo's hosted systems after a real sweep: the coverage report lists them, the services page shows
their states honestly (nothing listens on their loopback addresses, so every check is down), and the
coverage row of the read model counts them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from infra_monitor.cli import app
from infra_monitor.config import load_settings
from infra_monitor.db import make_engine
from infra_monitor.readmodel.coverage import hosted_systems_row
from inventory.demo import load_hosted_systems
from tests.users import ADMIN_TOKEN

runner = CliRunner()
HOSTED = [s for s in load_hosted_systems() if s.get("counts_toward", "hosted_systems") is not None]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The demo province with one real sweep of every probe kind (every demo address is on loopback)."""
    folder = tmp_path_factory.mktemp("demo")
    mp = pytest.MonkeyPatch()
    mp.setenv("INFRA_MONITOR_DATABASE__URL", f"sqlite:///{folder / 'demo.db'}")
    mp.setenv("INFRA_MONITOR_LOGGING__LEVEL", "WARNING")
    assert runner.invoke(app, ["--lang", "en", "init", "--demo"]).exit_code == 0
    for kind in ("icmp", "tcp", "http", "dns"):
        sweep = runner.invoke(app, ["--lang", "en", "probe", "--once", "--kind", kind])
        assert sweep.exit_code == 0, (kind, sweep.output)
    yield folder
    mp.undo()


def test_the_coverage_report_lists_the_hosted_systems_with_their_servers(demo: Path) -> None:
    out = demo / "coverage.json"
    result = runner.invoke(app, ["--lang", "en", "report", "coverage", "--format", "json", "--output", str(out)])
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    table = next(t for t in doc["tables"] if t["key"] == "hosted_systems")
    assert sorted(r["name"] for r in table["rows"]) == sorted(s["name"] for s in HOSTED)
    portal = next(r for r in table["rows"] if r["name"] == "Cổng thông tin điện tử tỉnh")
    assert portal["server"] == "dc-srv-01" and portal["criticality"] == "critical" and portal["checked"] == 1
    summary = {s["key"]: s["value"] for s in doc["summary"]}
    assert summary["hosted_systems_inventoried"] == summary["hosted_systems_monitored"] == len(HOSTED)
    assert summary["hosted_systems_target"] is None  # the demo sets no target for them


def test_the_services_page_shows_the_demo_systems_down_where_nothing_listens(demo: Path) -> None:
    from web.app import create_app

    settings = load_settings(None, environ={"INFRA_MONITOR_DATABASE__URL": f"sqlite:///{demo / 'demo.db'}",
                                            "INFRA_MONITOR_WEB__ADMIN_TOKEN": ADMIN_TOKEN})
    engine = make_engine(settings.database.url)
    with TestClient(create_app(settings, engine), headers={"Authorization": f"Token {ADMIN_TOKEN}"}) as client:
        page = client.get("/services?per_page=100&lang=en").text
        assert page.count('data-state="down"') == len(load_hosted_systems())
        assert f"{len(HOSTED)} systems in the inventory, {len(HOSTED)} monitored: 0 up, {len(HOSTED)} down" in page
        api = client.get("/api/ipam/services/", params={"kind": "http", "limit": 100}).json()
        assert api["count"] == sum(1 for s in load_hosted_systems() if s["kind"] == "http")
    with engine.connect() as conn:
        row = hosted_systems_row(conn, {})
    assert (row.level, row.inventoried, row.connected, row.reachable, row.states.down) == (
        "hosted_systems", len(HOSTED), len(HOSTED), 0, len(HOSTED))
    engine.dispose()

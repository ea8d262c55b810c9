"""The coverage report's hosted-systems table carries each system's availability over the report's period,
from its checks' state intervals (time all checks were up over the time with data), and the share of the
period it stands on; a system never checked has none. SQLite and PostgreSQL, through the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from infra_monitor.cli import app
from infra_monitor.db import make_engine
from infra_monitor.storage.writer import ResultRecord, write_results
from inventory.models import Service
from tests.web.builders import Province

runner = CliRunner()
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def test_the_coverage_report_gives_each_hosted_system_its_availability_over_the_period(
        db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(db_url)
    province = Province.build(engine, communes=2)
    with Session(engine) as s:
        portal = Service(device_id=province.core, name="Cổng thông tin điện tử tỉnh", kind="tcp", ports=[443],
                         counts_toward="hosted_systems")
        mail = Service(device_id=province.core, name="Thư điện tử công vụ", kind="tcp", ports=[25],
                       counts_toward="hosted_systems")
        s.add_all([portal, mail])
        s.commit()
        pid, mid = portal.id, mail.id
    day = (datetime.now(TZ) - timedelta(days=3)).date()
    start = datetime.combine(day, time(10, 0), TZ).astimezone(UTC)
    for m in range(51):  # 30 minutes up, 20 down, then nothing: one result a minute, one sweep each
        with engine.begin() as conn:
            write_results(conn, [ResultRecord(ts=start + timedelta(minutes=m), device_id=province.core, kind="tcp",
                                              success=m < 30, check_key=f"service:{pid}:tcp:443", service_id=pid,
                                              availability=False)])
    engine.dispose()
    monkeypatch.setenv("INFRA_MONITOR_DATABASE__URL", db_url)
    out = tmp_path / "coverage.json"
    result = runner.invoke(app, ["--lang", "en", "report", "coverage", "--format", "json", "--output", str(out),
                                 "--from", day.isoformat(), "--to", (day + timedelta(days=1)).isoformat()])
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    table = next(t for t in doc["tables"] if t["key"] == "hosted_systems")
    assert {"availability_pct", "covered_pct"} <= {c["key"] for c in table["columns"]}
    rows = {r["name"]: r for r in table["rows"]}
    assert rows["Cổng thông tin điện tử tỉnh"]["availability_pct"] == pytest.approx(60.0)
    assert rows["Cổng thông tin điện tử tỉnh"]["covered_pct"] == pytest.approx(100 * 3000 / 86400)
    assert rows["Thư điện tử công vụ"]["availability_pct"] is None
    assert rows["Thư điện tử công vụ"]["covered_pct"] == 0.0
    assert mid is not None
    # the day before holds none of it
    before = tmp_path / "before.json"
    assert runner.invoke(app, ["--lang", "en", "report", "coverage", "--format", "json", "--output", str(before),
                               "--from", (day - timedelta(days=1)).isoformat(), "--to", day.isoformat()]).exit_code == 0
    rows = {r["name"]: r for r in next(t for t in json.loads(before.read_text(encoding="utf-8"))["tables"]
                                       if t["key"] == "hosted_systems")["rows"]}
    assert rows["Cổng thông tin điện tử tỉnh"]["availability_pct"] is None

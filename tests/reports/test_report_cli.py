"""``infra-monitor report …`` on the demo province after a real sweep: both structures, every format, exit codes."""

from __future__ import annotations

import json
import subprocess
import zipfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from infra_monitor.cli import app
from tests.reports.test_render_pdf import _text as pdftotext  # poppler; fails under CI when missing

runner = CliRunner()
# report days are local days (Asia/Ho_Chi_Minh): from 17:00 UTC on, the machine's UTC date is a day behind
TODAY = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
TOMORROW = (TODAY + timedelta(days=1)).isoformat()
YESTERDAY = (TODAY - timedelta(days=1)).isoformat()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The demo province with one real ICMP sweep (every demo address is on loopback)."""
    folder = tmp_path_factory.mktemp("demo")
    mp = pytest.MonkeyPatch()
    mp.setenv("INFRA_MONITOR_DATABASE__URL", f"sqlite:///{folder / 'demo.db'}")
    mp.setenv("INFRA_MONITOR_LOGGING__LEVEL", "WARNING")
    assert runner.invoke(app, ["--lang", "en", "init", "--demo"]).exit_code == 0
    sweep = runner.invoke(app, ["--lang", "en", "probe", "--once", "--kind", "icmp"])
    assert sweep.exit_code == 0, sweep.output
    yield folder
    mp.undo()


def _report(demo: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--lang", "en", "report", *args])
    return result.exit_code, result.output


def test_coverage_as_of_2025_counts_the_2019_plan_and_the_192_inventoried_communes(demo: Path) -> None:
    out = demo / "cov-2025.pdf"
    code, output = _report(demo, "coverage", "--from", YESTERDAY, "--to", TOMORROW, "--as-of", "2025-06-30",
                           "--format", "pdf", "--output", str(out))
    assert code == 0, output
    text = pdftotext(out)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text and "Độc lập - Tự do - Hạnh phúc" in text
    assert "KH-59-2019" in text and "Báo cáo độ phủ" in text
    doc = _json(demo, "coverage", "--as-of", "2025-06-30")
    communes = next(r for r in doc["tables"][0]["rows"] if r["level"] == "commune")
    assert (communes["target"], communes["inventoried"], communes["units_in_force"], communes["not_inventoried"]) == (
        230, 192, 192, 38)
    districts = next(r for r in doc["tables"][0]["rows"] if r["level"] == "district")
    assert (districts["target"], districts["units_in_force"]) == (10, 10)
    assert len(next(t for t in doc["tables"] if t["key"] == "coverage_by_district")["rows"]) == 10
    assert communes["up"] > 150         # the sweep answered on loopback


def test_coverage_as_of_today_counts_the_merged_units_and_says_no_target_applies(demo: Path) -> None:
    doc = _json(demo, "coverage")
    assert doc["header"]["as_of"] == TODAY.isoformat()
    communes = next(r for r in doc["tables"][0]["rows"] if r["level"] == "commune")
    assert communes["target"] is None and communes["plan"] == "KH-59-2019"
    assert communes["inventoried"] == 192                     # every site kept, following its unit's successor
    assert communes["units_in_force"] == 58 and communes["units_without_site"] == 0
    districts = next(r for r in doc["tables"][0]["rows"] if r["level"] == "district")
    assert districts["units_in_force"] == 0
    assert any("no target applies" in n["en"] for n in doc["notes"])
    assert any("Không có chỉ tiêu" in p["vi"] for s in doc["sections"] for p in s["paragraphs"])
    assert len(next(t for t in doc["tables"] if t["key"] == "coverage_by_district")["rows"]) == 1


def test_the_command_of_the_issue_works_without_period_or_output(demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``report coverage --as-of 2025-06-30 --format pdf``: last month, a file named after kind and period."""
    monkeypatch.chdir(demo)
    code, output = _report(demo, "coverage", "--as-of", "2025-06-30", "--format", "pdf")
    assert code == 0, output
    first = TODAY.replace(day=1)
    start = (first - timedelta(days=1)).replace(day=1)
    out = demo / f"bao-cao-coverage-{start.isoformat()}_{first.isoformat()}.pdf"
    assert out.exists() and str(out.name) in output
    text = " ".join(pdftotext(out).split())
    assert "Cấp xã: chỉ tiêu 230" in text and "Cấp xã: đã có trong danh mục 192" in text
    assert _report(demo, "coverage", "--to", "2026-01-01")[0] == 2          # --to needs --from


def _json(demo: Path, kind: str, *extra: str) -> dict:
    out = demo / f"{kind}-{'-'.join(extra) or 'x'}.json"
    code, output = _report(demo, kind, "--from", YESTERDAY, "--to", TOMORROW, *extra, "--output", str(out))
    assert code == 0, output
    data: dict = json.loads(out.read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize("kind", ["coverage", "availability", "datacenter", "capacity", "videoconference"])
def test_every_kind_in_every_format(demo: Path, kind: str) -> None:
    for fmt in ("json", "csv", "xlsx", "pdf"):
        out = demo / f"{kind}.{fmt}"
        code, output = _report(demo, kind, "--from", YESTERDAY, "--to", TOMORROW, "-f", fmt, "-o", str(out),
                               "--lang", "en")
        assert code == 0, (fmt, output)
        data = out.read_bytes()
        if fmt == "json":
            assert json.loads(data)["header"]["kind"] == kind
        elif fmt == "csv":
            with zipfile.ZipFile(out) as z:
                assert "summary.csv" in z.namelist() and z.read("summary.csv").startswith(b"\xef\xbb\xbf")
        elif fmt == "xlsx":
            assert len(load_workbook(out).sheetnames) >= 2
        else:
            assert data.startswith(b"%PDF")
            if kind == "availability":    # 463 devices: the pdf shows the 40 worst and points to the full list
                assert "423 more rows (all of them in the xlsx, csv and json" in " ".join(pdftotext(out).split())


def test_format_follows_the_extension_and_stdout_works(demo: Path) -> None:
    out = demo / "auto.xlsx"
    assert _report(demo, "capacity", "--from", YESTERDAY, "--to", TOMORROW, "-o", str(out))[0] == 0
    assert out.read_bytes()[:2] == b"PK"
    result = runner.invoke(app, ["--lang", "en",
                                 "report", "datacenter", "--from", YESTERDAY, "--to", TOMORROW, "-o", "-"])
    assert result.exit_code == 0 and json.loads(result.stdout)["header"]["kind"] == "datacenter"


@pytest.mark.parametrize(("args", "message"), [
    (["--from", "2026-13-01", "--to", "2026-12-01"], "--from: '2026-13-01' is not a date"),
    (["--from", "2026-12-01", "--to", "2026-11-01"], "must be after --from"),
    (["--from", "2000-01-01", "--to", "2026-01-01"], "at most 3660"),
    (["--from", "2026-11-01", "--to", "2026-12-01", "--threshold", "150"], "threshold"),
])
def test_bad_usage_exits_2_and_says_what_was_wrong(demo: Path, args: list[str], message: str) -> None:
    out = demo / "never.json"
    code, output = _report(demo, "coverage", *args, "-o", str(out))
    assert code == 2 and message in output
    assert not out.exists()


def test_unwritable_output_exits_1_naming_the_file(demo: Path) -> None:
    code, output = _report(demo, "coverage", "--from", YESTERDAY, "--to", TOMORROW, "-o", "/proc/nope/x.json")
    assert code == 1 and "/proc/nope/x.json" in output


def test_report_help_lists_every_kind() -> None:
    result = subprocess.run([".venv/bin/infra-monitor", "report", "--help"], capture_output=True, text=True,
                            check=False, cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0
    for kind in ("coverage", "availability", "datacenter", "capacity", "videoconference", "scheduled"):
        assert kind in result.stdout

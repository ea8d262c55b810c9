"""``infra-monitor import-netbox``: recorded NetBox 4.2 answers (tests/inventory/fixtures/netbox/) → our inventory.

Through the real command on a real database: the expected counts, what is skipped and why, an idempotent
re-import, a dry run that writes nothing, a broken recording refused with file, object and field named, and
the same answers fetched over HTTP from a loopback server that pages them like NetBox and checks the token.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from inventory.models import (
    Circuit,
    CircuitTermination,
    Device,
    Interface,
    IPAddress,
    ObjectChange,
    Region,
    Site,
    Tenant,
)
from tests.inventory.conftest import Cli

FIXTURES = Path(__file__).parent / "fixtures" / "netbox"
TOKEN = "0123456789abcdef0123456789abcdef01234567"
EXPECTED = {Region: 3, Tenant: 2, Site: 4, Device: 4, Interface: 8, IPAddress: 4, Circuit: 3, CircuitTermination: 4}


def _counts(engine: Engine) -> dict[type, int]:
    with Session(engine) as s:
        return {m: s.scalar(select(func.count()).select_from(m)) or 0 for m in EXPECTED}


def _changes(engine: Engine) -> int:
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(ObjectChange)) or 0


def test_fixtures_import_with_the_expected_counts_and_skips(cli: Cli, engine: Engine) -> None:
    result = cli("import-netbox", "--from", FIXTURES)
    assert result.exit_code == 0, result.output
    assert _counts(engine) == EXPECTED
    out = result.stdout
    assert "dcim_sites.json: dcim.site #4 'Phòng thí nghiệm Hà Nội': no region we can map" in out
    assert "dcim_regions.json: dcim.region #4 'Châu Á': no official unit code" in out
    assert "dcim.device #5 'AR161 (5)': unnamed device" in out
    assert "ipam.ipaddress #4 '10.0.0.5/24': assigned to a virtualization.vminterface" in out
    assert "circuits.circuittermination #5 'VTL-WAN-99: Termination A': terminates on a circuits.providernetwork" in out
    assert out.count("cables are not modelled") == 4
    assert "so-tttt-rt': no primary IPv4 address: imported with monitoring off" in out
    assert "skipped 12 NetBox object(s)" in out
    with Session(engine) as s:
        core = s.scalar(select(Device).where(Device.name == "dc-core-01"))
        assert core is not None and core.tags == ["core"] and core.serial == "FDO2145A0BC"
        primary = s.get(IPAddress, core.primary_ip_id)
        assert primary is not None and primary.address == "127.10.0.1/32"
        sites = {x.slug: (x.category, x.address) for x in s.scalars(select(Site))}
        assert sites["dc-bac-giang"] == ("datacenter", "Thành phố Bắc Giang, tỉnh Bắc Giang")  # from its site group
        assert sites["so-tttt"][0] == "department" and sites["tt-voi"][0] == "commune"    # custom field; region level
        circuit = s.scalar(select(Circuit).where(Circuit.cid == "BGG-TSLCD-07375"))
        assert circuit is not None and circuit.commit_rate_kbps == 200_000
        ends = {t.term_side: t for t in s.scalars(select(CircuitTermination).where(
            CircuitTermination.circuit_id == circuit.id))}
        z_iface = s.get(Interface, ends["Z"].interface_id)
        assert z_iface is not None and z_iface.name == "GE0/0/0"   # from the termination's cable link peer
        assert s.scalar(select(Circuit).where(Circuit.cid == "VTL-WAN-99")) is not None  # without its two sides


def test_reimport_changes_nothing(cli: Cli, engine: Engine) -> None:
    assert cli("import-netbox", "--from", FIXTURES).exit_code == 0
    logged = _changes(engine)
    again = cli("import-netbox", "--from", FIXTURES)
    assert again.exit_code == 0, again.output
    assert "created 0, updated 0," in again.stdout
    assert _counts(engine) == EXPECTED and _changes(engine) == logged


def test_dry_run_writes_nothing(cli: Cli, engine: Engine) -> None:
    result = cli("import-netbox", "--from", FIXTURES, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "dry run: nothing was written" in result.stdout
    assert set(_counts(engine).values()) == {0} and _changes(engine) == 0


def _broken(tmp_path: Path, stem: str, edit: Any) -> Path:
    directory = tmp_path / "broken"
    shutil.copytree(FIXTURES, directory)
    path = directory / f"{stem}.json"
    page = json.loads(path.read_text(encoding="utf-8"))
    edit(page["results"])
    path.write_text(json.dumps(page, ensure_ascii=False), encoding="utf-8")
    return directory


def test_a_wrong_shape_names_file_object_and_field_and_writes_nothing(cli: Cli, engine: Engine,
                                                                     tmp_path: Path) -> None:
    assert cli("import-netbox", "--from", FIXTURES).exit_code == 0
    before, logged = _counts(engine), _changes(engine)

    def status_as_number(sites: list[dict[str, Any]]) -> None:
        sites[1]["status"] = 7
        sites[2]["slug"] = "tt-voi-renamed"  # would be a new site, had the import been accepted

    result = cli("import-netbox", "--from", _broken(tmp_path, "dcim_sites", status_as_number))
    assert result.exit_code == 1
    assert "dcim_sites.json: dcim.site #2 'UBND huyện Lạng Giang': status: expected {value, label}, got 7" \
        in result.stderr
    assert "nothing was written" in result.stderr
    assert _counts(engine) == before and _changes(engine) == logged


def test_a_value_our_rules_refuse_is_told_in_netbox_terms(cli: Cli, engine: Engine, tmp_path: Path) -> None:
    def bad_values(devices: list[dict[str, Any]]) -> None:
        devices[1]["status"] = {"value": "exploded", "label": "Exploded"}

    result = cli("import-netbox", "--from", _broken(tmp_path, "dcim_devices", bad_values))
    assert result.exit_code == 1
    assert "dcim_devices.json: dcim.device #2 'h-lang-giang-rt': status: " in result.stderr
    assert "'exploded'" in result.stderr
    assert set(_counts(engine).values()) == {0}


class _FakeNetBox(BaseHTTPRequestHandler):
    """Serves the fixtures at /api/<app>/<endpoint>/ in pages of ``limit`` (at most 3), like NetBox."""

    requests: list[str] = []

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        self.requests.append(self.path)
        if self.headers.get("Authorization") != f"Token {TOKEN}":
            self._send(403, {"detail": "Invalid token"})
            return
        stem = parts.path.removeprefix("/api/").strip("/").replace("/", "_").replace("-", "_")
        path = FIXTURES / f"{stem}.json"
        if not path.is_file():
            self._send(404, {"detail": "Not found."})
            return
        results = json.loads(path.read_text(encoding="utf-8"))["results"]
        query = parse_qs(parts.query)
        limit = min(int(query.get("limit", ["50"])[0]), 3)
        offset = int(query.get("offset", ["0"])[0])
        host = f"http://{self.headers['Host']}"
        nxt = f"{host}{parts.path}?limit={limit}&offset={offset + limit}" if offset + limit < len(results) else None
        self._send(200, {"count": len(results), "next": nxt, "previous": None,
                         "results": results[offset:offset + limit]})

    def _send(self, code: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def fake_netbox() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeNetBox)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _FakeNetBox.requests = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_fetched_with_a_token_following_next_links(cli: Cli, engine: Engine, fake_netbox: str) -> None:
    result = cli("import-netbox", "--url", fake_netbox, "--token", TOKEN)
    assert result.exit_code == 0, result.output
    assert _counts(engine) == EXPECTED
    assert "/api/dcim/interfaces/?limit=3&offset=6" in _FakeNetBox.requests   # the third page, via `next`
    wrong = cli("import-netbox", "--url", fake_netbox, "--token", "wrong")
    assert wrong.exit_code == 1
    assert f"{fake_netbox}/api/dcim/regions/: -: -: HTTP 403" in wrong.stderr


def test_usage_errors_exit_2(cli: Cli) -> None:
    assert cli("import-netbox").exit_code == 2
    assert cli("import-netbox", "--url", "http://127.0.0.1:9").exit_code == 2   # no token


def test_a_recording_of_several_pages_is_read_whole_and_a_truncated_one_refused(cli: Cli, engine: Engine,
                                                                                tmp_path: Path) -> None:
    directory = tmp_path / "paged"
    shutil.copytree(FIXTURES, directory)
    path = directory / "dcim_interfaces.json"
    results = json.loads(path.read_text(encoding="utf-8"))["results"]
    nxt = "https://netbox.bacgiang.example/api/dcim/interfaces/?limit=5&offset=5"
    pages = [{"count": 9, "next": nxt, "previous": None, "results": results[:5]},
             {"count": 9, "next": None, "previous": nxt, "results": results[5:]}]
    path.write_text(json.dumps(pages[:1]), encoding="utf-8")
    truncated = cli("import-netbox", "--from", directory)
    assert truncated.exit_code == 1
    assert "dcim_interfaces.json: -: next: the last page recorded links to" in truncated.stderr
    path.write_text(json.dumps(pages), encoding="utf-8")
    whole = cli("import-netbox", "--from", directory)
    assert whole.exit_code == 0, whole.output
    assert _counts(engine) == EXPECTED

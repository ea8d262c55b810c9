"""The ``services`` section of the inventory format through the real CLI: import, errors, export, round trip.

Services refer to their device as ``{site, name}`` and to the owning agency by tenant slug; every problem is
one ``FILE:ROW:FIELD: message`` line and nothing is written; an export imports back as a no-op (YAML and CSV).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from inventory.models import Service
from tests.inventory.conftest import Cli
from tests.inventory.documents import example_document, row, write_yaml

DEVICE = {"site": "dc-bac-giang", "name": "dc-core-01"}


def _with_services(*services: dict[str, Any]) -> dict[str, Any]:
    doc = example_document()
    doc["services"] = list(services)
    return doc


def test_the_documented_services_import_with_their_references(cli: Cli, session: Session, tmp_path: Path) -> None:
    result = cli("import", write_yaml(example_document(), tmp_path / "inv.yaml"))
    assert result.exit_code == 0, result.output
    services = {s.name: s for s in session.scalars(select(Service))}
    portal = services["Cổng thông tin điện tử tỉnh"]
    assert portal.kind == "http" and portal.http_url == "https://127.10.0.1/" and portal.expected_status == [200]
    assert portal.counts_toward == "hosted_systems" and portal.criticality == "critical"
    assert portal.tenant_id is not None and portal.tls_expiry_warning_days == 30
    assert services["SSH quản trị"].ports == [22] and services["SSH quản trị"].tenant_id is None
    assert services["DNS nội bộ"].dns_expected == ["127.10.0.1"]


def test_bad_services_are_reported_file_row_field_and_nothing_is_written(
        cli: Cli, session: Session, tmp_path: Path) -> None:
    doc = _with_services(
        {"device": DEVICE, "name": "ok", "kind": "tcp", "ports": [443]},
        {"device": DEVICE, "name": "no url", "kind": "http"},
        {"device": DEVICE, "name": "bad port", "kind": "tcp", "ports": [22, 70000]},
        {"device": {"site": "dc-bac-giang", "name": "ghost"}, "name": "x", "kind": "tcp", "ports": [1]},
        {"device": DEVICE, "name": "who", "kind": "tcp", "ports": [1], "tenant": "nobody"},
        {"device": DEVICE, "name": "dns", "kind": "dns", "ports": [53]},
        {"device": DEVICE, "name": "odd", "kind": "gopher"},
        {"device": DEVICE, "name": "ok", "kind": "tcp", "ports": [8443]},
        {"name": "orphan", "kind": "tcp", "ports": [1]},
    )
    path = write_yaml(doc, tmp_path / "bad.yaml")
    result = cli("import", path)
    assert result.exit_code == 1
    lines = result.output
    assert "bad.yaml:services#2:http_url: service 'no url': an http service needs its URL" in lines
    assert "bad.yaml:services#3:ports: service 'bad port': port 70000 is out of range; it must be 1..65535" in lines
    assert 'bad.yaml:services#4:device: no device dc-bac-giang/ghost' in lines
    assert 'bad.yaml:services#5:tenant: no tenant with slug "nobody"' in lines
    assert "bad.yaml:services#6:dns_name: service 'dns': a dns service needs the name to resolve" in lines
    assert "bad.yaml:services#7:kind: service 'odd': 'gopher' is not a valid choice; allowed: tcp, http, dns" in lines
    assert "bad.yaml:services#8:name: duplicate natural key" in lines
    assert "bad.yaml:services#9:device: this field is required" in lines
    assert session.scalars(select(Service)).first() is None


def test_csv_services_report_the_record_and_column(cli: Cli, session: Session, tmp_path: Path) -> None:
    assert cli("import", write_yaml(example_document(), tmp_path / "inv.yaml")).exit_code == 0
    folder = tmp_path / "csv"
    folder.mkdir()
    (folder / "services.csv").write_text(
        "device_site,device_name,name,kind,ports,http_url\n"
        "dc-bac-giang,dc-core-01,Thư điện tử,tcp,\"[25, 587]\",\n"
        "dc-bac-giang,dc-core-01,Một cửa,tcp,[25; 587],\n"
        "dc-bac-giang,nowhere,Văn bản,http,,https://127.10.0.1/vb\n", encoding="utf-8")
    result = cli("import", folder)
    assert result.exit_code == 1
    assert "services.csv:3:ports: expected a JSON list such as [22, 443], got '[25; 587]'" in result.output
    assert "services.csv:4:device: no device dc-bac-giang/nowhere" in result.output
    (folder / "services.csv").write_text(
        "device_site,device_name,name,kind,ports,tenant\n"
        "dc-bac-giang,dc-core-01,Thư điện tử,tcp,\"[25, 587]\",so-tttt\n", encoding="utf-8")
    result = cli("import", folder)
    assert result.exit_code == 0, result.output
    mail = session.scalars(select(Service).where(col(Service.name) == "Thư điện tử")).one()
    assert mail.ports == [25, 587]


def test_export_then_import_is_a_no_op_in_yaml_and_csv(cli: Cli, tmp_path: Path) -> None:
    doc = example_document()
    doc["services"].append({"device": {"site": "tt-voi", "name": "tt-voi-rt"}, "name": "Web", "kind": "http",
                            "http_url": "http://127.24.1.1:8080/", "expected_status": [200, 204],
                            "expected_content": "OK", "custom_fields": {"owner": "vnpt"}, "status": "offline",
                            "monitoring_enabled": False})
    assert cli("import", write_yaml(doc, tmp_path / "inv.yaml")).exit_code == 0
    for target in (tmp_path / "out.yaml", tmp_path / "out-csv"):
        assert cli("export", target).exit_code == 0
        again = cli("import", target)
        assert again.exit_code == 0, again.output
        assert "created 0, updated 0," in again.stdout
    exported = yaml.safe_load((tmp_path / "out.yaml").read_text(encoding="utf-8"))
    web = row(exported, "services", name="Web")
    assert web["device"] == {"site": "tt-voi", "name": "tt-voi-rt"} and web["tenant"] is None
    assert web["expected_status"] == [200, 204] and web["monitoring_enabled"] is False
    assert (tmp_path / "out-csv" / "services.csv").exists()

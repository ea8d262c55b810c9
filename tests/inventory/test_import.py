"""``infra-monitor import``/``validate``: upsert by natural key, every error reported, all or nothing."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from inventory.models import Device, Interface, IPAddress, ObjectChange, Site
from tests.inventory.conftest import Cli
from tests.inventory.documents import example_document, row, write_yaml


def _count(engine: Engine, model: type) -> int:
    with Session(engine) as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_valid_document_imports_and_prints_counts_per_model(cli: Cli, engine: Engine, tmp_path: Path) -> None:
    result = cli("import", write_yaml(example_document(), tmp_path / "inv.yaml"))

    assert result.exit_code == 0, result.output
    assert "created 92, updated 0, unchanged 0" in result.stdout
    assert any(line.split() == ["device", "6", "0", "0"] for line in result.stdout.splitlines())
    with Session(engine) as s:
        core = s.scalars(select(Device).where(Device.name == "dc-core-01")).one()
        primary = s.get(IPAddress, core.primary_ip_id)
        assert primary is not None and primary.address == "127.10.0.1/32" and primary.host == "127.10.0.1"
        assert s.get(Interface, primary.interface_id).device_id == core.id  # type: ignore[union-attr]


def test_every_bad_row_is_reported_as_file_row_field_and_nothing_is_written(
        cli: Cli, engine: Engine, tmp_path: Path) -> None:
    doc = example_document()
    doc["tags"].append({"slug": "demo", "name": "again"})
    doc["regions"].append({"code": "2171", "name": "Huyện X", "slug": "h-x", "level": "district", "parent": "24"})
    doc["region_changes"].append({"region": "07210", "kind": "merge", "date": "2021-01-01"})
    doc["tenants"].append({"slug": "so-noi-vu", "name": "Sở Nội vụ", "colour": "red"})
    doc["sites"] += [{"slug": "x-1", "name": "X1", "category": "village"},
                     {"slug": "x-2", "name": "X2", "category": "unit", "latitude": 95.5, "longitude": 106.0}]
    doc["racks"][0]["location"] = "nowhere"
    row(doc, "snmp_profiles", name="demo-v3")["auth_key"] = "short"
    core = row(doc, "devices", name="dc-core-01")
    core["interfaces"][0]["ip_addresses"][0]["address"] = "127.10.0.999/32"
    row(doc, "devices", name="so-tttt-rt")["primary_ip"] = "127.24.1.1/32"
    row(doc, "devices", name="tt-voi-rt")["asset_tag"] = "BG-77"
    row(doc, "devices", name="tt-voi-vc")["asset_tag"] = "BG-77"
    row(doc, "circuits", cid="BGG-WAN-0011")["a"]["site"] = "so-tttt"
    doc["vc_endpoints"][0]["protocol"] = "skype"
    doc["coverage_targets"][0]["target"] = -1
    doc["coverage_targets"][1]["valid_to"] = "2019-01-01"
    path = write_yaml(doc, tmp_path / "bad.yaml")

    result = cli("import", path)

    assert result.exit_code == 1
    errors = result.stderr
    expected = [
        "tags#3:slug: duplicate natural key demo (first at tags#1)",
        "regions#7:code: region '2171 Huyện X': '2171' has 4 digits; a district code has 3",
        "region_changes#3:successor: required for kind merge",
        "tenants#3:colour: unknown field; allowed: slug, name, description, tags, custom_fields",
        "sites#5:category: site 'X1': 'village' is not a valid choice; allowed: "
        "datacenter, department, district, commune, unit",
        "sites#6:latitude: site 'X2': is 95.5; it must be between -90 and 90",
        'racks#1:location: no location "nowhere" at site "dc-bac-giang"',
        "snmp_profiles#2:auth_key: snmp profile 'demo-v3': the authentication key must be at least 8 characters",
        "devices#1:interfaces#1.ip_addresses#1.address: '127.10.0.999/32' is not an IP address",
        "devices#3:primary_ip: device 'so-tttt-rt': 127.24.1.1/32 is on interface 'LoopBack0' of device "
        "'tt-voi-rt'; the primary IP must be on one of this device's interfaces",
        "devices#6:asset_tag: device 'tt-voi-vc': another device already has asset_tag 'BG-77'",
        "circuits#1:a.device: no device dc-core-01 at site so-tttt",
        "vc_endpoints#1:protocol: videoconference endpoint 'sip:tt-voi-vc@127.10.0.40': 'skype' is not a valid "
        "choice; allowed: sip, h323",
        "coverage_targets#1:target: coverage target 'KH-59-2019/department': is -1; it must be at least 0",
        "coverage_targets#2:valid_to: coverage target 'KH-59-2019/district': 2019-01-01 must be after valid_from",
    ]
    for line in expected:
        assert f"{path}:{line}" in errors, f"missing: {line}\n--- stderr:\n{errors}"
    assert "nothing was written" in errors
    for model in (Site, Device, ObjectChange):
        assert _count(engine, model) == 0


def test_csv_errors_name_the_csv_file_record_and_column(cli: Cli, engine: Engine, tmp_path: Path) -> None:
    directory = tmp_path / "csv"
    directory.mkdir()
    (directory / "sites.csv").write_text(
        "slug,name,category,status,latitude,longitude\n"
        "dc-1,Data center,datacenter,active,21.2,106.2\n"
        "dc-2,Second,village,active,21.3,north\n", encoding="utf-8")
    (directory / "device_roles.csv").write_text("slug,name\nrouter,Router\n", encoding="utf-8")
    (directory / "devices.csv").write_text(
        "site,name,role,monitoring_enabled\ndc-1,r1,router,false\ndc-1,r2,router,perhaps\n", encoding="utf-8")
    (directory / "interfaces.csv").write_text("device_site,device_name,name\ndc-1,r1,Gi0\n", encoding="utf-8")
    (directory / "ip_addresses.csv").write_text(
        "device_site,device_name,interface,address\ndc-1,r1,Gi0,10.0.0.1/24\ndc-1,r1,Gi9,10.0.0.2/24\n",
        encoding="utf-8")

    result = cli("validate", directory)

    assert result.exit_code == 1
    assert "sites.csv:3:category: site 'Second': 'village' is not a valid choice" in result.stderr
    assert "sites.csv:3:longitude: expected a number, got 'north'" in result.stderr
    assert "devices.csv:3:monitoring_enabled: expected true or false, got 'perhaps'" in result.stderr
    assert "ip_addresses.csv:3:interface: no interface Gi9 on device dc-1/r1" in result.stderr
    assert _count(engine, Site) == 0


def test_reimport_changes_nothing_and_writes_no_change_log(cli: Cli, engine: Engine, tmp_path: Path) -> None:
    path = write_yaml(example_document(), tmp_path / "inv.yaml")
    assert cli("import", path).exit_code == 0
    logged = _count(engine, ObjectChange)

    again = cli("import", path)

    assert again.exit_code == 0, again.output
    assert "created 0, updated 0, unchanged" in again.stdout
    assert _count(engine, ObjectChange) == logged


def test_changed_field_updates_one_object_and_logs_one_change(cli: Cli, engine: Engine, tmp_path: Path) -> None:
    doc = example_document()
    assert cli("import", write_yaml(doc, tmp_path / "a.yaml")).exit_code == 0
    logged = _count(engine, ObjectChange)
    row(doc, "sites", slug="tt-voi")["address"] = "Thị trấn Vôi, huyện Lạng Giang"

    result = cli("import", write_yaml(doc, tmp_path / "b.yaml"))

    assert result.exit_code == 0, result.output
    assert "created 0, updated 1," in result.stdout
    assert _count(engine, ObjectChange) == logged + 1
    with Session(engine) as s:
        assert s.scalars(select(Site.address).where(Site.slug == "tt-voi")).one() == "Thị trấn Vôi, huyện Lạng Giang"


def test_parent_cycle_is_rejected_naming_every_device_in_it(cli: Cli, engine: Engine, tmp_path: Path) -> None:
    doc = {
        "device_roles": [{"slug": "router", "name": "Router"}],
        "sites": [{"slug": "dc", "name": "DC", "category": "datacenter"}],
        "devices": [
            {"site": "dc", "name": name, "role": "router", "monitoring": {"enabled": False},
             "parent": {"site": "dc", "name": parent}}
            for name, parent in (("a", "b"), ("b", "c"), ("c", "a"))],
    }
    path = write_yaml(doc, tmp_path / "cycle.yaml")

    result = cli("import", path)

    assert result.exit_code == 1
    assert f"{path}:devices#1:parent: device 'a': the parent chain is a cycle: a → b → c → a" in result.stderr
    assert f"{path}:devices#3:parent: device 'c': the parent chain is a cycle: c → a → b → c" in result.stderr
    assert _count(engine, Device) == 0


def test_validate_reports_without_writing_even_when_valid(cli: Cli, engine: Engine, tmp_path: Path) -> None:
    result = cli("validate", write_yaml(example_document(), tmp_path / "inv.yaml"))

    assert result.exit_code == 0, result.output
    assert "dry run: nothing was written" in result.stdout
    assert _count(engine, Site) == 0 and _count(engine, ObjectChange) == 0


def test_unreadable_document_is_one_error_line_and_exit_1(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("sites:\n  - {slug: x\n", encoding="utf-8")

    result = cli("import", path)

    assert result.exit_code == 1
    assert result.stderr.startswith(f"{path}:-:-: YAML parse error at line 3")

"""``infra-monitor export``: the import format, secrets only on request, and an exact round trip."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy.engine import Engine

from tests.inventory.conftest import Cli
from tests.inventory.documents import example_document, row, write_yaml

SECRETS = ("public", "authpass123", "privpass123")


@pytest.fixture
def imported(cli: Cli, tmp_path: Path) -> Path:
    path = write_yaml(example_document(), tmp_path / "inv.yaml")
    assert cli("import", path).exit_code == 0
    return path


def test_export_leaves_secrets_out_unless_asked(cli: Cli, imported: Path, tmp_path: Path) -> None:
    plain = cli("export", tmp_path / "plain.yaml")
    full = cli("export", tmp_path / "full.yaml", "--include-secrets")

    assert plain.exit_code == 0 and "secrets left out" in plain.stdout
    assert full.exit_code == 0
    plain_text = (tmp_path / "plain.yaml").read_text(encoding="utf-8")
    assert not [s for s in SECRETS if s in plain_text]
    profile = row(yaml.safe_load(plain_text), "snmp_profiles", name="demo-v3")
    assert "auth_key" not in profile and profile["user"] == "monitor"
    full_doc = yaml.safe_load((tmp_path / "full.yaml").read_text(encoding="utf-8"))
    assert row(full_doc, "snmp_profiles", name="demo-v3")["priv_key"] == "privpass123"


def test_export_without_secrets_reimports_without_touching_stored_secrets(
        cli: Cli, imported: Path, tmp_path: Path) -> None:
    assert cli("export", tmp_path / "plain.yaml").exit_code == 0

    again = cli("import", tmp_path / "plain.yaml")

    assert again.exit_code == 0, again.output
    assert "created 0, updated 0," in again.stdout
    assert cli("export", tmp_path / "full.yaml", "--include-secrets").exit_code == 0
    assert "privpass123" in (tmp_path / "full.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize("form", ["yaml", "csv"])
def test_export_import_into_empty_database_export_again_is_identical(
        form: str, cli: Cli, imported: Path, other_database: tuple[Engine, Cli], tmp_path: Path) -> None:
    _, other_cli = other_database
    first = tmp_path / ("first.yaml" if form == "yaml" else "first-csv")
    assert cli("export", first, "--include-secrets").exit_code == 0

    loaded = other_cli("import", first)
    assert loaded.exit_code == 0, loaded.output
    assert other_cli("export", tmp_path / "second.yaml", "--include-secrets").exit_code == 0
    assert cli("export", tmp_path / "reference.yaml", "--include-secrets").exit_code == 0

    second = (tmp_path / "second.yaml").read_text(encoding="utf-8")
    assert second == (tmp_path / "reference.yaml").read_text(encoding="utf-8")
    doc = yaml.safe_load(second)
    merged = row(doc, "regions", code="07213")
    assert merged["valid_to"] == "2020-01-01" and merged["parent"] == "213"
    assert {(c["region"], c["kind"]) for c in doc["region_changes"]} == {("07213", "merge"), ("07375", "reparent")}


def test_csv_export_writes_one_file_per_key_with_flattened_references(
        cli: Cli, imported: Path, tmp_path: Path) -> None:
    target = tmp_path / "csv"
    assert cli("export", target).exit_code == 0

    names = {p.name for p in target.iterdir()}
    assert {"sites.csv", "devices.csv", "interfaces.csv", "ip_addresses.csv", "circuits.csv"} <= names
    header = (target / "circuits.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    assert {"a_site", "a_device", "a_interface", "z_site", "z_device", "z_interface"} <= set(header)
    devices_header = (target / "devices.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    assert {"parent_site", "parent_name", "monitoring_enabled", "monitoring_snmp_profile"} <= set(devices_header)
    assert "cf_unit_type" in (target / "sites.csv").read_text(encoding="utf-8").splitlines()[0]

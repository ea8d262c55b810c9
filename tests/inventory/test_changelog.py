"""The change log: one ObjectChange per create/update/delete by any path, secrets masked, no-op updates silent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from inventory.changelog import MASK, change_context
from inventory.models import Device, ObjectChange, Site, SnmpProfile
from tests.inventory.conftest import Cli
from tests.inventory.documents import example_document, write_yaml


def _changes(cli: Cli, *args: str) -> list[dict[str, Any]]:
    result = cli("changes", "--json", "--limit", "1000", *args)
    assert result.exit_code == 0, result.output
    return list(json.loads(result.stdout))


def test_import_logs_every_created_object_under_one_request_with_secrets_masked(
        cli: Cli, tmp_path: Path) -> None:
    imported = cli("import", write_yaml(example_document(), tmp_path / "inv.yaml"))
    request_id = imported.stdout.rsplit("request id ", 1)[1].strip(" )\n")

    changes = _changes(cli, "--request-id", request_id)

    assert len(changes) == 92
    assert {c["action"] for c in changes} == {"create"}
    assert {c["actor"] for c in changes} == {changes[0]["actor"]} and changes[0]["actor"].startswith("cli")
    v3 = next(c for c in changes if c["object_type"] == "snmp_profile" and c["object_repr"] == "demo-v3")
    assert v3["prechange_data"] is None
    assert {v3["postchange_data"][k] for k in ("auth_key", "priv_key")} == {MASK}
    assert v3["postchange_data"]["user"] == "monitor"
    assert "privpass123" not in cli("changes", "--json", "--limit", "1000").stdout


def test_update_logs_before_and_after_and_an_unchanged_save_logs_nothing(
        cli: Cli, engine: Engine, tmp_path: Path) -> None:
    assert cli("import", write_yaml(example_document(), tmp_path / "inv.yaml")).exit_code == 0
    with Session(engine) as s, change_context("tester", "req-update"):
        site = s.scalars(select(Site).where(Site.slug == "tt-voi")).one()
        site.name = site.name  # same value: not a change
        s.commit()
        site.name = "UBND thị trấn Vôi (mới)"
        s.commit()
        profile = s.scalars(select(SnmpProfile).where(SnmpProfile.name == "demo-v2c")).one()
        profile.community = "another-community"
        s.commit()

    changes = _changes(cli, "--request-id", "req-update")

    assert [(c["action"], c["object_type"]) for c in changes] == [("update", "snmp_profile"), ("update", "site")]
    site_change = changes[1]
    assert site_change["actor"] == "tester"
    assert site_change["prechange_data"]["name"] == "UBND thị trấn Vôi"
    assert site_change["postchange_data"]["name"] == "UBND thị trấn Vôi (mới)"
    assert changes[0]["prechange_data"]["community"] == changes[0]["postchange_data"]["community"] == MASK


def test_delete_logs_the_device_and_what_the_database_cascades(cli: Cli, engine: Engine, tmp_path: Path) -> None:
    assert cli("import", write_yaml(example_document(), tmp_path / "inv.yaml")).exit_code == 0
    with Session(engine) as s, change_context("tester", "req-delete"):
        s.delete(s.scalars(select(Device).where(Device.name == "tt-voi-vc")).one())
        s.commit()

    changes = _changes(cli, "--request-id", "req-delete")

    assert sorted((c["action"], c["object_type"], c["object_repr"]) for c in changes) == [
        ("delete", "device", "tt-voi-vc"), ("delete", "interface", "LAN"),
        ("delete", "ip_address", "127.24.1.2/32"), ("delete", "vc_endpoint", "sip:tt-voi-vc@127.10.0.40")]
    device = next(c for c in changes if c["object_type"] == "device")
    assert device["postchange_data"] is None and device["prechange_data"]["name"] == "tt-voi-vc"
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(ObjectChange)
                        .where(ObjectChange.object_type == "device")) == 7  # 6 created + 1 deleted


def test_changes_filters_by_object_type(cli: Cli, tmp_path: Path) -> None:
    assert cli("import", write_yaml(example_document(), tmp_path / "inv.yaml")).exit_code == 0

    circuits = _changes(cli, "--object-type", "circuit")
    table = cli("changes", "--object-type", "region", "--limit", "2")

    assert sorted(c["object_repr"] for c in circuits) == [
        "BGG-TSLCD-07375", "BGG-TSLCD-217", "BGG-WAN-0011", "VTL-WAN-07375"]
    header, *lines = table.stdout.splitlines()
    assert table.exit_code == 0 and header.startswith("time\t") and len(lines) == 2
    assert all("\tcreate\tregion#" in line for line in lines)

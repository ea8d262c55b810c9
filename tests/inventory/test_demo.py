"""The demo province loads into an empty inventory only, and its document validates as already loaded."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from infra_monitor.demo_loader import DEMO_ACTOR, load_demo_if_empty
from inventory.demo import build_demo_document
from inventory.models import Device, ObjectChange, Site
from tests.inventory.conftest import Cli


def test_demo_loads_once_and_its_document_validates_as_unchanged(engine: Engine, cli: Cli, tmp_path: Path) -> None:
    doc = build_demo_document()

    assert load_demo_if_empty(engine) is True
    assert load_demo_if_empty(engine) is False

    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Site)) == len(doc["sites"])
        assert s.scalar(select(func.count()).select_from(Device)) == len(doc["devices"])
        assert set(s.scalars(select(ObjectChange.actor).distinct())) == {DEMO_ACTOR}
    path = tmp_path / "demo.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    result = cli("validate", path)
    assert result.exit_code == 0, result.stderr
    assert "valid: created 0, updated 0," in result.stdout

"""Hostile import files (issue 10) are refused cheaply through the real CLI: one short error, nothing written.

Alias bombs, duplicate keys (YAML and JSON), bytes that are not UTF-8 and huge values each give a clear
``FILE:-:-: …`` line (exit 1, as for any unreadable document), never a traceback or the file's data echoed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from typer.testing import Result

from inventory.models import Device, ObjectChange, Site
from tests.inventory.conftest import Cli
from tests.inventory.documents import example_document, write_yaml

SHORT = 2048  # bytes of output a refused file may produce at most


def _counts(engine: Engine) -> tuple[int, ...]:
    with Session(engine) as s:
        return tuple(int(s.scalar(select(func.count()).select_from(m)) or 0) for m in (Site, Device, ObjectChange))


@pytest.fixture
def imported(cli: Cli, engine: Engine, tmp_path: Path) -> tuple[int, ...]:
    """The documented example imported; the row counts every refused file must leave as they are."""
    result = cli("import", write_yaml(example_document(), tmp_path / "inv.yaml"))
    assert result.exit_code == 0, result.output
    return _counts(engine)


def _refused(result: Result, path: Path) -> str:
    """The single error of a refused file (exit 1, short output, no traceback)."""
    out = result.output
    assert result.exit_code == 1, out
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in out
    assert len(out.encode()) < SHORT, f"{len(out)} characters of output: {out[:300]}…"
    assert result.stderr.startswith(f"{path}:-:-: "), out
    return result.stderr


def _bomb(levels: int) -> str:
    """Billion laughs: each level is nine aliases of the one before, the last one a site's name."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, levels)]
    lines.append(f"sites:\n  - {{slug: bomb, name: *a{levels - 1}, category: unit}}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("command", ["import", "validate"])
def test_alias_bomb_is_refused_without_expanding_it(cli: Cli, engine: Engine, tmp_path: Path,
                                                     imported: tuple[int, ...], command: str) -> None:
    for levels in (6, 9):  # 9**6 = 531441 names (old code echoed them all), then a real billion laughs
        path = tmp_path / f"bomb{levels}.yaml"
        path.write_text(_bomb(levels), encoding="utf-8")
        assert path.stat().st_size < 600

        error = _refused(cli(command, path), path)

        assert "YAML aliases are limited to 100 uses" in error and "alias bomb" in error
        assert "lol" not in error
        assert _counts(engine) == imported


def test_a_few_aliases_and_merge_keys_still_load(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "aliases.yaml"
    path.write_text("defaults: &unit {category: unit, status: active}\n"
                    "sites:\n  - {<<: *unit, slug: u-1, name: Unit 1}\n  - {<<: *unit, slug: u-2, name: Unit 2}\n",
                    encoding="utf-8")

    result = cli("validate", path)

    # the aliases are accepted; only the unknown top-level key is reported
    assert f"{path}:-:defaults: unknown top-level key" in result.stderr
    assert "YAML aliases" not in result.stderr
    assert ": 1 error in " in result.stderr, result.output  # the two sites' merged keys were valid


def test_duplicate_yaml_key_names_the_key_and_its_lines(cli: Cli, engine: Engine, tmp_path: Path,
                                                        imported: tuple[int, ...]) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text("sites:\n"
                    "  - slug: tt-voi\n"
                    "    name: Thị trấn Vôi\n"
                    "    category: commune\n"
                    "    name: Overwritten\n", encoding="utf-8")

    error = _refused(cli("import", path), path)

    assert "duplicate key 'name' at line 5, column 5 (first at line 3)" in error
    assert _counts(engine) == imported


def test_duplicate_json_key_names_the_key_and_the_line(cli: Cli, engine: Engine, tmp_path: Path,
                                                       imported: tuple[int, ...]) -> None:
    path = tmp_path / "dup.json"
    path.write_text('{"sites": [\n'
                    ' {"slug": "x-1", "name": "X1", "category": "unit"},\n'
                    ' {"slug": "x-2", "name": "X2",\n'
                    '  "category": "unit", "slug": "x-3"}\n'
                    ']}\n', encoding="utf-8")

    error = _refused(cli("import", path), path)

    assert "duplicate key 'slug' in the object at line 3" in error
    assert _counts(engine) == imported


def test_latin1_file_is_a_clear_error_not_a_traceback(cli: Cli, engine: Engine, tmp_path: Path,
                                                      imported: tuple[int, ...]) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("sites:\n  - {slug: x-1, name: Bắc, category: unit}\n".replace("ắ", "é").encode("latin-1"))

    error = _refused(cli("import", path), path)

    assert "not UTF-8 (byte 0xe9 at offset 30, line 2)" in error
    assert _counts(engine) == imported


def test_latin1_csv_file_is_a_clear_error_not_a_traceback(cli: Cli, engine: Engine, tmp_path: Path,
                                                          imported: tuple[int, ...]) -> None:
    directory = tmp_path / "csv"
    directory.mkdir()
    (directory / "sites.csv").write_bytes("slug,name,category\nx-1,Hà Nội é,unit\n".encode("cp1252", "replace"))

    result = cli("import", directory)

    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.stderr.startswith("sites.csv:-:-: not UTF-8 (byte 0xe0 at offset 24, line 2)"), result.output
    assert _counts(engine) == imported


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_a_5_mb_value_is_not_echoed_in_the_error(cli: Cli, engine: Engine, tmp_path: Path,
                                                 imported: tuple[int, ...], suffix: str) -> None:
    huge = "x" * (5 * 1024 * 1024)
    doc = {"sites": [{"slug": "x-1", "name": "X1", "category": "unit", "latitude": huge},
                     {"slug": huge, "name": "X2", "category": "unit"},
                     {"slug": "x-3", "name": "X3", "category": "unit", huge: 1}]}
    path = tmp_path / f"huge{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps(doc), encoding="utf-8")
    else:
        write_yaml(doc, path)

    result = cli("import", path)

    out = result.output
    assert result.exit_code == 1
    assert len(out.encode()) < SHORT, f"{len(out)} characters of output: {out[:300]}…"
    assert f"{path}:sites#1:latitude: expected a number, got 'xxxx" in result.stderr
    assert f"… ({len(huge)} characters)" in result.stderr
    assert f"{path}:sites#2:slug: " in result.stderr
    assert f"{path}:sites#3:xxxx" in result.stderr
    assert "nothing was written" in result.stderr
    assert _counts(engine) == imported


def test_a_file_over_the_size_cap_is_refused_before_reading(cli: Cli, engine: Engine, tmp_path: Path,
                                                            imported: tuple[int, ...]) -> None:
    path = tmp_path / "big.yaml"
    with path.open("wb") as fh:  # sparse: no 100 MB written to disk
        fh.truncate(100 * 1024 * 1024 + 1)

    error = _refused(cli("validate", path), path)

    assert "the file has 104857601 bytes; inventory files are limited to 100 MB" in error
    assert _counts(engine) == imported

"""render(), media types, file names and atomic writes (infra_monitor.reports.render)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from infra_monitor.reports import render as render_mod
from infra_monitor.reports.render import FORMATS, file_name, media_type, render, write_atomic
from tests.reports.sample_doc import sample_doc

MAGIC = {"json": b"{", "csv": b"PK\x03\x04", "xlsx": b"PK\x03\x04", "pdf": b"%PDF-"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_render_every_format(fmt: str) -> None:
    doc = sample_doc(rows=3)
    for lang in ("vi", "en"):
        assert render(doc, fmt, lang).startswith(MAGIC[fmt])
    assert media_type(fmt)


def test_unknown_format_or_language() -> None:
    doc = sample_doc(rows=1)
    with pytest.raises(ValueError, match="format"):
        render(doc, "docx", "vi")
    with pytest.raises(ValueError, match="language"):
        render(doc, "json", "fr")


def test_file_name() -> None:
    doc = sample_doc(rows=1)
    name = file_name(doc, "pdf")
    assert name == "bao-cao-availability-2026-12-01_2027-01-01.pdf"
    assert file_name(doc, "csv").endswith(".csv.zip") and name.isascii() and " " not in name
    assert media_type("xlsx") == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_write_atomic(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "r.pdf"
    write_atomic(target, b"one")
    assert target.read_bytes() == b"one"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    write_atomic(target, b"two")
    assert target.read_bytes() == b"two"
    assert sorted(p.name for p in target.parent.iterdir()) == ["r.pdf"]


def test_write_atomic_failure_keeps_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "r.xlsx"
    write_atomic(target, b"old")

    def boom(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(render_mod.os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, b"new")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["r.xlsx"]

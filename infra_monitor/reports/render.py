"""One entry point for every output format: ``render(doc, fmt, lang)``, media types, file names, atomic writes.

All formats render the same :class:`~infra_monitor.reports.document.ReportDocument`, so they cannot
disagree. The renderers are imported lazily: the pdf one pulls in WeasyPrint (pango), which a json export
does not need.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import unicodedata
from pathlib import Path

from infra_monitor.reports.document import LANGS, ReportDocument
from infra_monitor.reports.formatting import to_local, tz_of

FORMATS = ("json", "csv", "xlsx", "pdf")

_MEDIA_TYPES = {
    "json": "application/json",
    "csv": "application/zip",  # a zip of csv files, one per table
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
_EXTENSIONS = {"json": "json", "csv": "csv.zip", "xlsx": "xlsx", "pdf": "pdf"}


def _check(fmt: str, lang: str | None = None) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if lang is not None and lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; expected one of {', '.join(LANGS)}")


def render(doc: ReportDocument, fmt: str, lang: str = "vi") -> bytes:
    """The document in ``fmt`` (json, csv, xlsx, pdf) and ``lang`` (vi, en; json carries both)."""
    _check(fmt, lang)
    if fmt == "json":
        from infra_monitor.reports.render_json import render_json

        return render_json(doc)
    if fmt == "csv":
        from infra_monitor.reports.render_csv import render_csv

        return render_csv(doc, lang)
    if fmt == "xlsx":
        from infra_monitor.reports.render_xlsx import render_xlsx

        return render_xlsx(doc, lang)
    from infra_monitor.reports.render_pdf import render_pdf

    return render_pdf(doc, lang)


def media_type(fmt: str) -> str:
    _check(fmt)
    return _MEDIA_TYPES[fmt]


def ascii_slug(text: str) -> str:
    """``Bắc Giang`` → ``bac-giang``: ASCII letters, digits and dashes only."""
    text = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    text = text.encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-") or "x"


def file_name(doc: ReportDocument, fmt: str) -> str:
    """``bao-cao-coverage-2026-11-01_2026-12-01.pdf``: kind and local period dates (end exclusive), ASCII."""
    _check(fmt)
    tz = tz_of(doc.header)
    start = to_local(doc.header.period_start, tz).date().isoformat()
    end = to_local(doc.header.period_end, tz).date().isoformat()
    return f"bao-cao-{ascii_slug(str(doc.header.kind))}-{start}_{end}.{_EXTENSIONS[fmt]}"


def write_atomic(path: str | os.PathLike[str], data: bytes, mode: int = 0o640) -> Path:
    """Write ``data`` to ``path`` so that no half-written file ever has the final name: a temporary file
    in the same directory, fsync, ``os.replace``, then fsync of the directory. Permissions ``mode``."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:  # closes fd on every path, also when fchmod or a write fails
            os.fchmod(fh.fileno(), mode)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    try:
        dir_fd = os.open(target.parent, os.O_RDONLY)
    except OSError:
        return target
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
    return target

"""Reading and writing inventory documents: a YAML/JSON file or a directory of CSV files.

:func:`load_file` returns the document as ``{key: [row]}`` plus the source name used in error messages.
CSV rows are un-flattened into the YAML shape (``a_site`` → ``a: {site}``, ``cf_x`` → ``custom_fields``,
comma-separated ``tags``) and carry ``_origin = (file name, record number)`` so errors point at the CSV record.
:func:`write_file` writes an exported document by the path's extension, or as CSV files into a directory.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import yaml

from inventory.docformat import (
    CF_PREFIX,
    CSV_FLAT,
    KEYS,
    DocumentError,
    ImportIssue,
    allowed_fields,
    csv_cell,
    csv_custom_value,
    csv_tags,
)

ORIGIN = "_origin"
# libyaml when PyYAML was built with it: ten times faster on a province-sized document
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
YAML_SUFFIXES = (".yaml", ".yml")


def load_file(path: str | Path) -> tuple[dict[str, Any], str]:
    """``(document, source)`` from a .yaml/.yml/.json file or a directory of CSV files."""
    p = Path(path)
    source = str(path)
    if p.is_dir():
        return _load_csv_dir(p), source
    if not p.exists():
        raise DocumentError([ImportIssue(source, "-", "-", "no such file or directory")])
    raw = p.read_text(encoding="utf-8-sig")
    suffix = p.suffix.lower()
    try:
        if suffix in YAML_SUFFIXES:
            doc = yaml.load(raw, Loader=_Loader)
        elif suffix == ".json":
            doc = json.loads(raw)
        else:
            raise DocumentError([ImportIssue(source, "-", "-", "unknown file type; use .yaml, .yml, .json "
                                                                 "or a directory of CSV files")])
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise DocumentError([ImportIssue(source, "-", "-", f"YAML parse error{where}: {problem}")]) from None
    except json.JSONDecodeError as exc:
        raise DocumentError([ImportIssue(source, "-", "-", f"JSON parse error at line {exc.lineno}, "
                                                             f"column {exc.colno}: {exc.msg}")]) from None
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise DocumentError([ImportIssue(source, "-", "-", "the top level must be a mapping of keys to lists "
                                                             f"(allowed keys: {', '.join(KEYS)})")])
    return doc, source


def _load_csv_dir(directory: Path) -> dict[str, Any]:
    issues: list[ImportIssue] = []
    doc: dict[str, Any] = {}
    for f in sorted(directory.glob("*.csv")):
        key = f.stem
        if key not in KEYS:
            issues.append(ImportIssue(f.name, "-", "-", f"unknown file; CSV files are named <key>.csv with key "
                                                          f"one of: {', '.join(KEYS)}"))
            continue
        doc[key] = _read_csv(f, key, issues)
    if issues:
        raise DocumentError(issues)
    return doc


def _read_csv(f: Path, key: str, issues: list[ImportIssue]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    flat = CSV_FLAT.get(key, {})
    flattened = {head for head, _ in flat.values()}
    allowed = set(allowed_fields(key)) - flattened - {"interfaces", "ip_addresses"}
    with f.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        bad = [c for c in header if c not in allowed and c not in flat and not c.startswith(CF_PREFIX)]
        for column in bad:
            issues.append(ImportIssue(f.name, "1", column, "unknown column; allowed: "
                                                           f"{', '.join(sorted(allowed | set(flat)))}, cf_<name>"))
        if bad:
            return rows
        number = 1
        for record in reader:
            number += 1
            rows.append(_unflatten(record, flat, (f.name, str(number))))
    return rows


def _unflatten(record: dict[str, Any], flat: dict[str, tuple[str, str]], origin: tuple[str, str]) -> dict[str, Any]:
    row: dict[str, Any] = {ORIGIN: origin}
    nested: dict[str, dict[str, Any]] = {}
    custom: dict[str, Any] = {}
    for column, cell in record.items():
        if column is None:  # more cells than header columns
            continue
        cell = cell or ""
        if column in flat:
            head, sub = flat[column]
            nested.setdefault(head, {})[sub] = cell
        elif column.startswith(CF_PREFIX):
            if cell != "":
                custom[column.removeprefix(CF_PREFIX)] = csv_custom_value(cell)
        elif column == "tags":
            row["tags"] = csv_tags(cell)
        else:
            row[column] = cell
    for head, values in nested.items():
        # a reference whose cells are all empty is null; monitoring keeps its given sub-fields
        if head == "monitoring":
            row[head] = {k: v for k, v in values.items() if v != ""}
        else:
            row[head] = None if all(v == "" for v in values.values()) else values
    if custom:
        row["custom_fields"] = custom
    return row


# --- writing -----------------------------------------------------------------------------------------

def write_file(doc: dict[str, Any], path: str | Path) -> list[Path]:
    """Write ``doc`` to ``path``: .yaml/.yml, .json, or else a directory of CSV files; returns files written."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in YAML_SUFFIXES:
        p.write_text(yaml.dump(doc, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=120),
                     encoding="utf-8")
        return [p]
    if suffix == ".json":
        p.write_text(json.dumps(doc, ensure_ascii=False, indent=1, default=str) + "\n", encoding="utf-8")
        return [p]
    p.mkdir(parents=True, exist_ok=True)
    written = []
    for key, rows in flatten_for_csv(doc).items():
        if not rows:
            continue
        header: list[str] = []
        for row in rows:
            header += [c for c in row if c not in header]
        target = p / f"{key}.csv"
        with target.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=header)
            writer.writeheader()
            writer.writerows({c: csv_cell(row.get(c)) for c in header} for row in rows)
        written.append(target)
    return written


def flatten_for_csv(doc: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The document's rows as flat CSV records per file (interfaces and addresses in their own files)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for key in KEYS:
        if key in ("interfaces", "ip_addresses"):
            continue
        rows = doc.get(key) or []
        out[key] = [_flat_row(key, r) for r in rows]
        if key == "devices":
            out["interfaces"], out["ip_addresses"] = [], []
            for dev in rows:
                ref = {"device_site": dev["site"], "device_name": dev["name"]}
                for iface in dev.get("interfaces") or []:
                    out["interfaces"].append({**ref, **{k: v for k, v in iface.items() if k != "ip_addresses"}})
                    for ip in iface.get("ip_addresses") or []:
                        out["ip_addresses"].append({**ref, "interface": iface["name"], **ip})
    return out


def _flat_row(key: str, row: dict[str, Any]) -> dict[str, Any]:
    flat = {(nested, sub): column for column, (nested, sub) in reversed(list(CSV_FLAT.get(key, {}).items()))}
    out: dict[str, Any] = {}
    for field, value in row.items():
        if field == "interfaces":
            continue
        if field == "tags":
            out["tags"] = ",".join(value or [])
        elif field == "custom_fields":
            out.update({CF_PREFIX + k: v for k, v in (value or {}).items()})
        elif any(n == field for n, _ in flat):
            subs = [s for n, s in flat if n == field]
            for sub in subs:
                out[flat[(field, sub)]] = (value or {}).get(sub)
        else:
            out[field] = value
    return out

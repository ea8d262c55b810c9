"""Reading and writing inventory documents: a YAML/JSON file or a directory of CSV files.

:func:`load_file` returns the document as ``{key: [row]}`` plus the source name used in error messages.
CSV rows are un-flattened into the YAML shape (``a_site`` → ``a: {site}``, ``cf_x`` → ``custom_fields``,
comma-separated ``tags``) and carry ``_origin = (file name, record number)`` so errors point at the CSV record.

Hostile input is refused cheaply, as one error line: a file larger than :data:`MAX_FILE_BYTES`, bytes that
are not UTF-8, YAML aliases beyond :data:`MAX_ALIASES` uses or :data:`MAX_ALIAS_NODES` expanded nodes (an
alias bomb), duplicate mapping keys in YAML or JSON; values quoted in errors are shortened
(:func:`inventory.docformat.quoted`).
:func:`write_file` writes an exported document by the path's extension, or as CSV files into a directory.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import yaml

from inventory.csvsafe import restore
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
    quoted,
)

ORIGIN = "_origin"
# libyaml when PyYAML was built with it: ten times faster on a province-sized document
_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BaseDumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
YAML_SUFFIXES = (".yaml", ".yml")
MAX_FILE_BYTES = 100 * 1024 * 1024  # a province is a few MB; anything this large is a mistake or an attack
MAX_ALIASES = 100             # uses of YAML aliases (*name) in one document
MAX_ALIAS_NODES = 10_000      # nodes the aliases stand for, counted as if written out (billion laughs)
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _Refused(Exception):
    """The document is refused before it is built; the message is the whole error (no data in it)."""


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """Safe YAML loading that refuses alias bombs and duplicate mapping keys."""

    def get_single_data(self) -> Any:
        node = self.get_single_node()
        if node is None:
            return None
        _limit_aliases(node)
        return self.construct_document(node)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            first: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == _MERGE_TAG or not isinstance(key_node, yaml.ScalarNode):
                    continue  # merged keys (<<: *base) may be overridden; complex keys are left to PyYAML
                key, mark = self.construct_object(key_node), key_node.start_mark
                if key in first:
                    raise _Refused(f"duplicate key {quoted(key)} at line {mark.line + 1}, column {mark.column + 1} "
                                   f"(first at line {first[key]}); a key may appear once in a mapping")
                first[key] = mark.line + 1
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]


def _limit_aliases(root: yaml.Node) -> None:
    """Refuse a composed document whose aliases are too many or stand for too many nodes.

    Aliases share the node they name, so the graph is small however large the expansion; the expansion's
    size is counted per node once (memoised), never built."""
    size: dict[int, int] = {}
    seen: set[int] = set()
    uses = expanded = 0
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            children = _children(node)
            size[id(node)] = 1 + sum(size.get(id(c), 0) for c in children)
            continue
        if id(node) in seen:  # a second way to the same node: an alias
            uses += 1
            expanded += size.get(id(node), 0) or 1  # 0: an alias inside itself (recursive), still one use
            if uses > MAX_ALIASES or expanded > MAX_ALIAS_NODES:
                mark = node.start_mark
                raise _Refused(f"YAML aliases are limited to {MAX_ALIASES} uses standing for "
                               f"{MAX_ALIAS_NODES} nodes in all (an alias bomb?); refused at an alias of the "
                               f"node anchored at line {mark.line + 1}; write the values out instead of using *aliases")
            continue
        seen.add(id(node))
        stack.append((node, True))
        # children in reverse, so they are visited in document order (an anchor before its aliases)
        stack += [(c, False) for c in reversed(_children(node))]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


class _Dumper(_BaseDumper):  # type: ignore[misc,valid-type]
    """Exports write every value out (no &anchors/*aliases), so they import under the alias limit."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


class _DuplicateJsonKey(Exception):
    def __init__(self, key: str) -> None:
        self.key, self.line = key, 0


def _json_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateJsonKey(key)
        out[key] = value
    return out


def _json_duplicate_line(raw: str) -> int:
    """The line of the object with a duplicate key: parse again with the pure-Python scanner, which passes
    each object's start to ``parse_object`` (only done once a duplicate was found, so valid files pay
    nothing)."""
    decoder = json.JSONDecoder(object_pairs_hook=_json_pairs)

    def parse_object(s_and_end: tuple[str, int], *args: Any) -> Any:
        try:
            return json.decoder.JSONObject(s_and_end, *args)  # type: ignore[attr-defined]
        except _DuplicateJsonKey as exc:
            if not exc.line:
                exc.line = s_and_end[0].count("\n", 0, s_and_end[1]) + 1
            raise

    decoder.parse_object = parse_object  # type: ignore[attr-defined]
    decoder.scan_once = json.scanner.py_make_scanner(decoder)  # type: ignore[attr-defined]
    try:
        decoder.decode(raw)
    except _DuplicateJsonKey as exc:
        return exc.line
    return 0


def read_text(path: Path, name: str) -> str:
    """The file's text; :class:`DocumentError` when it is too large or not UTF-8 (a BOM is allowed)."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise DocumentError([ImportIssue(name, "-", "-", f"the file has {size} bytes; inventory files are limited "
                                                         f"to {MAX_FILE_BYTES // (1024 * 1024)} MB")])
    data = path.read_bytes()
    start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    try:
        return data[start:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = start + exc.start
        line = data.count(b"\n", 0, offset) + 1
        raise DocumentError([ImportIssue(name, "-", "-", f"not UTF-8 (byte 0x{data[offset]:02x} at offset {offset}, "
                                                         f"line {line}); save the file as UTF-8")]) from None


def load_file(path: str | Path) -> tuple[dict[str, Any], str]:
    """``(document, source)`` from a .yaml/.yml/.json file or a directory of CSV files."""
    p = Path(path)
    source = str(path)
    if p.is_dir():
        return _load_csv_dir(p), source
    if not p.exists():
        raise DocumentError([ImportIssue(source, "-", "-", "no such file or directory")])
    suffix = p.suffix.lower()
    if suffix not in (*YAML_SUFFIXES, ".json"):
        raise DocumentError([ImportIssue(source, "-", "-", "unknown file type; use .yaml, .yml, .json "
                                                             "or a directory of CSV files")])
    raw = read_text(p, source)
    try:
        if suffix in YAML_SUFFIXES:
            doc = yaml.load(raw, Loader=_Loader)  # _Loader is a SafeLoader
        else:
            doc = json.loads(raw, object_pairs_hook=_json_pairs)
    except _Refused as exc:
        raise DocumentError([ImportIssue(source, "-", "-", str(exc))]) from None
    except _DuplicateJsonKey as exc:
        raise DocumentError([ImportIssue(source, "-", "-", f"duplicate key {quoted(exc.key)} in the object at line "
                                                           f"{_json_duplicate_line(raw)}; a key may appear once "
                                                           "in an object")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise DocumentError([ImportIssue(source, "-", "-", f"YAML parse error{where}: {problem}")]) from None
    except json.JSONDecodeError as exc:
        raise DocumentError([ImportIssue(source, "-", "-", f"JSON parse error at line {exc.lineno}, "
                                                             f"column {exc.colno}: {exc.msg}")]) from None
    except RecursionError:
        raise DocumentError([ImportIssue(source, "-", "-", "the document is nested too deeply")]) from None
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
    try:
        content = read_text(f, f.name)
    except DocumentError as exc:
        issues += exc.issues
        return rows
    with io.StringIO(content, newline="") as fh:
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
        cell = restore(cell or "")   # the apostrophe the export put before = + - @ TAB CR
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

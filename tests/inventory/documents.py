"""Test documents: the complete example of docs/inventory-format.md (the format's contract) and helpers."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import yaml

FORMAT_DOC = Path(__file__).resolve().parents[2] / "docs" / "inventory-format.md"
_EXAMPLE = re.compile(r"<!-- example:begin -->\s*```yaml\n(.*?)```\s*<!-- example:end -->", re.DOTALL)


def example_document() -> dict[str, Any]:
    """A fresh copy of the documented example: every model once, a merge and a reparent."""
    match = _EXAMPLE.search(FORMAT_DOC.read_text(encoding="utf-8"))
    assert match, f"no example block in {FORMAT_DOC}"
    return copy.deepcopy(yaml.safe_load(match.group(1)))


def write_yaml(doc: dict[str, Any], path: Path) -> Path:
    path.write_text(yaml.dump(doc, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), allow_unicode=True,
                              sort_keys=False), encoding="utf-8")
    return path


def row(doc: dict[str, Any], key: str, **match: Any) -> dict[str, Any]:
    """The row of ``doc[key]`` whose fields equal ``match``."""
    return next(r for r in doc[key] if all(r.get(k) == v for k, v in match.items()))

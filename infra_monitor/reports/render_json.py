"""JSON output of a report, and its JSON schema (``docs/report-schema.json``).

``render_json(doc)`` is ``doc.model_dump(mode="json")`` with every string in NFC, as UTF-8 (no ``\\u``
escapes), indented by one space. Units are the document's raw units: percentages 0–100, durations in
seconds, datetimes UTC ISO 8601, rates kbit/s (see ``docs/report-format.md``).

Regenerate the committed schema after a change of :mod:`infra_monitor.reports.document`::

    .venv/bin/python -m infra_monitor.reports.render_json docs/report-schema.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from infra_monitor.reports.document import ReportDocument
from infra_monitor.reports.formatting import nfc_deep

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "docs" / "report-schema.json"


def render_json(doc: ReportDocument) -> bytes:
    """The document as UTF-8 JSON."""
    data = nfc_deep(doc.model_dump(mode="json"))
    return (json.dumps(data, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def schema_text() -> str:
    """``ReportDocument.model_json_schema()`` as the text committed in ``docs/report-schema.json``."""
    return json.dumps(ReportDocument.model_json_schema(), ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def write_schema(path: Path = SCHEMA_PATH) -> Path:
    """Write the JSON schema of the document to ``path`` (atomically)."""
    from infra_monitor.reports.render import write_atomic

    write_atomic(path, schema_text().encode("utf-8"), mode=0o644)
    return path


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = write_schema(Path(args[0]) if args else SCHEMA_PATH)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

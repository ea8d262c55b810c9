"""Import from a NetBox 4.x instance: its REST answers (from files or fetched with a token) → our inventory.

NetBox's list answers (``{count, next, previous, results}``, nested objects ``{id, url, display, slug…}``,
``status: {value, label}``) are read per endpoint, either from a directory holding one file per endpoint
(``dcim_sites.json``, a page or a JSON list of pages) or from ``URL/api/<app>/<endpoint>/`` with
``Authorization: Token …``, following ``next``. They are mapped onto an inventory document
(docs/inventory-format.md) and imported by :func:`inventory.importer.import_document`, so the same rules
apply and an import is all or nothing. What cannot be mapped is skipped with a reason (a site without a
region, an address on a virtual machine, cables…), never guessed. docs/netbox.md has the mapping.

Errors name the file (or URL), the NetBox object and the field: ``dcim_sites.json: dcim.site #4 'hq':
status: expected {value, label}, got 7``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from inventory.importer import ImportReport, import_document
from inventory.netbox_map import ENDPOINTS, Mapper, NetBoxIssue, Skipped

__all__ = ["ENDPOINTS", "DirSource", "NetBoxImport", "NetBoxIssue", "Skipped", "UrlSource", "import_netbox",
           "read_netbox"]

MAX_PAGES = 10_000


class NetBoxReadError(Exception):
    """The NetBox data cannot be read or has the wrong shape: ``issues`` name file, object and field."""

    def __init__(self, issues: list[NetBoxIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


def _page_results(where: str, page: Any, issues: list[NetBoxIssue]) -> tuple[list[Any], str | None]:
    if not isinstance(page, dict) or not isinstance(page.get("results"), list):
        issues.append(NetBoxIssue(where, "-", "results", "expected a NetBox list answer {count, next, previous, "
                                                          "results}"))
        return [], None
    nxt = page.get("next")
    return page["results"], nxt if isinstance(nxt, str) and nxt else None


class DirSource:
    """Recorded answers: ``DIR/<app>_<endpoint>.json`` (``-`` written ``_``); a missing file is an empty list."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def fetch(self, endpoint: str, issues: list[NetBoxIssue]) -> tuple[str, list[Any]] | None:
        name = endpoint.replace("/", "_").replace("-", "_") + ".json"
        path = self.directory / name
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
            issues.append(NetBoxIssue(name, "-", "-", f"cannot be read as JSON: {str(exc)[:200]}"))
            return name, []
        pages = data if isinstance(data, list) else [data]
        out: list[Any] = []
        for n, page in enumerate(pages, start=1):
            results, nxt = _page_results(name if len(pages) == 1 else f"{name} page {n}", page, issues)
            out += results
            if nxt is not None and n == len(pages):
                issues.append(NetBoxIssue(name, "-", "next", f"the last page recorded links to {nxt}: the "
                                                             "listing is incomplete; record every page"))
        return name, out


class UrlSource:
    """A live NetBox: ``GET URL/api/<endpoint>/?limit=1000`` with the token, following ``next``."""

    def __init__(self, url: str, token: str, client: Any = None) -> None:
        import httpx

        self.base = url.rstrip("/")
        self.client = client or httpx.Client(timeout=60.0, headers={
            "Authorization": f"Token {token}", "Accept": "application/json"})

    def close(self) -> None:
        self.client.close()

    def fetch(self, endpoint: str, issues: list[NetBoxIssue]) -> tuple[str, list[Any]] | None:
        import httpx

        where = f"{self.base}/api/{endpoint}/"
        url: str | None = f"{where}?limit=1000"
        out: list[Any] = []
        for _ in range(MAX_PAGES):
            if url is None:
                return where, out
            try:
                resp = self.client.get(url)
            except httpx.HTTPError as exc:
                issues.append(NetBoxIssue(where, "-", "-", f"request failed: {exc}"))
                return where, out
            if resp.status_code == 404:
                return None  # an app or endpoint this NetBox does not have
            if resp.status_code != 200:
                issues.append(NetBoxIssue(where, "-", "-", f"HTTP {resp.status_code}: {resp.text[:200]}"))
                return where, out
            try:
                page = resp.json()
            except ValueError:
                issues.append(NetBoxIssue(where, "-", "-", "the answer is not JSON"))
                return where, out
            results, url = _page_results(where, page, issues)
            out += results
        issues.append(NetBoxIssue(where, "-", "next", f"more than {MAX_PAGES} pages"))
        return where, out


@dataclass
class NetBoxImport:
    """What :func:`import_netbox` did: the inventory import's report, what was skipped, notes, read errors."""

    report: ImportReport | None
    read: dict[str, int] = field(default_factory=dict)        # endpoint -> objects read
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[Skipped] = field(default_factory=list)
    errors: list[NetBoxIssue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def read_netbox(source: DirSource | UrlSource) -> tuple[dict[str, tuple[str, list[Any]]], list[NetBoxIssue]]:
    """Every endpoint of :data:`ENDPOINTS` the source has: ``{endpoint: (where, objects)}``, and read errors."""
    issues: list[NetBoxIssue] = []
    data: dict[str, tuple[str, list[Any]]] = {}
    for endpoint in ENDPOINTS:
        got = source.fetch(endpoint, issues)
        if got is not None:
            data[endpoint] = got
    return data, issues


def import_netbox(session: Session, source: DirSource | UrlSource, *, dry_run: bool = False,
                  progress: Callable[[str], None] | None = None) -> NetBoxImport:
    """Read, map and import in one transaction; nothing is written when anything is wrong (or ``dry_run``)."""
    try:
        data, issues = read_netbox(source)
    finally:
        if isinstance(source, UrlSource):
            source.close()
    mapper = Mapper(data)
    doc = mapper.document()
    result = NetBoxImport(report=None, read={k: len(v[1]) for k, v in data.items()}, skipped=mapper.skipped,
                          notes=mapper.notes, errors=issues + mapper.issues)
    if result.errors:
        return result
    report = import_document(session, doc, source="netbox", dry_run=dry_run, progress=progress)
    result.report = report
    result.errors = [mapper.origin_of(issue) for issue in report.errors]
    return result

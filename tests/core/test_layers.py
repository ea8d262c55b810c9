"""The packages show the data flow: every import, at module level or inside a function, points down the layers

    probes  <  inventory  <  core (infra_monitor)  <  web  <  the composition root (CLI, process runner)

so there is no import cycle between them. Probes know nothing of the database or the inventory; the
inventory knows nothing of the status engine or of HTTP; the core (scheduler, status, read model, reports)
knows nothing of HTTP; the web layer holds every router and its dependencies. Only the composition root —
``infra_monitor.cli`` and ``infra_monitor.server``, which start the web server and the pollers in one
process — may import the web layer. Read from the source with :mod:`ast`, so an import hidden in a function
counts as much as one at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("probes", "inventory", "infra_monitor", "web")
ROOT_MODULES = ("infra_monitor.cli", "infra_monitor.server", "infra_monitor.__main__")
LAYER = {"probes": 0, "inventory": 1, "core": 2, "web": 3, "root": 4}
NAMES = {v: k for k, v in LAYER.items()}


def _layer(module: str) -> str | None:
    if any(module == m or module.startswith(m + ".") for m in ROOT_MODULES):
        return "root"
    top = module.split(".")[0]
    if top == "infra_monitor":
        return "core"
    return top if top in PACKAGES else None


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, module: str) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = module.split(".")[: len(module.split(".")) - node.level + (path.name == "__init__.py")]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            out.append((node.lineno, target))
    return out


def _edges() -> list[tuple[str, str, str]]:
    """(source layer, target layer, "file:line imports module") for every import between our packages."""
    edges = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue  # alembic revisions are history, run by alembic alone
            module = _module_name(path)
            source = _layer(module)
            for line, target in _imports(path, module):
                layer = _layer(target)
                if source and layer and layer != source:
                    edges.append((source, layer, f"{path.relative_to(ROOT)}:{line} imports {target}"))
    return edges


def test_every_import_points_down_the_layers() -> None:
    upward = [where for source, target, where in _edges() if LAYER[target] > LAYER[source]]
    assert upward == [], "imports against the data flow:\n" + "\n".join(upward)


def test_there_is_no_cycle_between_the_layers() -> None:
    graph: dict[str, set[str]] = {name: set() for name in LAYER}
    for source, target, _where in _edges():
        graph[source].add(target)

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(n == goal or (n not in seen and reaches(n, goal, seen | {n})) for n in graph[start])

    cycles = sorted(name for name in graph if reaches(name, name, set()))
    assert cycles == []


def test_the_checker_sees_imports_inside_functions_and_relative_ones(tmp_path: Path) -> None:
    """The rule would be worthless if a lazy or relative import slipped through."""
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from web.app import create_app\n    from . import sibling\n", encoding="utf-8")
    found = _imports(source, "inventory.m")
    assert (2, "web.app") in found and (3, "inventory") in found
    assert _layer("web.app") == "web" and _layer("infra_monitor.cli.common") == "root"
    assert _layer("infra_monitor.status.engine.rules") == "core" and _layer("sqlalchemy") is None

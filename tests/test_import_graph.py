"""The import graph of policywatch, drawn from the source with ``ast``: no module imports
itself back through others, and the bottom layers import nothing above them (see
docs/ARCHITECTURE.md, "Layers")."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (
    "config", "changes", "storage", "spiders", "feeds", "notify", "export", "pipeline",
    "flows", "demo", "cli",
)  # fmt: skip

#: What each bottom layer may import (itself included); everything else is above it.
ALLOWED = {
    "config": {"config"},
    "changes": {"changes", "config"},
    "storage": {"storage", "config"},
}


def modules() -> dict[str, Path]:
    """Every module of the packages, by dotted name (``pkg`` for ``pkg/__init__.py``)."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts and "versions" in path.parts:
                continue  # Alembic revisions import alembic and sqlalchemy only
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports, at any depth of its code (lazy ones too)."""
    known = modules()
    graph: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # ``from pkg import sub`` imports the module pkg.sub when there is one
                targets = [
                    f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in known else node.module
                    for a in node.names
                ]
            for target in targets:
                while target and target not in known:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Package -> the other packages it imports."""
    packages: dict[str, set[str]] = {p: set() for p in PACKAGES}
    for module, targets in graph.items():
        top = module.split(".")[0]
        packages[top] |= {t.split(".")[0] for t in targets} - {top}
    return packages


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_graph_is_drawn_from_real_imports() -> None:
    graph = import_graph()
    assert "pipeline.versions" in graph["flows.monitor"] | graph["pipeline.detect"]
    assert "config.sources" in graph["config.run"]
    assert package_graph(graph)["flows"] >= {"config", "pipeline"}
    assert "demo.run" in graph["cli.demo"]


def test_cycles_are_found() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_itself_back() -> None:
    assert cycles(import_graph()) == []


def test_bottom_layers_import_nothing_above_them() -> None:
    packages = package_graph(import_graph())
    for package, allowed in ALLOWED.items():
        above = packages[package] - allowed
        assert not above, f"{package}/ imports {sorted(above)}, which sit above it"


def test_no_package_imports_itself_back() -> None:
    """Packages too: flows/ never reaches back up to the CLI or the demo that start it."""
    assert cycles(package_graph(import_graph())) == []


def test_nothing_imports_the_command_line() -> None:
    importers = {p for p, targets in package_graph(import_graph()).items() if "cli" in targets}
    assert importers == set()

"""Who imports whom among our modules, read from the source (never by importing it): for the
repo tests that hold the layering (tests/repo/test_layers.py).

A module is named as Python names it (`training.cnn.fit`; a package by its `__init__.py`). Every
import that runs counts, at the top or late inside a function (a late import still ties two
modules in a circle: it only moves the failure), but not one under `if TYPE_CHECKING:`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def module_name(path: Path) -> str:
    parts = path.resolve().relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def runtime_imports(path: Path) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement of `path` that runs (see the module's docstring)."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking(child):
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                found.append(child)
            visit(child)

    visit(ast.parse(path.read_text(), filename=str(path)))
    return found


def imported_names(path: Path) -> set[str]:
    """The dotted names `path` imports at run time: `from a.b import c` gives `a.b` and `a.b.c`
    (c may be a module or a name in one); relative imports are resolved."""
    names: set[str] = set()
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    for node in runtime_imports(path):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            anchor = package[: len(package) - node.level + 1]
            base = ".".join([*anchor, *([base] if base else [])])
        names.add(base)
        names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def graph(packages: Iterable[str]) -> dict[str, set[str]]:
    """Module -> the modules of `packages` it imports (not itself)."""
    paths = {
        module_name(p): p
        for package in packages
        for p in (REPO / package).rglob("*.py")
        if "__pycache__" not in p.parts
    }
    known = set(paths)
    return {name: (imported_names(path) & known) - {name} for name, path in paths.items()}


def circle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import circle, as the modules along it (first = last), or None."""
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(edges):
        if start not in state and (found := visit(start)):
            return found
    return None

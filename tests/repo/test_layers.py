"""How the packages use each other, beyond "imports point one way" (tests/repo/test_repo.py):
no import circle; the bot reaches model through its front door; no handler imports another
handler; one module writes the result log."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import model

REPO = Path(__file__).resolve().parents[2]
# Beside `model` itself, what the bot may import of model (docs/ARCHITECTURE.md, model/).
BOT_MAY_IMPORT = {
    "model",
    "model.words",
    "model.decision.onset",
    "model.decision.followup",
    "model.decision.distress",
}
# ResultLog's writes: only bot/journal.py calls them.
LOG_WRITES = {"submit", "submit_exam_end", "end_exam", "record_onset"}
# training/ is being split by pipeline (issue 24): its circle run.py <-> train.py goes then, and
# it joins these.
NO_CIRCLE = ("model", "db", "bot")


def _module(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def _runtime_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Every import that runs, at the top or late inside a function (a late import still ties
    two modules in a circle: it only moves the failure); not those under TYPE_CHECKING."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking(child):
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                found.append(child)
            visit(child)

    visit(tree)
    return found


def _targets(node: ast.Import | ast.ImportFrom, known: set[str]) -> set[str]:
    """The modules of ours that `node` imports (`from a import b` is `a.b` when b is one)."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names} & known
    if node.level or not node.module:
        return set()
    subs = {f"{node.module}.{alias.name}" for alias in node.names}
    return ({node.module} | subs) & known


def _graph(packages: tuple[str, ...]) -> dict[str, set[str]]:
    paths = {_module(p): p for pkg in packages for p in (REPO / pkg).rglob("*.py")}
    known = set(paths)
    return {
        name: {
            t
            for node in _runtime_imports(ast.parse(path.read_text()))
            for t in _targets(node, known)
        }
        - {name}
        for name, path in paths.items()
    }


def _circle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle, as the modules along it, or None."""
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_the_circle_finder_finds_one() -> None:
    assert _circle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _circle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_training_joins_once_its_circle_is_gone() -> None:
    """training/ has one today (run.py <-> train.py, through a late import): when it is gone,
    training/ belongs in NO_CIRCLE."""
    if _circle(_graph(("training",))) is None:
        pytest.fail("training/ has no import circle any more: add it to NO_CIRCLE")


def test_no_import_circle() -> None:
    circle = _circle(_graph(NO_CIRCLE))
    assert circle is None, " -> ".join(circle or [])


def _imports(path: Path) -> list[ast.Import | ast.ImportFrom]:
    return [
        n
        for n in ast.walk(ast.parse(path.read_text()))
        if isinstance(n, ast.Import | ast.ImportFrom)
    ]


@pytest.mark.parametrize("path", sorted((REPO / "bot").rglob("*.py")), ids=lambda p: p.name)
def test_bot_reaches_model_through_its_front_door(path: Path) -> None:
    for node in _imports(path):
        names = (
            [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
        )
        for name in names:
            if name == "model" or name.startswith("model."):
                assert name in BOT_MAY_IMPORT, f"{path.relative_to(REPO)} imports {name}"
        if isinstance(node, ast.ImportFrom) and node.module == "model":
            for alias in node.names:
                assert alias.name in model.__all__, f"{path.name}: model.{alias.name} is not public"


def test_the_front_door_lists_what_it_serves() -> None:
    """`__all__`, the lazy table and the names themselves agree."""
    assert sorted(model._PUBLIC) == sorted(model.__all__)
    for name in model.__all__:
        assert getattr(model, name) is not None


def test_no_handler_imports_another_handler() -> None:
    handlers = REPO / "bot" / "handlers"
    for path in handlers.glob("*.py"):
        for node in _imports(path):
            modules = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [f"{node.module}.{a.name}" for a in node.names] + [node.module or ""]
            )
            assert not [m for m in modules if m.startswith("bot.handlers")], (
                f"{path.relative_to(REPO)} imports a handler module: share a non-handler one"
            )


def test_one_module_writes_the_result_log() -> None:
    for path in (REPO / "bot").rglob("*.py"):
        if path.name == "journal.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                assert node.func.attr not in LOG_WRITES, (
                    f"{path.relative_to(REPO)}:{node.lineno} writes the result log "
                    f"({node.func.attr}): go through bot/journal.py"
                )

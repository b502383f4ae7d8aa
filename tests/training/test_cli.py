"""`palsy-train`: every subcommand is run through `training.__main__.main` by some test under
tests/training/ (an argument list starting with its name), so a command cannot break unseen."""

from __future__ import annotations

import ast
from pathlib import Path

from training.__main__ import _parser

TESTS = Path(__file__).resolve().parent


def _subcommands() -> set[str]:
    parser = _parser()
    (sub,) = [a for a in parser._actions if a.dest == "command"]
    return set(sub.choices or ())


def _run_in_tests() -> set[str]:
    """The first string of each argument list in a test module that imports `main`."""
    found: set[str] = set()
    for path in TESTS.rglob("test_*.py"):
        tree = ast.parse(path.read_text())
        imports_main = any(
            isinstance(n, ast.ImportFrom) and n.module == "training.__main__"
            and any(a.name == "main" for a in n.names)
            for n in ast.walk(tree)
        )  # fmt: skip
        if not imports_main:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.List) and node.elts:
                first = node.elts[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    found.add(first.value)
    return found


def test_every_subcommand_is_run_by_a_test() -> None:
    commands = _subcommands()
    assert {"synth", "train", "cv-cnn", "fit-exam"} <= commands  # the parser was read
    assert not commands - _run_in_tests(), "palsy-train subcommands no test runs"

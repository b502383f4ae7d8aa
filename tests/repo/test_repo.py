"""Repository invariants: README's test command is what CI runs; imports point one way."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("model", "db", "bot", "training")
# Which sibling packages each package may import.
ALLOWED = {"model": set(), "db": set(), "bot": {"model", "db"}, "training": {"model"}}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_ci_runs_readme_test_command() -> None:
    readme = (REPO / "README.md").read_text()
    ci_lines = (REPO / ".ci" / "run").read_text().splitlines()
    marker = ci_lines.index(
        '# README.md, "Run the tests" (tests/repo/test_repo.py checks this line matches README):'
    )
    command = ci_lines[marker + 1]
    assert f"```bash\n{command}\n```" in readme


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_point_one_way(package: str) -> None:
    for path in (REPO / package).rglob("*.py"):
        siblings = _imports(path) & set(PACKAGES) - {package}
        assert siblings <= ALLOWED[package], f"{path.relative_to(REPO)} imports {siblings}"


@pytest.mark.parametrize("package", ["model", "db", "bot"])
def test_tensorflow_only_in_training(package: str) -> None:
    for path in (REPO / package).rglob("*.py"):
        if path.name.startswith("convert_"):
            continue  # offline conversion scripts run with the [train] extra, never at run time
        assert not _imports(path) & {"tensorflow", "keras", "tf2onnx"}, path


def _pytest(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=240,
    )


def test_tests_that_need_the_face_data_are_marked_and_ci_requires_them() -> None:
    faces = "tests/model/face/test_faces.py"
    listed = _pytest("--collect-only", "-m", "data", faces, "tests/bot/test_end_to_end.py")
    # Marked by hand (test_faces) and because they use the London fixtures (test_end_to_end).
    assert f"{faces}::test_two_faces_side_by_side" in listed.stdout
    assert "tests/bot/test_end_to_end.py::" in listed.stdout
    missing = {"PALSY_LONDON_DIR": str(REPO / "no-such-folder"), "PALSY_REQUIRE_DATA": ""}
    skipped = _pytest("-m", "data", faces, **missing)
    assert skipped.returncode == 0 and "4 test(s) marked `data` skipped" in skipped.stdout
    required = _pytest("-m", "data", faces, **{**missing, "PALSY_REQUIRE_DATA": "1"})
    assert required.returncode != 0 and "PALSY_REQUIRE_DATA is set" in required.stdout
    ci = (REPO / ".ci" / "run").read_text()
    assert "export PALSY_REQUIRE_DATA=1" in ci

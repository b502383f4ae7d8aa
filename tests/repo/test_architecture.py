"""docs/ARCHITECTURE.md lists every module of every package once, and only modules that exist: a
new module without a row, or a row left behind by a move, fails here (tests/support/architecture.py
reads the tables)."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.support.architecture import listed, missing, modules, unlisted

PACKAGES = ("model", "db", "bot", "training")


@pytest.mark.parametrize("package", PACKAGES)
def test_every_listed_file_exists(package: str) -> None:
    assert not missing(package), f"ARCHITECTURE.md lists what {package}/ does not have"


@pytest.mark.parametrize("package", PACKAGES)
def test_every_module_is_listed(package: str) -> None:
    assert not unlisted(package), f"{package}/ modules without a row in ARCHITECTURE.md"


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_is_listed_twice(package: str) -> None:
    twice = sorted(name for name, n in Counter(listed(package)).items() if n > 1)
    assert not twice, f"ARCHITECTURE.md lists these of {package}/ more than once: {twice}"


def test_the_reader_sees_files_folders_and_patterns() -> None:
    text = """## pkg/ (a package)
| module | does one thing |
|---|---|
| `a.py`, `sub/b.py` | two files, `not_this.py` (not the first column) |
| `migrations/`, `locales/*.json` | a folder and a pattern |
| 1 | `step.py` is not in the first column |
## other/
| `c.py` | another package's |
"""
    assert listed("pkg", text) == ["a.py", "sub/b.py", "migrations/", "locales/*.json"]


def test_bot_lists_each_module_by_name() -> None:
    """In bot/ a folder row is not enough: each handler module says what it handles."""
    names = set(listed("bot"))
    assert modules("bot") <= names, sorted(modules("bot") - names)

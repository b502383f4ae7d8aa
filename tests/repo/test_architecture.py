"""docs/ARCHITECTURE.md lists every module of every package, and only modules that exist.

Each package's section ("## bot/ ...") has tables whose first column names its files, relative
to the package: `photo_flow.py`, `handlers/media.py`, a folder (`migrations/`, which covers what
is in it) or a pattern (`locales/*.json`). A new module without a row, or a row left behind by a
move, fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ARCHITECTURE = REPO / "docs" / "ARCHITECTURE.md"
PACKAGES = ("model", "db", "bot", "training")


def listed(package: str) -> set[str]:
    """The names in the first column of the tables of `package`'s section."""
    text = ARCHITECTURE.read_text()
    match = re.search(rf"^## {package}/.*?$(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"no section '## {package}/' in {ARCHITECTURE.name}"
    names = set()
    for line in match.group(1).splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            first = line.split("|")[1]
            names |= set(re.findall(r"`([\w./-]+\.py|[\w./-]+/|[\w./-]*\*[\w./*-]*)`", first))
    return names


def modules(package: str) -> set[str]:
    root = REPO / package
    return {
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if p.name != "__init__.py" and "__pycache__" not in p.parts
    }


@pytest.mark.parametrize("package", PACKAGES)
def test_every_listed_file_exists(package: str) -> None:
    root = REPO / package
    missing = {name for name in listed(package) if not list(root.glob(name.rstrip("/")))}
    assert not missing, f"{ARCHITECTURE.name} lists what {package}/ does not have: {missing}"


@pytest.mark.parametrize("package", PACKAGES)
def test_every_module_is_listed(package: str) -> None:
    names = listed(package)
    folders = {name for name in names if name.endswith("/")}
    unlisted = {
        module
        for module in modules(package)
        if module not in names and not any(module.startswith(f) for f in folders)
    }
    assert not unlisted, f"{package}/ modules without a row in {ARCHITECTURE.name}: {unlisted}"


def test_bot_lists_each_module_by_name() -> None:
    """In bot/ a folder row is not enough: each handler module says what it handles."""
    names = listed("bot")
    assert modules("bot") <= names, sorted(modules("bot") - names)

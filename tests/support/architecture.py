"""What docs/ARCHITECTURE.md lists of a package, and what the package has: for the repo test that
keeps the two the same (tests/repo/test_architecture.py).

Each package's section (`## model/ ...`, up to the next `## `) has tables whose first column
names its files, relative to the package: `pipeline.py`, `face/decode.py`, a folder
(`migrations/`, which covers what is in it) or a pattern (`locales/*.json`).
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ARCHITECTURE = REPO / "docs" / "ARCHITECTURE.md"
# A file, a folder or a pattern in backquotes.
_NAME = re.compile(r"`([\w./-]+\.py|[\w./-]+/|[\w./-]*\*[\w./*-]*)`")


def section(package: str, text: str | None = None) -> str:
    """The text of `package`'s section."""
    text = ARCHITECTURE.read_text() if text is None else text
    match = re.search(rf"^## {re.escape(package)}/.*?$(.*?)(?=^## |\Z)", text, re.M | re.S)
    if match is None:
        raise LookupError(f"no section '## {package}/' in {ARCHITECTURE.name}")
    return match.group(1)


def listed(package: str, text: str | None = None) -> list[str]:
    """The names in the first column of the tables of `package`'s section, in order (a name
    listed twice appears twice)."""
    names: list[str] = []
    for line in section(package, text).splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            names += _NAME.findall(line.split("|")[1])
    return names


def modules(package: str) -> set[str]:
    """Every Python module of `package` but its `__init__.py` files, relative to it."""
    root = REPO / package
    return {
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if p.name != "__init__.py" and "__pycache__" not in p.parts
    }


def missing(package: str) -> set[str]:
    """Listed names that match nothing in the package."""
    root = REPO / package
    return {name for name in listed(package) if not list(root.glob(name.rstrip("/")))}


def unlisted(package: str) -> set[str]:
    """Modules of the package that no listed file or folder covers."""
    names = set(listed(package))
    folders = {name for name in names if name.endswith("/")}
    return {
        module
        for module in modules(package)
        if module not in names and not any(module.startswith(f) for f in folders)
    }

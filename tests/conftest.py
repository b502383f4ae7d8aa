"""Shared fixtures. The London face set is read only when ../shared is present."""

from __future__ import annotations

from pathlib import Path

import pytest

# Database backends for tests/test_db_*.py: SQLite, and PostgreSQL when configured.
from tests.db_backends import db_backend, sqlite_backend  # noqa: F401

REPO = Path(__file__).resolve().parents[1]
LONDON = REPO.parent / "shared" / "data" / "faces" / "london"


@pytest.fixture(scope="session")
def london_dir() -> Path:
    """Root of the Face Research Lab London Set; skips the test when it is absent."""
    if not (LONDON / "neutral").is_dir():
        pytest.skip("London face set not present (../shared/data/faces/london)")
    return LONDON


@pytest.fixture(scope="session")
def london_neutral(london_dir: Path) -> list[Path]:
    return sorted((london_dir / "neutral").glob("*_03.jpg"))

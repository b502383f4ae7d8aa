"""Shared fixtures. The London face set is read from ../shared (or PALSY_LONDON_DIR).

Tests that use it are marked `data` (`pytest -m data` lists them). Without the set they skip,
and the run ends with a line saying how many did; with PALSY_REQUIRE_DATA=1 (`.ci/run`) they
fail instead, so CI cannot pass without the behavioural tests of the shipped model.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Database backends for tests/db/: SQLite, and PostgreSQL when configured.
from tests.support.db_backends import db_backend, sqlite_backend  # noqa: F401

REPO = Path(__file__).resolve().parents[1]
LONDON = Path(
    os.environ.get("PALSY_LONDON_DIR", "").strip()
    or REPO.parent / "shared" / "data" / "faces" / "london"
)
REQUIRE_DATA_ENV = "PALSY_REQUIRE_DATA"
DATA_FIXTURES = frozenset({"london_dir", "london_neutral"})
MISSING = "London face set not present"
_skipped_for_data: list[str] = []


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if DATA_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.data)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # Skipped for want of the set (not an xfail, not a skip for another reason).
    if report.skipped and MISSING in str(report.longrepr) and not hasattr(report, "wasxfail"):
        _skipped_for_data.append(report.nodeid)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _skipped_for_data:
        terminalreporter.write_line(
            f"{len(_skipped_for_data)} test(s) marked `data` skipped: the London face set is "
            f"not at {LONDON} (README, 'Run the tests', says where it comes from)",
            yellow=True,
        )


@pytest.fixture(scope="session")
def london_dir() -> Path:
    """Root of the Face Research Lab London Set; skips the test when it is absent."""
    if not (LONDON / "neutral").is_dir():
        missing = f"{MISSING} ({LONDON})"
        if os.environ.get(REQUIRE_DATA_ENV, "").strip() not in {"", "0"}:
            pytest.fail(f"{REQUIRE_DATA_ENV} is set: {missing}")
        pytest.skip(missing)
    return LONDON


@pytest.fixture(scope="session")
def london_neutral(london_dir: Path) -> list[Path]:
    return sorted((london_dir / "neutral").glob("*_03.jpg"))

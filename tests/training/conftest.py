"""Fixtures of the training tests: one small synthetic set, built once per run.

Face images: DeBruine & Jones (2017), Face Research Lab London Set, CC BY 4.0 (warped on the fly).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from training.synth import build

# People in the small synthetic set: enough for person-grouped folds of 2-3 people.
PEOPLE = 6


@pytest.fixture(scope="session")
def tiny_synth(london_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`palsy-train synth --variants 1 --limit 6`: every class of 6 people (neutral and
    smiling), with `manifest.csv` and `subjects.csv`."""
    out = tmp_path_factory.mktemp("synth")
    build(london_dir, out, variants=1, seed=5, workers=1, limit=PEOPLE)
    return out


@pytest.fixture(scope="session")
def tiny_people() -> int:
    """How many people `tiny_synth` holds."""
    return PEOPLE

"""The screen's decisions on London photos, phone-like frames and warps are pinned (speed work
must not move them); the table is tests/support/data/grader_pins.json, made by
tests/support/grader_pins.py."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.grader_pins import PINS, cases, decisions


def test_palsy_check_decisions_match_the_pinned_table(london_dir: Path, tmp_path: Path) -> None:
    expected = json.loads(PINS.read_text())
    got = decisions(cases(london_dir, tmp_path))
    assert got.keys() == expected.keys()
    changed = {name: (expected[name], got[name]) for name in got if got[name] != expected[name]}
    assert not changed, changed
    # The table covers what it claims: findings on both sides, calm faces, a retake.
    tiers = {row["tier"] for row in expected.values()}
    assert {"no_signs", "urgent", "emergency"} <= tiers
    assert {row["side"] for row in expected.values()} >= {"left", "right"}

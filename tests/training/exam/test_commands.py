"""The exam's fitting and person-grouped evaluation, end to end on a few London people."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from model.decision.exam import ExamParams
from training.__main__ import main

pytestmark = pytest.mark.data


def test_fit_and_evaluate_exam_commands(london_dir: Path, tmp_path: Path) -> None:
    common = ["--london", str(london_dir), "--cache", str(tmp_path / "cache"), "--limit", "6"]
    out = tmp_path / "exam.json"
    assert main(["fit-exam", *common, "--out", str(out), "--version", "t-1"]) == 0
    params = ExamParams.load(out)
    assert params.version == "t-1" and params.fitted["people"] == 6
    assert params.min_smile > 0 and params.same_person_max > 0
    card = tmp_path / "card.md"
    args = ["evaluate-exam", *common, "--out", str(tmp_path / "eval"), "--folds", "3"]
    assert main([*args, "--card", str(card)]) == 0
    report = json.loads((tmp_path / "eval" / "exam_evaluation.json").read_text())
    assert report["healthy_pairs"]["pairs"] == 6
    assert set(report["smile_failure"]) == {"0.25", "0.5", "0.75", "1.0"}
    assert report["identical_smile_refused"] == 1.0
    assert "Person-grouped cross-validation" in card.read_text()
    missing = ["--london", str(tmp_path), "--out", str(tmp_path / "x")]
    assert main(["fit-exam", *missing, "--version", "v"]) == main(["evaluate-exam", *missing]) == 2

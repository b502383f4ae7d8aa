"""The grader's fitting and person-grouped evaluation, end to end on a small synthetic set.

Face images: DeBruine & Jones (2017), Face Research Lab London Set, CC BY 4.0 (warped on the fly).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from model.decision.grader import Grader
from training import grader as tg
from training.grader_commands import evaluate, fit, load_rows
from training.synth import build

pytestmark = pytest.mark.data
PEOPLE = 6


@pytest.fixture(scope="module")
def synth(london_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth")
    build(london_dir, out, variants=1, seed=5, workers=1, limit=PEOPLE)
    return out


def test_folds_keep_each_person_on_one_side() -> None:
    people = [f"{i:03d}" for i in range(17)]
    folds = tg.person_folds(people * 3, k=5, seed=1)
    assert sorted(p for fold in folds for p in fold) == sorted(people)
    assert all(not (a & b) for i, a in enumerate(folds) for b in folds[i + 1 :])


def test_evaluation_reports_every_figure_and_fit_writes_a_loadable_grader(
    london_dir: Path, synth: Path, tmp_path: Path
) -> None:
    card = tmp_path / "card.md"
    report = evaluate(london_dir, synth, tmp_path / "eval", tmp_path / "cache", None, 3,
                      PEOPLE, card)  # fmt: skip
    saved = json.loads((tmp_path / "eval" / "grader_evaluation.json").read_text())
    assert saved["data"]["people"] == PEOPLE
    for variant in ("without_cnn", "with_cnn"):
        healthy = saved[variant]["healthy_real"]
        assert healthy["photos"] == 2 * PEOPLE
        assert healthy["no_signs"] + healthy["unclear"] + healthy["finding"] == pytest.approx(1)
        palsy = saved[variant]["palsy_synthetic"]
        assert set(palsy) >= {"mild_any", "moderate_any", "severe_any", "all"}
    assert set(report["without_cnn"]["recovery"]) == {"mouth", "brow", "eye"}
    text = card.read_text()
    assert "Person-grouped cross-validation" in text and "| healthy London photos |" in text
    # The calibration, measured on held-out people, with its reliability table in the card.
    cal = saved["calibration"]
    assert cal["verdict_on_top"] == cal["photos"] == len(tg.usable(load_rows(
        london_dir, synth, tmp_path / "cache", None, PEOPLE)[0]))  # fmt: skip
    assert 0.0 <= cal["top_class"]["ece"] <= 1.0 and 0.0 < cal["prior_palsy"] < 1.0
    assert sum(r["photos"] for r in cal["top_class"]["reliability"]) == cal["photos"]
    assert "## How sure" in text and "| top-class probability | photos |" in text

    out = tmp_path / "grader.json"
    params = fit(london_dir, synth, out, tmp_path / "cache", "test-1", False, None, PEOPLE)
    loaded = Grader.load(out).params
    assert loaded == params and loaded.fitted["rows"]["people"] == PEOPLE
    assert loaded.fitted["rows"]["healthy_real"] == 2 * PEOPLE
    assert loaded.calibration is not None and loaded.calibration.fitted["folds"] >= 3


def test_rows_are_cached_by_content(london_dir: Path, synth: Path, tmp_path: Path) -> None:
    first, _ = load_rows(london_dir, synth, tmp_path, None, 2)
    assert len(list(tmp_path.glob("grader-rows-*.json"))) == 1
    again, _ = load_rows(london_dir, synth, tmp_path, None, 2)
    assert [r.asym for r in again] == [r.asym for r in first]

"""`palsy-train evaluate-grader` and `fit-grader`, end to end on a small synthetic set: the
person-grouped figures, the card, a loadable grader, rows measured once.

Face images: DeBruine & Jones (2017), Face Research Lab London Set, CC BY 4.0 (warped on the fly).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from model.decision.grader import Grader
from training.__main__ import main
from training.grader.data import load_rows, usable

pytestmark = pytest.mark.data


def test_evaluation_reports_every_figure_and_fit_writes_a_loadable_grader(
    london_dir: Path, tiny_synth: Path, tiny_people: int, tmp_path: Path
) -> None:
    card = tmp_path / "card.md"
    common = ["--london", str(london_dir), "--synth", str(tiny_synth),
              "--cache", str(tmp_path / "cache"), "--limit", str(tiny_people)]  # fmt: skip
    args = ["evaluate-grader", *common, "--out", str(tmp_path / "eval"), "--folds", "3"]
    assert main([*args, "--card", str(card)]) == 0
    saved = json.loads((tmp_path / "eval" / "grader_evaluation.json").read_text())
    assert saved["data"]["people"] == tiny_people
    for variant in ("without_cnn", "with_cnn"):
        healthy = saved[variant]["healthy_real"]
        assert healthy["photos"] == 2 * tiny_people
        assert healthy["no_signs"] + healthy["unclear"] + healthy["finding"] == pytest.approx(1)
        palsy = saved[variant]["palsy_synthetic"]
        assert set(palsy) >= {"mild_any", "moderate_any", "severe_any", "all"}
    assert set(saved["without_cnn"]["recovery"]) == {"mouth", "brow", "eye"}
    text = card.read_text()
    assert "Person-grouped cross-validation" in text and "| healthy London photos |" in text
    # The calibration, measured on held-out people, with its reliability table in the card.
    cal = saved["calibration"]
    rows, _ = load_rows(london_dir, tiny_synth, tmp_path / "cache", None, tiny_people)
    assert cal["verdict_on_top"] == cal["photos"] == len(usable(rows))
    assert 0.0 <= cal["top_class"]["ece"] <= 1.0 and 0.0 < cal["prior_palsy"] < 1.0
    assert sum(r["photos"] for r in cal["top_class"]["reliability"]) == cal["photos"]
    assert "## How sure" in text and "| top-class probability | photos |" in text

    out = tmp_path / "grader.json"
    assert main(["fit-grader", *common, "--out", str(out), "--version", "test-1"]) == 0
    loaded = Grader.load(out).params
    assert loaded.version == "test-1" and loaded.fitted["rows"]["people"] == tiny_people
    assert loaded.fitted["rows"]["healthy_real"] == 2 * tiny_people
    assert (
        loaded.fitted["command"] == f"palsy-train fit-grader --synth {tiny_synth} --version test-1"
    )
    assert loaded.calibration is not None and loaded.calibration.fitted["folds"] >= 3
    # Both commands measured the same rows: once, then from the cache.
    assert len(list((tmp_path / "cache").glob("grader-rows-*.json"))) == 1


def test_features_are_chosen_by_name_and_unknown_ones_refused(
    london_dir: Path, tiny_synth: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["--london", str(london_dir), "--synth", str(tiny_synth),
              "--cache", str(tmp_path / "cache"), "--limit", "3"]  # fmt: skip
    out = tmp_path / "grader.json"
    args = ["fit-grader", *common, "--out", str(out), "--version", "t", "--features"]
    assert main([*args, "mouth,brow"]) == 0
    params = Grader.load(out).params
    assert (
        params.features == ("mouth", "brow") and "--features mouth,brow" in params.fitted["command"]
    )
    with pytest.raises(SystemExit):
        main([*args, "mouth,chin"])
    assert "unknown features ['chin']" in capsys.readouterr().err


def test_missing_data_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--london", str(tmp_path), "--synth", str(tmp_path), "--out", str(tmp_path / "o")]
    assert main(["evaluate-grader", *args]) == 2
    assert main(["fit-grader", *args, "--version", "v"]) == 2
    assert "no London set at" in capsys.readouterr().err


def test_rows_are_cached_by_content(london_dir: Path, tiny_synth: Path, tmp_path: Path) -> None:
    first, _ = load_rows(london_dir, tiny_synth, tmp_path, None, 2)
    assert len(list(tmp_path.glob("grader-rows-*.json"))) == 1
    again, _ = load_rows(london_dir, tiny_synth, tmp_path, None, 2)
    assert [r.asym for r in again] == [r.asym for r in first]

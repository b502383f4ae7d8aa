"""The grader: its file format, its decision rules, and the shipped grader on real faces.

Face images: DeBruine & Jones (2017), Face Research Lab London Set, CC BY 4.0 (warped on the fly).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from model.decision.grader import (
    DEFAULT_GRADER,
    Grader,
    GraderError,
    GraderParams,
    design_row,
)
from model.decision.triage import Tier
from model.pipeline import Screener
from tests.support.model_images import jpeg
from tests.support.palsy_photos import TEM_MOUTH_LEFT
from tests.support.palsy_photos import droop as _warped


@pytest.fixture(scope="module")
def shipped() -> GraderParams:
    return Grader.load().params


def test_shipped_parameters_say_what_fitted_them(shipped: GraderParams) -> None:
    assert shipped.version and shipped.fitted["data"] and shipped.fitted["command"]
    assert "London" in shipped.fitted["data"] and "synth" in shipped.fitted["data"]
    assert 0 < shipped.clear_below <= shipped.finding_at < 1
    assert GraderParams.from_json(shipped.to_json()) == shipped


@pytest.mark.parametrize(
    "broken",
    [
        {"weights": [[0.0]]},
        {"classes": ("mild_eye", "severe_eye")},
        {"features": ("nose_length",)},
        {"clear_below": 0.9, "finding_at": 0.1},
        {"cnn_classes": ("sleepy_eye",)},
    ],
)
def test_broken_parameters_are_refused_with_a_reason(
    shipped: GraderParams, broken: dict, tmp_path: Path
) -> None:
    path = tmp_path / "g.json"
    path.write_text(dataclasses.replace(shipped, **broken).to_json())
    with pytest.raises(GraderError):
        Grader.load(path)


def test_missing_or_foreign_file_is_a_grader_error(tmp_path: Path) -> None:
    with pytest.raises(GraderError, match="not found"):
        Grader.load(tmp_path / "none.json")
    (tmp_path / "x.json").write_text('{"format": "something-else"}')
    with pytest.raises(GraderError, match="palsy-grader"):
        Grader.load(tmp_path / "x.json")


def _asym(shipped: GraderParams, **sizes: float) -> dict[str, float]:
    """Asymmetries at `sizes` times each feature's healthy scale (0 elsewhere). The lip's tilt
    is the corner height over the mouth's width: it moves with `mouth` unless given."""
    if "mouth" in sizes:
        sizes.setdefault("lip_tilt_deg", sizes["mouth"])
    return {f: sizes.get(f, 0.0) * shipped.healthy_scale[f] for f in shipped.healthy_scale}


def test_decisions_follow_the_thresholds_and_the_sides(shipped: GraderParams) -> None:
    grader = Grader(shipped)

    def decide(**sizes: float):  # type: ignore[no-untyped-def]
        asym = _asym(shipped, **sizes)
        row = design_row(asym, None, shipped)
        return grader.decide(grader.probabilities(row)[0].tolist(), asym)

    even = decide()
    assert even.decision == "no_signs" and even.label == "normal" and not even.observations
    left_mouth = decide(mouth=6.0)
    assert (left_mouth.decision, left_mouth.region, left_mouth.side) == ("finding", "mouth", "left")
    assert left_mouth.observations[0].measure == "mouth"
    assert left_mouth.observations[0].size_mm == pytest.approx(
        6 * shipped.healthy_scale["mouth"] * 63
    )
    decided = left_mouth.decided_by
    assert decided is not None and (decided.measure, decided.side) == ("mouth", "left")
    assert decided.relative == pytest.approx(6.0)  # six times the edge of the healthy range
    right_brow = decide(brow=-6.0, brow_lateral=-3.0)
    assert (right_brow.region, right_brow.side) == ("eye", "right")
    assert right_brow.decided_by is not None and right_brow.decided_by.measure == "brow"
    assert even.decided_by is None  # no finding: nothing decided a side
    # P(palsy) rises with the droop: none, then (possibly) unclear, then a finding.
    p = [decide(mouth=k).p_palsy for k in (0.0, 1.0, 2.0, 4.0)]
    assert p == sorted(p)


def test_severe_needs_more_than_any_healthy_fitting_face(shipped: GraderParams) -> None:
    capped = Grader(dataclasses.replace(shipped, severe_floor=1000.0))
    asym = _asym(shipped, mouth=12.0)
    row = design_row(asym, None, shipped)
    probs = capped.probabilities(row)[0].tolist()
    assert Grader(shipped).decide(probs, asym).severity == "severe"
    assert capped.decide(probs, asym).severity == "moderate"


@pytest.fixture(scope="module")
def screener() -> Screener:
    return Screener()


def test_healthy_london_faces_hear_no_signs_and_never_an_emergency(
    screener: Screener, london_dir: Path
) -> None:
    # In-sample for the shipped grader (it was fitted on these people): the honest, held-out
    # figures are the card's cross-validation; this pins that serving reproduces the fit.
    photos = sorted((london_dir / "neutral").glob("*_03.jpg"))[::3]
    photos += sorted((london_dir / "smiling").glob("*_08.jpg"))[1::3]
    results = [screener.screen(p.read_bytes()) for p in photos]
    calm = sum(r.label == "normal" for r in results)
    assert calm >= 0.95 * len(results)
    assert not any(r.tier is Tier.EMERGENCY for r in results)


def test_a_strong_left_mouth_droop_is_found_on_the_left_and_mirrors_to_the_right(
    screener: Screener, london_neutral: list[Path]
) -> None:
    assert DEFAULT_GRADER.is_file()
    for person in (7, 50):
        rgb = _warped(london_neutral[person], {(TEM_MOUTH_LEFT,): 0.3})
        plain = screener.screen(jpeg(rgb, 95))
        mirrored = screener.screen(jpeg(np.ascontiguousarray(rgb[:, ::-1]), 95))
        for result, side in ((plain, "left"), (mirrored, "right")):
            finding = result.finding
            assert finding is not None and result.status == "ok", result.to_dict()
            assert (finding.region, finding.side) == ("mouth", side)
            assert result.tier in (Tier.URGENT, Tier.EMERGENCY)
            assert finding.observations[0].side == side

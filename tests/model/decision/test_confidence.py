"""How sure the screen is: calibrated probabilities agree with the verdict on every path.

Property tests on the shipped grader and exam parameters (generated measure vectors and raw
probability vectors), and the real Screener on fixtures forced down each path (a pass-through
grader over a tiny classifier whose bias picks the outcome).
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.decision.confidence import (
    BANDS,
    MARGIN,
    CalibrationError,
    Confidence,
    GraderCalibration,
    Platt,
    band_of,
    on_top,
)
from model.decision.exam import ExamParams
from model.decision.grader import Graded, Grader, GraderError, GraderParams, design_row
from model.labels import NORMAL
from model.pipeline import Screener
from tests.support.model_images import jpeg, london
from tests.support.onnx_fixtures import build_passthrough_grader, build_tiny_classifier

GRADER = Grader.load()
EXAM = ExamParams.load()
SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_agrees(graded: Graded) -> None:
    """The verdict's class(es) on top, by at least the margin; a proper distribution; the
    confidence about the same answer."""
    probs, finding, conf = graded.probabilities, graded.finding, graded.confidence
    assert math.isclose(sum(probs.values()), 1.0, abs_tol=1e-9)
    assert all(0.0 <= p <= 1.0 for p in probs.values())
    order = sorted(probs, key=lambda c: -probs[c])
    if finding.decision == "no_signs":
        named = [NORMAL]
        assert conf.about == "no_signs" and conf.value == probs[NORMAL] > 0.5
    elif finding.decision == "finding":
        named = [finding.label]
        assert conf.about == "signs" and conf.value == pytest.approx(1 - probs[NORMAL])
        assert conf.value > 0.5
    else:
        assert finding.torn is not None and finding.label is None
        named = [NORMAL, finding.torn]
        assert conf.about == "unclear" and conf.band == "not_sure" and conf.value >= 0.5
    assert set(order[: len(named)]) == set(named), (finding, probs)
    lowest = min(probs[c] for c in named)
    assert all(probs[c] <= lowest - MARGIN + 1e-12 for c in order[len(named) :])
    # Rounded as JSON and the database keep them: the order survives.
    rounded = {c: round(p, 4) for c, p in probs.items()}
    assert set(sorted(rounded, key=lambda c: -rounded[c])[: len(named)]) == set(named)


sizes = st.floats(-12.0, 12.0, allow_nan=False)


@SETTINGS
@given(st.lists(sizes, min_size=len(GRADER.params.features), max_size=len(GRADER.params.features)))
def test_generated_measures_agree_with_the_verdict(values: list[float]) -> None:
    params = GRADER.params
    asym = {f: v * params.healthy_scale[f] for f, v in zip(params.features, values, strict=True)}
    asym |= {f: 0.0 for f in params.healthy_scale if f not in asym}
    probs = GRADER.probabilities(design_row(asym, None, params))[0]
    assert_agrees(GRADER.graded(probs.tolist(), asym))


raw_vectors = st.lists(st.floats(1e-6, 1.0), min_size=7, max_size=7).map(
    lambda v: (np.asarray(v) / np.sum(v)).tolist()
)


@SETTINGS
@given(raw_vectors, st.lists(sizes, min_size=3, max_size=3))
def test_any_raw_probabilities_agree_with_the_verdict(raw: list[float], m: list[float]) -> None:
    """Every corner of the simplex, including those the fitted weights never reach: the finding
    class far from the most probable, tiny class shares, near-ties."""
    params = GRADER.params
    asym = dict.fromkeys(params.healthy_scale, 0.0)
    asym |= {
        "mouth": m[0] * params.healthy_scale["mouth"],
        "brow": m[1] * params.healthy_scale["brow"],
    }
    asym["brow_lateral"] = m[2] * params.healthy_scale["brow_lateral"]
    assert_agrees(GRADER.graded(raw, asym))


@SETTINGS
@given(st.floats(0.0, 1.0), st.booleans())
def test_the_exam_pattern_and_its_confidence_agree(p_weak: float, brows: bool) -> None:
    calibration = EXAM.calibration
    assert calibration is not None
    if p_weak < EXAM.clear_below:
        pattern = "none"
    elif p_weak < EXAM.finding_at:
        pattern = "unclear"
    else:
        pattern = "stroke_type" if brows else "lower_face"
    conf = calibration.confidence(pattern, p_weak)
    assert conf.value >= 0.5
    want = {"none": "no_signs", "unclear": "unclear"}.get(pattern, "signs")
    assert conf.about == want
    assert (conf.band == "not_sure") or pattern != "unclear"


def test_bands_and_numbers_say_the_same() -> None:
    assert [band_of(n) for n in range(11)] == ["not_sure"] * 7 + ["fairly_sure"] * 2 + [
        "very_sure"
    ] * 2
    assert band_of(10, decided=False) == "not_sure"
    assert [b for b, _ in BANDS] == ["very_sure", "fairly_sure", "not_sure"]
    c = Confidence("no_signs", 0.8349, 0.17)
    assert (c.in_10, c.band) == (8, "fairly_sure")
    sure = Confidence("signs", 0.999, 0.17)
    assert (sure.in_10, sure.band) == (9, "very_sure")  # never "10 in 10"
    assert c.words() == "fairly sure, 8 in 10 that there are no signs"
    assert c.to_dict() == {"band": "fairly_sure", "value": 0.8349, "in_10": 8,
                           "about": "no_signs", "leaning": None, "prior": 0.17}  # fmt: skip
    torn = Confidence.of(0.4, "unclear", 0.17)
    assert (torn.band, torn.in_10, torn.leaning) == ("not_sure", 6, "signs")
    assert torn.words() == "not sure, 6 in 10 that there are signs"


def test_on_top_lifts_the_verdict_and_keeps_a_distribution() -> None:
    probs = {"normal": 0.5, "mild_mouth": 0.1, "severe_eye": 0.4}
    assert on_top(probs, ["normal"]) == probs  # already on top: untouched
    lifted = on_top(probs, ["mild_mouth"])
    assert max(lifted, key=lifted.__getitem__) == "mild_mouth"
    assert math.isclose(sum(lifted.values()), 1.0)
    assert lifted["normal"] <= lifted["mild_mouth"] - MARGIN + 1e-12
    pair = on_top({"a": 0.05, "b": 0.3, "c": 0.35, "d": 0.3}, ["a", "b"])
    assert min(pair["a"], pair["b"]) >= max(pair["c"], pair["d"]) + MARGIN - 1e-12


def test_shipped_calibration_is_stated_and_consistent() -> None:
    cal = GRADER.calibration
    assert 0.0 < cal.prior_palsy < 0.5 and cal.fitted["folds"] >= 3
    # The even bet sits between the thresholds.
    assert (
        cal.p_normal(1 - GRADER.params.clear_below)
        > 0.5
        > cal.p_normal(1 - GRADER.params.finding_at)
    )
    assert EXAM.calibration is not None and 0.0 < EXAM.calibration.prior_weak < 0.5


@pytest.mark.parametrize(
    "broken",
    [
        {"normal": Platt(-1.0, 0.0)},
        {"prior_palsy": 0.999},  # no signs would come with P(normal) < 1/2
        {"prior_palsy": 1e-6},  # a finding would come with P(normal) > 1/2
        {"temperature": 0.0},
    ],
)
def test_calibration_that_could_disagree_is_refused(broken: dict, tmp_path: Path) -> None:
    params = GRADER.params
    assert params.calibration is not None
    bad = dataclasses.replace(params, calibration=dataclasses.replace(params.calibration, **broken))
    path = tmp_path / "g.json"
    path.write_text(bad.to_json())
    with pytest.raises(GraderError):
        Grader.load(path)
    with pytest.raises(CalibrationError):
        bad.calibration.check(params.clear_below, params.finding_at, "test")  # type: ignore[union-attr]


def test_a_grader_without_calibration_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "g.json"
    path.write_text(dataclasses.replace(GRADER.params, calibration=None).to_json())
    with pytest.raises(GraderError, match="calibration"):
        Grader.load(path)
    raw = GraderParams.from_json  # the old format is refused by name
    with pytest.raises(GraderError, match="palsy-grader/3"):
        raw(GRADER.params.to_json().replace("palsy-grader/3", "palsy-grader/2"))


def test_uncalibrated_puts_the_even_bet_between_the_thresholds() -> None:
    cal = GraderCalibration.uncalibrated(0.5, 0.9)
    cal.check(0.5, 0.9, "test")
    assert cal.p_normal(0.5) > 0.5 > cal.p_normal(0.1)


@pytest.fixture(scope="module")
def face_jpeg(london_neutral: list[Path]) -> bytes:
    return jpeg(london(london_neutral[5]))


@pytest.fixture(scope="module")
def screeners(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Screener]:
    """Real Screeners forced down each path: no signs, a finding, unclear (no bias: P(palsy)
    6/7, between the pass-through grader's thresholds)."""
    root = tmp_path_factory.mktemp("paths")
    grader = build_passthrough_grader(root / "g.json")
    biases = {"no_signs": {NORMAL: 6.0}, "finding": {"severe_mouth": 6.0}, "unclear": None}
    return {
        name: Screener(build_tiny_classifier(root / f"{name}.onnx", bias=bias), grader_path=grader)
        for name, bias in biases.items()
    }


def test_every_path_of_a_real_screen_agrees(
    screeners: dict[str, Screener], face_jpeg: bytes
) -> None:
    for path, screener in screeners.items():
        result = screener.screen(face_jpeg)
        assert result.finding is not None and result.finding.decision == path
        assert result.confidence is not None
        graded = Graded(result.probabilities, result.finding, result.confidence)
        assert_agrees_rounded(graded)
        top = next(iter(result.probabilities))
        assert top == {"no_signs": NORMAL, "finding": "severe_mouth"}.get(path, top)
        assert result.to_dict()["confidence"]["band"] == result.confidence.band


def assert_agrees_rounded(graded: Graded) -> None:
    """As `assert_agrees`, on the rounded values a result carries."""
    probs, finding = graded.probabilities, graded.finding
    order = list(probs)  # best first
    named = {"no_signs": [NORMAL], "finding": [finding.label]}.get(
        finding.decision, [NORMAL, finding.torn]
    )
    assert set(order[: len(named)]) == set(named), (finding, probs)
    assert math.isclose(sum(probs.values()), 1.0, abs_tol=1e-3)


def test_a_rejected_photo_has_no_confidence(screeners: dict[str, Screener]) -> None:
    result = screeners["finding"].screen(b"not a photo")
    assert result.status == "rejected" and result.confidence is None
    assert result.to_dict()["confidence"] is None

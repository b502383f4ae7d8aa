"""The FAST exam (rest, smile, raised brows) on London pairs and warps of them.

Face images: DeBruine & Jones (2017), Face Research Lab London Set, CC BY 4.0 (warped on the fly).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from PIL import Image

from model.decision.exam import MOVEMENT, ExamError, ExamParams, StepMeasures, examine_steps
from model.decision.triage import Tier
from model.pipeline import Screener
from model.reasons import Reason
from tests.support.exam_photos import PERSON, exam_photos, smiles_under_camera_changes
from tests.support.model_images import jpeg

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def screener() -> Screener:
    return Screener()


@pytest.fixture(scope="module")
def photos(london_dir: Path, screener: Screener) -> dict[str, bytes]:
    return exam_photos(london_dir, screener)


def test_shipped_parameters_say_what_fitted_them() -> None:
    params = ExamParams.load()
    assert "London" in params.fitted["data"] and params.fitted["command"]
    assert "not calibrated" in params.fitted["brow_rule"]
    assert 0 < params.clear_below <= params.finding_at < 1 and params.min_smile > 0
    assert params.fitted["movement"][0] == "lift" and len(params.weights) == len(MOVEMENT)
    assert params.calibration is not None and params.calibration.fitted["folds"] >= 3


def test_broken_or_missing_parameters_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ExamError, match="not found"):
        ExamParams.load(tmp_path / "none.json")
    bad = dataclasses.replace(ExamParams.load(), clear_below=0.9, finding_at=0.1)
    (tmp_path / "bad.json").write_text(bad.to_json())
    with pytest.raises(ExamError, match="clear_below"):
        ExamParams.load(tmp_path / "bad.json")
    short = dataclasses.replace(ExamParams.load(), weights=[1.0])
    (tmp_path / "short.json").write_text(short.to_json())
    with pytest.raises(ExamError, match="weights"):
        ExamParams.load(tmp_path / "short.json")
    uncalibrated = dataclasses.replace(ExamParams.load(), calibration=None)
    (tmp_path / "raw.json").write_text(uncalibrated.to_json())
    with pytest.raises(ExamError, match="calibration"):
        ExamParams.load(tmp_path / "raw.json")


@pytest.mark.parametrize("person", ["002", "004", "010", "020"])
def test_a_healthy_rest_and_smile_is_no_signs(
    screener: Screener, london_dir: Path, person: str
) -> None:
    exam = screener.exam(
        (london_dir / "neutral" / f"{person}_03.jpg").read_bytes(),
        (london_dir / "smiling" / f"{person}_08.jpg").read_bytes(),
    )
    assert (exam.status, exam.pattern, exam.tier) == ("ok", "none", Tier.NO_SIGNS)
    assert exam.left is not None and exam.right is not None
    assert exam.left.lift > 0.05 and exam.right.lift > 0.05  # both corners rose > 3 mm


def test_a_smile_identical_to_rest_is_refused_never_called_healthy(
    screener: Screener, photos: dict[str, bytes]
) -> None:
    exam = screener.exam(photos["rest"], photos["rest"])
    assert (exam.status, exam.failed_step, exam.reason) == ("rejected", "smile", Reason.NO_SMILE)
    assert exam.tier is Tier.RETAKE and exam.pattern is None


def test_a_one_sided_smile_failure_is_found_on_its_side_and_a_mirror_swaps_it(
    screener: Screener, photos: dict[str, bytes]
) -> None:
    plain = screener.exam(photos["rest"], photos["failed"])
    mirrored = screener.exam(photos["rest_mirrored"], photos["failed_mirrored"])
    assert (plain.pattern, plain.weak_side, plain.tier) == ("lower_face", "right", Tier.EMERGENCY)
    assert (mirrored.pattern, mirrored.weak_side) == ("lower_face", "left")
    # How sure: about a weak side, more likely than not (the exam's calibrated P(weak)).
    for exam in (plain, mirrored):
        assert exam.confidence is not None and exam.confidence.about == "signs"
        assert exam.confidence.value > 0.5
    assert plain.right is not None and plain.left is not None
    assert plain.right.lift < plain.left.lift


def test_brows_tell_stroke_type_from_bells_type(
    screener: Screener, photos: dict[str, bytes]
) -> None:
    stroke = screener.exam(photos["rest"], photos["failed"], photos["brows_both"])
    assert (stroke.pattern, stroke.weak_side, stroke.tier) == (
        "stroke_type", "right", Tier.EMERGENCY,
    )  # fmt: skip
    # Only the strong (left) side's brow rises: the forehead is weak on the weak side too.
    bells = screener.exam(photos["rest"], photos["failed"], photos["brows_left_only"])
    assert (bells.pattern, bells.weak_side, bells.tier) == ("bells_type", "right", Tier.URGENT)
    sudden = screener.exam(photos["rest"], photos["failed"], photos["brows_left_only"], True)
    assert sudden.tier is Tier.EMERGENCY  # any sudden droop, whatever the pattern


def test_brows_not_raised_repeats_only_that_step(
    screener: Screener, photos: dict[str, bytes]
) -> None:
    exam = screener.exam(photos["rest"], photos["smile"], photos["rest"])
    assert (exam.status, exam.failed_step, exam.reason) == (
        "rejected", "brows", Reason.NO_BROW_RAISE,
    )  # fmt: skip


def test_a_failed_photo_fails_its_own_step_with_its_reason(
    screener: Screener, photos: dict[str, bytes]
) -> None:
    blank = jpeg(Image.new("RGB", (800, 600), (200, 190, 180)))
    exam = screener.exam(photos["rest"], blank)
    assert (exam.failed_step, exam.reason) == ("smile", Reason.NO_FACE)
    assert screener.exam(b"", photos["smile"]).failed_step == "rest"


def test_own_smile_under_camera_changes_is_kept_and_some_other_people_are_refused(
    screener: Screener, london_dir: Path
) -> None:
    rest = (london_dir / "neutral" / f"{PERSON}_03.jpg").read_bytes()
    for kind, smile in smiles_under_camera_changes(london_dir, screener).items():
        exam = screener.exam(rest, smile)
        assert exam.reason is not Reason.NOT_SAME_PERSON, kind
    others = sorted((london_dir / "smiling").glob("*_08.jpg"))[20:30]
    refused = [screener.exam(rest, p.read_bytes()).reason is Reason.NOT_SAME_PERSON for p in others]
    # A weak check, stated as such: the card's cross-validated figure is ~23 %.
    assert sum(refused) >= 1, refused


def test_palsy_check_runs_the_exam(
    london_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from model.__main__ import main

    rest = london_dir / "neutral" / f"{PERSON}_03.jpg"
    smile = london_dir / "smiling" / f"{PERSON}_08.jpg"
    assert main(["--exam", "--json", str(rest), str(smile)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["status"], out["pattern"], out["tier"]) == ("ok", "none", "no_signs")
    assert out["left"]["lift_mm"] > 3 and set(out["steps"]) == {"rest", "smile"}
    assert out["confidence"]["about"] == "no_signs" and out["confidence"]["value"] > 0.5
    assert out["confidence"]["in_10"] == min(9, round(10 * out["confidence"]["value"]))
    assert main(["--exam", str(rest), str(smile)]) == 0
    text = capsys.readouterr().out
    said, _, details = text.partition("details:")
    assert "Both sides of the smile moved about the same." in said and "mm" not in said
    assert "mm" in details  # each side's movement, for the reader who wants it
    sure = [line.strip() for line in text.splitlines() if line.strip().startswith("how sure:")]
    assert len(sure) == 1 and "in 10 that there are no signs in the smile" in sure[0]
    assert main(["--exam", str(rest)]) == 2


def test_stored_steps_give_the_photo_exam_after_a_json_round_trip(
    screener: Screener, photos: dict[str, bytes]
) -> None:
    """What the bot keeps instead of photos (StepMeasures as JSON) decides the same exam."""
    names = {"rest": "rest", "smile": "failed", "brows": "brows_left_only"}
    steps = {}
    for step, photo in names.items():
        result, kept = screener.exam_step(photos[photo])
        assert kept is not None and kept.status == result.status
        steps[step] = StepMeasures.from_dict(json.loads(json.dumps(kept.to_dict())))
    direct = screener.exam(*(photos[p] for p in names.values()))
    stored = examine_steps(screener.exam_params, steps)
    assert (stored.pattern, stored.weak_side, stored.tier) == (
        direct.pattern, direct.weak_side, direct.tier,
    ) == ("bells_type", "right", Tier.URGENT)  # fmt: skip
    assert stored.left is not None and direct.left is not None
    assert stored.left.lift == pytest.approx(direct.left.lift, abs=1e-3)
    assert stored.p_weak == pytest.approx(direct.p_weak, abs=1e-3)
    assert all(step.expression is not None for step in steps.values())
    # A step stored before expression scores were kept still gives an exam (on the lift).
    older = {k: dataclasses.replace(v, expression=None) for k, v in steps.items()}
    assert examine_steps(screener.exam_params, older).status == "ok"
    # Brows skipped: the weak lower face alone is the emergency pattern.
    skipped = examine_steps(screener.exam_params, {k: steps[k] for k in ("rest", "smile")})
    assert (skipped.pattern, skipped.tier) == ("lower_face", Tier.EMERGENCY)
    assert screener.exam_step(b"not a photo")[1] is None
    with pytest.raises(ValueError):
        StepMeasures.from_dict({"status": "ok", "shape": [1.0], "measures": {}})

"""triage(): the whole decision table, row by row."""

from __future__ import annotations

import pytest

from model.decision.triage import Tier, exam_tier, triage

E, U, S, N, R = Tier.EMERGENCY, Tier.URGENT, Tier.SOON, Tier.NO_SIGNS, Tier.RETAKE

# label (None: rejected or unclear), sudden onset -> tier
TABLE = [
    (None, None, R),
    (None, True, R),
    (None, False, R),
    ("severe_eye", None, E),
    ("severe_mouth", False, E),
    ("severe_mouth", True, E),
    ("moderate_eye", None, U),
    ("moderate_mouth", False, U),
    ("moderate_mouth", True, E),
    ("mild_eye", None, S),
    ("mild_mouth", False, S),
    ("mild_eye", True, E),
    ("normal", None, N),
    ("normal", False, N),
    ("normal", True, N),
]


@pytest.mark.parametrize(("label", "sudden", "tier"), TABLE)
def test_table(label: str | None, sudden: bool | None, tier: Tier) -> None:
    assert triage(label, sudden) is tier


def test_unknown_label_is_an_error_not_a_tier() -> None:
    with pytest.raises(ValueError, match="unknown class"):
        triage("sleepy_eye")


@pytest.mark.parametrize("sudden", [None, False, True])
def test_exam_tiers_never_fall_below_the_resting_photo(sudden: bool | None) -> None:
    assert exam_tier("stroke_type", "normal", sudden) is E
    assert exam_tier("lower_face", None, sudden) is E  # forehead not tested: could be a stroke
    assert exam_tier("bells_type", "normal", sudden) is (E if sudden else U)
    assert exam_tier("none", "normal", sudden) is N
    assert exam_tier("none", "severe_mouth", sudden) is E  # the resting photo's own finding
    assert exam_tier("unclear", None, sudden) is (E if sudden else R)
    assert exam_tier("unclear", "mild_eye", sudden) is (E if sudden else S)
    # A Bell's-type pattern never lowers the resting photo's own tier.
    assert exam_tier("bells_type", "severe_mouth", sudden) is E
    assert exam_tier("bells_type", "mild_mouth", sudden) is (E if sudden else U)


def test_a_face_the_grader_could_not_clear_is_an_emergency_if_sudden() -> None:
    assert triage(None, True, unclear=True) is E
    assert triage(None, None, unclear=True) is R and triage(None, False, unclear=True) is R
    assert triage(None, True) is R  # never reached the grader: a retake, with the emergency line

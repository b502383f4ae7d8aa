"""triage(): the whole decision table, row by row."""

from __future__ import annotations

import pytest

from model.triage import MIN_CONFIDENCE, Tier, triage

E, U, S, N, R = Tier.EMERGENCY, Tier.URGENT, Tier.SOON, Tier.NO_SIGNS, Tier.RETAKE

# label, top probability, sudden onset -> tier
TABLE = [
    # quality failure or decode failure: no label
    (None, None, None, R),
    (None, None, True, R),
    (None, 0.99, False, R),
    # confident findings, onset unknown / gradual / sudden
    ("severe_eye", 0.9, None, E),
    ("severe_mouth", 0.9, False, E),
    ("severe_mouth", 0.9, True, E),
    ("moderate_eye", 0.9, None, U),
    ("moderate_mouth", 0.9, False, U),
    ("moderate_mouth", 0.9, True, E),
    ("mild_eye", 0.9, None, S),
    ("mild_mouth", 0.9, False, S),
    ("mild_eye", 0.9, True, E),
    ("normal", 0.9, None, N),
    ("normal", 0.9, False, N),
    ("normal", 0.9, True, N),
    # the threshold itself is confident enough; just under it is not
    ("mild_mouth", MIN_CONFIDENCE, None, S),
    ("mild_mouth", MIN_CONFIDENCE - 1e-6, None, R),
    ("severe_eye", 0.3, True, R),
    ("normal", 0.2, None, R),
]


@pytest.mark.parametrize(("label", "p", "sudden", "tier"), TABLE)
def test_table(label: str | None, p: float | None, sudden: bool | None, tier: Tier) -> None:
    assert triage(label, p, sudden) is tier


def test_threshold_is_adjustable() -> None:
    assert triage("moderate_eye", 0.6, min_confidence=0.7) is R
    assert triage("moderate_eye", 0.6, min_confidence=0.4) is U


def test_unknown_label_is_an_error_not_a_tier() -> None:
    with pytest.raises(ValueError, match="unknown class"):
        triage("sleepy_eye", 0.9)

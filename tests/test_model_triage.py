"""triage(): the whole decision table, row by row."""

from __future__ import annotations

import pytest

from model.triage import MIN_CONFIDENCE, Began, Sudden, Tier, onset_tier, triage

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


# --- onset: finding x "sudden?" x "when?" -----------------------------------------------------

Y, No, NS = Sudden.YES, Sudden.NO, Sudden.UNSURE
H, D, L = Began.HOURS, Began.DAYS, Began.LONGER
FINDINGS = {"severe_mouth": E, "moderate_eye": U, "mild_mouth": S, "normal": N}
# (sudden, when) -> tier for a severe, moderate, mild finding; written out, not computed.
ONSET_TABLE = {
    (Y, None): (E, E, E),
    (Y, H): (E, E, E),
    (Y, D): (E, E, E),
    (Y, L): (E, E, E),  # sudden is an emergency whenever it began
    (NS, None): (E, U, U),
    (NS, H): (E, E, E),
    (NS, D): (E, U, U),
    (NS, L): (E, U, U),  # "not sure" never below URGENT
    (No, None): (E, U, S),
    (No, H): (E, E, E),  # hours old: a stroke window, however it came on
    (No, D): (E, U, U),
    (No, L): (E, U, S),  # gradual and old: the finding's own tier
}


@pytest.mark.parametrize(("sudden", "began"), list(ONSET_TABLE))
@pytest.mark.parametrize("label", list(FINDINGS))
def test_onset_table(label: str, sudden: Sudden, began: Began | None) -> None:
    tier = onset_tier(label, 0.9, sudden, began)
    if FINDINGS[label] is N:
        assert tier is N  # no finding: nothing to escalate
        return
    severe, moderate, mild = ONSET_TABLE[(sudden, began)]
    assert tier is {"severe_mouth": severe, "moderate_eye": moderate, "mild_mouth": mild}[label]
    assert _ORDER_INDEX[tier] <= _ORDER_INDEX[FINDINGS[label]]  # never lowers


_ORDER_INDEX = {t: i for i, t in enumerate((E, U, S, N, R))}


def test_every_answer_pair_is_in_the_table() -> None:
    pairs = {(s, b) for s in Sudden for b in (None, *Began)}
    assert pairs == set(ONSET_TABLE)


def test_onset_uses_the_threshold_it_is_given() -> None:
    assert onset_tier("mild_eye", 0.6, Sudden.YES, min_confidence=0.7) is R
    assert onset_tier("mild_eye", 0.6, Sudden.YES, min_confidence=0.5) is E

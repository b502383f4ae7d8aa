"""triage(): the whole decision table, row by row."""

from __future__ import annotations

import pytest

from model.triage import Tier, triage

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

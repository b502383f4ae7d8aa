"""What a reply offers next and what is said at once, row by row."""

from __future__ import annotations

import pytest

from model.decision.followup import (
    Alert,
    message_alert,
    offers_closer_check,
    partial_exam_alert,
)
from model.decision.triage import Tier

E, U, S, N, R = Tier.EMERGENCY, Tier.URGENT, Tier.SOON, Tier.NO_SIGNS, Tier.RETAKE


@pytest.mark.parametrize(
    ("tier", "unclear", "offered"),
    [
        (E, False, False),  # nothing under an emergency may invite a delay
        (U, False, False),  # a doctor today
        (S, False, True),
        (N, False, True),  # "still worried? a closer check takes 1 minute"
        (R, True, True),  # no clear answer: when the face test helps most
        (R, False, False),  # not checked at all: a better photo first
    ],
)
def test_closer_check(tier: Tier, unclear: bool, offered: bool) -> None:
    assert offers_closer_check(tier, unclear) is offered


def test_messages_that_are_not_photos_always_carry_the_emergency_line() -> None:
    assert message_alert(distress=False) is Alert.LINE
    assert message_alert(distress=True) is Alert.FULL


@pytest.mark.parametrize(
    ("step", "tier", "pattern", "alert"),
    [
        ("rest", E, None, Alert.FULL),  # the person may stop after the first photo
        ("rest", U, None, Alert.NONE),
        ("rest", N, None, Alert.NONE),
        ("smile", N, "lower_face", Alert.LINE),  # weak on one side, brows not yet tested
        ("smile", E, "lower_face", Alert.LINE),
        ("smile", N, "none", Alert.NONE),
        ("smile", N, "unclear", Alert.NONE),
        ("brows", N, "stroke_type", Alert.NONE),  # the test is over: its whole reply follows
    ],
)
def test_an_unfinished_face_test_says_an_emergency_at_once(
    step: str, tier: Tier, pattern: str | None, alert: Alert
) -> None:
    assert partial_exam_alert(step, tier, pattern) is alert  # type: ignore[arg-type]

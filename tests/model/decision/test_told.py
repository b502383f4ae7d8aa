"""What a reply says was seen: one deciding measure, a second only beside it, sides by photo."""

from __future__ import annotations

import pytest

from model.decision.grader import Finding, Observation
from model.decision.told import Told, photo_side, told


def finding(decided: Observation | None, *seen: Observation, severity: str = "severe") -> Finding:
    region = "mouth" if decided is None or decided.measure.startswith(("mouth", "lip")) else "eye"
    side = decided.side if decided else "left"
    return Finding("finding", 0.99, region, severity, side, seen, decided)  # type: ignore[arg-type]


MOUTH_LEFT = Observation("mouth", "left", 0.1, 3.0)
BROW_LEFT = Observation("brow", "left", 0.06, 1.6)
BROW_RIGHT = Observation("brow", "right", 0.05, 1.3)
BROW_LEFT_INSIDE = Observation("brow", "left", 0.03, 0.8)


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        # The subject's left is on the right of an un-mirrored photo.
        (finding(MOUTH_LEFT, MOUTH_LEFT), Told("mouth", "right", "severe")),
        # A second measure on the same side, outside the healthy range: named too.
        (finding(MOUTH_LEFT, MOUTH_LEFT, BROW_LEFT), Told("mouth", "right", "severe", "brow")),
        # On the other side: not named (the "right eyebrow" under a left mouth droop).
        (finding(MOUTH_LEFT, MOUTH_LEFT, BROW_RIGHT), Told("mouth", "right", "severe")),
        # Inside the healthy range: not named.
        (finding(MOUTH_LEFT, MOUTH_LEFT, BROW_LEFT_INSIDE), Told("mouth", "right", "severe")),
        (
            finding(Observation("brow_lateral", "right", 0.1, 2.0), severity="moderate"),
            Told("brow", "left", "moderate"),
        ),
        (
            finding(Observation("lip_tilt_deg", "left", 3.0, 1.3), severity="mild"),
            Told("mouth", "right", "mild"),
        ),
    ],
)
def test_one_finding_and_a_second_only_beside_it(result: Finding, expected: Told) -> None:
    assert told(result) == expected


def test_no_finding_tells_nothing() -> None:
    assert told(None) is None
    assert told(Finding("no_signs", 0.1, observations=(MOUTH_LEFT,))) is None
    assert told(Finding("unclear", 0.9, observations=(MOUTH_LEFT,))) is None


def test_a_mirrored_photo_names_the_side_where_the_droop_is_in_it() -> None:
    # Mirroring flips the measured subject side; the photo side follows the picture.
    mirrored = Observation("mouth", "right", 0.1, 3.0)
    assert told(finding(MOUTH_LEFT, MOUTH_LEFT)).photo_side == "right"  # type: ignore[union-attr]
    assert told(finding(mirrored, mirrored)).photo_side == "left"  # type: ignore[union-attr]
    assert {photo_side("left"), photo_side("right")} == {"left", "right"}

"""What a reply says was seen: the one measure that decided a finding, in words, and a second
only when it too lies outside the healthy range on the same side.

Sides are named by where they are in the photo as sent ("the mouth corner on the left of the
photo"): a person can check that against the picture, and a mirrored selfie cannot make it
wrong. The measures take the subject's side as if the photo were not mirrored; a mirrored photo
flips them, and with them the side of the photo, which stays where the droop is. The tier never
depends on the side.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from model.decision.grader import Finding, Side
from model.labels import Severity

Part = Literal["mouth", "brow", "eye"]
# Measure -> the part of the face a sentence names (model.measures.asymmetry.FEATURES).
PART: dict[str, Part] = {
    "mouth": "mouth",
    "mouth_midline": "mouth",
    "lip_tilt_deg": "mouth",
    "eye": "eye",
    "eye_area": "eye",
    "brow": "brow",
    "brow_medial": "brow",
    "brow_lateral": "brow",
}


@dataclass(frozen=True)
class Told:
    part: Part  # the mouth corner sits lower, the eyebrow sits lower, the eye is more open
    photo_side: Side  # where that part is in the photo as sent
    size: Severity  # in words: slightly (mild), clearly (moderate), much (severe)
    also: Part | None = None  # a second part on the same side, also outside the healthy range


def photo_side(subject_side: Side) -> Side:
    """Where the subject's side is in an un-mirrored photo: their left is on its right."""
    return "right" if subject_side == "left" else "left"


def told(finding: Finding | None) -> Told | None:
    """The sentence's facts for a finding; None when there is no finding to tell."""
    if finding is None or finding.decision != "finding" or finding.severity is None:
        return None
    decided = finding.decided_by
    if decided is None:
        return None
    part = PART[decided.measure]
    also = next(
        (
            PART[o.measure]
            for o in finding.observations
            if PART[o.measure] != part and o.side == decided.side and o.relative > 1.0
        ),
        None,
    )
    return Told(part, photo_side(decided.side), finding.severity, also)

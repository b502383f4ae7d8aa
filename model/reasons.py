"""Reason codes for photos the screener refuses; the bot maps each to a retake tip."""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    # decoding
    EMPTY = "empty"
    NOT_IMAGE = "not_image"
    CORRUPT = "corrupt"
    TOO_MANY_BYTES = "too_many_bytes"
    TOO_MANY_PIXELS = "too_many_pixels"
    TOO_SMALL = "too_small"
    # quality gate
    NO_FACE = "no_face"
    MULTIPLE_FACES = "multiple_faces"
    FACE_TOO_SMALL = "face_too_small"
    TOO_DARK = "too_dark"
    OVEREXPOSED = "overexposed"
    BLURRY = "blurry"
    NOT_FRONTAL = "not_frontal"
    # the grader is torn between "no signs" and a finding
    LOW_CONFIDENCE = "low_confidence"
    # the FAST exam: an expression not made, or photos of different people
    NO_SMILE = "no_smile"
    NO_BROW_RAISE = "no_brow_raise"
    NOT_SAME_PERSON = "not_same_person"


class Rejected(Exception):
    """Raised inside the pipeline; the pipeline turns it into a 'rejected' result."""

    def __init__(self, reason: Reason, detail: str = "") -> None:
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)
        self.reason = reason
        self.detail = detail

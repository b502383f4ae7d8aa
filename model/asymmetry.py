"""Facial asymmetry measures from landmarks, in the spirit of Emotrics (Guarin et al., 2018).

Every measure is taken in the eye-line frame (origin midway between the pupils, x along the
pupil-to-pupil line, y perpendicular to it, pointing down the face) and divided by the
inter-pupil distance (IPD), so head roll, photo size and distance to the camera cancel out.

Sign convention: sides are the *subject's*, assuming an un-mirrored photo (the subject's left is
on the image's right). Signed measures are "subject's left minus subject's right", so mirroring
the photo flips their sign:

- `mouth`: height difference of the mouth corners; > 0: the left corner sits lower.
- `brow`: height difference of the upper brow edges (mean of five points); > 0: left brow lower.
- `eye`: palpebral fissure height (upper- to lower-lid middle) difference; > 0: left eye opens
  wider. Paralysis can narrow the fissure (brow ptosis) or widen it (lower-lid sag), so this
  measure alone does not say which side is weaker.
- `eye_ratio`: fissure height, smaller / larger (1 = symmetric).
- `<feature>_asymmetry` (|value|) and `<feature>_lower_side` ("left", "right" or "none"), for
  mouth, brow and eye: the side whose corner / brow sits lower, or whose eye is open less. This
  is what the bot puts into words.
- `weaker_side`: "left", "right" or "none": the side whose mouth corner and brow droop, judged
  on `mouth + brow / 2` against `WEAKER_SIDE_MIN`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from model.landmarks import KeyPoints, Side

# Droop score (IPD units) below which neither side is called weaker: 0.05 IPD is ~3 mm. Healthy
# faces (London neutral, 102): |mouth + brow / 2| median 0.014, 95th percentile 0.041, max 0.057.
WEAKER_SIDE_MIN = 0.05


def eye_line_frame(left_pupil: np.ndarray, right_pupil: np.ndarray):
    """Function mapping image points (..., 2) to the eye-line frame in IPD units."""
    left = np.asarray(left_pupil, np.float64)
    right = np.asarray(right_pupil, np.float64)
    dx, dy = right - left
    ipd = math.hypot(dx, dy)
    if not math.isfinite(ipd) or ipd < 1e-6:
        raise ValueError("pupils coincide: no eye line")
    cos, sin = dx / ipd, dy / ipd
    # Rows: unit x along the eye line, unit y perpendicular (pointing down when upright).
    basis = np.array([[cos, sin], [-sin, cos]]) / ipd
    mid = (left + right) / 2

    def to_frame(points: np.ndarray) -> np.ndarray:
        return (np.asarray(points, np.float64) - mid) @ basis.T

    return to_frame


def measures(kp: KeyPoints) -> dict[str, float | str]:
    """The measures above, for key points in image pixels (see `model.landmarks.key_points`)."""
    frame = eye_line_frame(kp.image_left.pupil, kp.image_right.pupil)
    # Un-mirrored photo: the subject's left is the image's right.
    subj_left, subj_right = kp.image_right, kp.image_left

    def height(point: np.ndarray) -> float:
        return float(frame(point)[1])

    def fissure(side: Side) -> float:
        upper, lower = frame(side.upper_lid), frame(side.lower_lid)
        return float(np.linalg.norm(lower - upper))

    mouth = height(subj_left.mouth_corner) - height(subj_right.mouth_corner)
    brow = height(subj_left.brow_mean) - height(subj_right.brow_mean)
    eye_left, eye_right = fissure(subj_left), fissure(subj_right)
    eye = eye_left - eye_right
    larger = max(eye_left, eye_right)
    out: dict[str, float | str] = {
        "mouth": mouth,
        "brow": brow,
        "eye": eye,
        "eye_ratio": min(eye_left, eye_right) / larger if larger > 0 else 1.0,
        "weaker_side": _side(mouth + brow / 2, WEAKER_SIDE_MIN),
    }
    # Positive mouth/brow: left is lower; positive eye: left is open wider, so right is less.
    for name, lower_when_positive in (("mouth", mouth), ("brow", brow), ("eye", -eye)):
        out[f"{name}_asymmetry"] = abs(lower_when_positive)
        out[f"{name}_lower_side"] = _side(lower_when_positive, 0.0)
    return out


def _side(left_minus_right: float, dead_zone: float) -> str:
    """ "left" when positive, "right" when negative, "none" within the dead zone."""
    if abs(left_minus_right) <= dead_zone:
        return "none"
    return "left" if left_minus_right > 0 else "right"

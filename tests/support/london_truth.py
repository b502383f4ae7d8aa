"""The London templates' hand-placed points, and the error of a mesh against them.

The templates (`.tem`, 189 points each) are read by training's reader (`training.synth.tem`,
which the synthesiser uses); model tests and benches read them through here, so nothing under
tests/model imports training/. One definition of the error for tests/model/face/test_landmarks.py,
bench/landmark_accuracy.py and bench/face_anchor.py:
error = distance to the template point / the template's inter-pupil distance.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from model.face.landmarks import KeyPoints
from training.synth.tem import (
    MOUTH_CORNER_IMAGE_LEFT,
    MOUTH_CORNER_IMAGE_RIGHT,
    PUPIL_IMAGE_LEFT,
    PUPIL_IMAGE_RIGHT,
    inter_pupil_distance,
    read_tem,
)

__all__ = [
    "BASELINE_ERROR", "MOUTH_CORNER_IMAGE_LEFT", "MOUTH_CORNER_IMAGE_RIGHT", "PUPIL_IMAGE_LEFT",
    "PUPIL_IMAGE_RIGHT", "TEM_POINTS", "errors", "four_points", "inter_pupil_distance",
    "read_tem", "template",
]  # fmt: skip

TEM_POINTS = [
    PUPIL_IMAGE_LEFT,
    PUPIL_IMAGE_RIGHT,
    MOUTH_CORNER_IMAGE_LEFT,
    MOUTH_CORNER_IMAGE_RIGHT,
]
# The mesh's mean error over the four points on the 102 neutral photos when the crop scale was
# chosen (model/assets/README.md); speed work must keep within 5 % of it.
BASELINE_ERROR = 0.0157


def template(photo: Path, scale: float = 1.0) -> tuple[np.ndarray, float]:
    """(4, 2) truth points and inter-pupil distance of `photo`'s template, times `scale`."""
    tem = read_tem(photo.with_suffix(".tem"))
    return tem[TEM_POINTS] * scale, inter_pupil_distance(tem) * scale


def four_points(kp: KeyPoints) -> np.ndarray:
    """Pupils and mouth corners of a mesh, in TEM_POINTS order."""
    left, right = kp.image_left, kp.image_right
    return np.array([left.pupil, right.pupil, left.mouth_corner, right.mouth_corner])


def errors(points: np.ndarray, truth: np.ndarray, ipd: float) -> np.ndarray:
    """(4,) distances in inter-pupil distances."""
    return np.linalg.norm(np.asarray(points) - truth, axis=1) / ipd

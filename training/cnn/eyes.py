"""Locate the eyes for `classifier_input` the way serving does: model.face.locate.FaceLocator;
with `align="midline"`, the two points levelled on the facial midline (`midline_eyes`)."""

from __future__ import annotations

import numpy as np

from model import Rejected
from model.face.locate import FaceLocator
from model.face.preprocess import midline_eyes


class EyeLocator:
    """`locator(rgb) -> (2, 2) eyes (image-left, image-right) or None when no face is found`.

    Same models and same choice as serving (`FaceLocator`, the largest face), without the
    quality gate: training keeps every photo with a face.
    """

    def __init__(self, align: str = "eyes") -> None:
        self._locator = FaceLocator()
        self.align = align

    def __call__(self, rgb: np.ndarray) -> np.ndarray | None:
        try:
            located = self._locator.locate(rgb)
        except Rejected:
            return None
        return midline_eyes(located.mesh) if self.align == "midline" else located.points.eyes

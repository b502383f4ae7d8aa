"""Locate the eyes for `classifier_input` the way serving does: model.face.locate.FaceLocator."""

from __future__ import annotations

import numpy as np

from model.face.locate import FaceLocator
from model.reasons import Rejected


class EyeLocator:
    """`locator(rgb) -> (2, 2) eyes (image-left, image-right) or None when no face is found`.

    Same models and same choice as serving (`FaceLocator`, the largest face), without the
    quality gate: training keeps every photo with a face.
    """

    def __init__(self) -> None:
        self._locator = FaceLocator()

    def __call__(self, rgb: np.ndarray) -> np.ndarray | None:
        try:
            return self._locator.locate(rgb).points.eyes
        except Rejected:
            return None

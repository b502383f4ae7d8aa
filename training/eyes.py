"""Locate the eyes for `classifier_input` the way serving does: model/'s detector and landmarks."""

from __future__ import annotations

import numpy as np

from model.faces import FaceDetector
from model.landmarks import LandmarkModel, key_points
from model.quality import main_face


class EyeLocator:
    """`locator(rgb) -> (2, 2) eyes (image-left, image-right) or None when no face is found`.

    Same models and same choice as serving: `main_face`, and `KeyPoints.eyes` from the face mesh.
    """

    def __init__(self) -> None:
        self._detector = FaceDetector()
        self._mesh = LandmarkModel()

    def __call__(self, rgb: np.ndarray) -> np.ndarray | None:
        faces = self._detector.detect(rgb)
        if not faces:
            return None
        return key_points(self._mesh.landmarks(rgb, main_face(faces))).eyes

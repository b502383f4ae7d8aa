"""Locate the eyes for `classifier_input` the way serving does: model/'s detector and landmarks."""

from __future__ import annotations

import numpy as np


class EyeLocator:
    """`locator(rgb) -> (2, 2) eyes (image-left, image-right) or None when no face is found`.

    Same models and same choice as serving: the best-scoring face, pupils from the face mesh.
    """

    def __init__(self) -> None:
        from model.faces import FaceDetector
        from model.landmarks import LandmarkModel, key_points

        self._detector = FaceDetector()
        self._mesh = LandmarkModel()
        self._key_points = key_points

    def __call__(self, rgb: np.ndarray) -> np.ndarray | None:
        faces = self._detector.detect(rgb)
        if not faces:
            return None
        kp = self._key_points(self._mesh.landmarks(rgb, faces[0]))
        return np.stack([kp.image_left.pupil, kp.image_right.pupil])

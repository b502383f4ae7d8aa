"""Find the one face and fit its mesh: the one face-location call for serving and training.

Serving passes the quality thresholds: the photo is gated (one face, big enough, lit, sharp) on
the detector's boxes before the mesh runs, and on the mesh's pose after. Training passes none:
it takes the largest face of any photo (`quality.main_face`, the face serving would keep).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from model.face.faces import Face, FaceDetector
from model.face.landmarks import KeyPoints, LandmarkModel, key_points
from model.face.quality import QualityThresholds, check_pose, check_quality, main_face
from model.reasons import Reason, Rejected


@dataclass(frozen=True)
class Located:
    mesh: np.ndarray  # (478, 2) pixels of the image given
    points: KeyPoints


class FaceLocator:
    """YuNet detector + MediaPipe mesh, one ONNX Runtime session each; thread-safe."""

    def __init__(self, threads: int = 1) -> None:
        self.detector = FaceDetector(threads=threads)
        self.mesh = LandmarkModel(threads=threads)

    def choose(
        self,
        rgb: np.ndarray,
        faces: list[Face],
        gate: QualityThresholds | None = None,
        scale: float = 1.0,
    ) -> Face:
        """The face to measure, or raise `Rejected`. With `gate`, the quality gate runs; `scale`
        (photo pixels per pixel of `rgb`) keeps `min_face_px` in the photo's own pixels."""
        if gate is None:
            if not faces:
                raise Rejected(Reason.NO_FACE)
            return main_face(faces)
        face, _ = check_quality(rgb, faces, replace(gate, min_face_px=gate.min_face_px / scale))
        return face

    def fit(self, rgb: np.ndarray, face: Face, gate: QualityThresholds | None = None) -> Located:
        """The mesh of `face`; with `gate`, refuses a turned or tilted head (`Rejected`)."""
        mesh = self.mesh.landmarks(rgb, face)
        points = key_points(mesh)
        if gate is not None:
            eyes = points.eyes
            check_pose(eyes[0], eyes[1], points.nose_tip, gate)
        return Located(mesh, points)

    def locate(
        self, rgb: np.ndarray, gate: QualityThresholds | None = None, scale: float = 1.0
    ) -> Located:
        """Detect, choose and fit in one call; raises `Rejected`."""
        return self.fit(rgb, self.choose(rgb, self.detector.detect(rgb), gate, scale), gate)

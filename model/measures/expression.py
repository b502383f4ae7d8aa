"""Expression scores per side of the face, from MediaPipe's blendshape model on the mesh.

The pinned face model bundle (`face_landmarker.task`, see `model/assets/README.md`) holds, besides
the mesh, `face_blendshapes.tflite` (converted to `assets/face_blendshapes.onnx`). It reads 146 of
the mesh's 478 points in image pixels (`SUBSET`, MediaPipe's `kLandmarksSubsetIdxs`; the model
normalises position and scale itself) and returns 52 scores in [0, 1]: how much of each
expression the face makes. Many come in pairs, one per side (`mouthSmileLeft/Right`,
`browOuterUpLeft/Right`, ...), which is what a one-sided palsy changes: a weak mouth corner
smiles, presses and stretches less, a weak brow rises less.

Sides are the *subject's*, as in `model.measures.asymmetry` (MediaPipe names them as ARKit does;
checked on warped London photos: a droop of the subject's left brow lowers `browOuterUpLeft`), so
mirroring a photo swaps them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.onnx_session import make_session

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "assets" / "face_blendshapes.onnx"

# MediaPipe's kLandmarksSubsetIdxs (face_blendshapes_graph.cc): the mesh points the model reads.
SUBSET = (
    0, 1, 4, 5, 6, 7, 8, 10, 13, 14, 17, 21, 33, 37, 39, 40, 46, 52, 53, 54, 55, 58, 61, 63,
    65, 66, 67, 70, 78, 80, 81, 82, 84, 87, 88, 91, 93, 95, 103, 105, 107, 109, 127, 132, 133,
    136, 144, 145, 146, 148, 149, 150, 152, 153, 154, 155, 157, 158, 159, 160, 161, 162, 163,
    168, 172, 173, 176, 178, 181, 185, 191, 195, 197, 234, 246, 249, 251, 263, 267, 269, 270,
    276, 282, 283, 284, 285, 288, 291, 293, 295, 296, 297, 300, 308, 310, 311, 312, 314, 317,
    318, 321, 323, 324, 332, 334, 336, 338, 356, 361, 362, 365, 373, 374, 375, 377, 378, 379,
    380, 381, 382, 384, 385, 386, 387, 388, 389, 390, 397, 398, 400, 402, 405, 409, 415, 454,
    466, 468, 469, 470, 471, 472, 473, 474, 475, 476, 477,
)  # fmt: skip
# The model's 52 outputs in order (kBlendshapeNames).
NAMES = (
    "_neutral", "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft",
    "browOuterUpRight", "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "eyeBlinkLeft",
    "eyeBlinkRight", "eyeLookDownLeft", "eyeLookDownRight", "eyeLookInLeft", "eyeLookInRight",
    "eyeLookOutLeft", "eyeLookOutRight", "eyeLookUpLeft", "eyeLookUpRight", "eyeSquintLeft",
    "eyeSquintRight", "eyeWideLeft", "eyeWideRight", "jawForward", "jawLeft", "jawOpen",
    "jawRight", "mouthClose", "mouthDimpleLeft", "mouthDimpleRight", "mouthFrownLeft",
    "mouthFrownRight", "mouthFunnel", "mouthLeft", "mouthLowerDownLeft", "mouthLowerDownRight",
    "mouthPressLeft", "mouthPressRight", "mouthPucker", "mouthRight", "mouthRollLower",
    "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper", "mouthSmileLeft", "mouthSmileRight",
    "mouthStretchLeft", "mouthStretchRight", "mouthUpperUpLeft", "mouthUpperUpRight",
    "noseSneerLeft", "noseSneerRight",
)  # fmt: skip
# Expressions scored per side, and the region a one-sided weakness of each belongs to. The
# eye-gaze pairs (eyeLook*) are left out: where a person looks is not a weakness.
PAIRED: dict[str, str] = {
    "browDown": "eye", "browOuterUp": "eye", "eyeBlink": "eye", "eyeSquint": "eye",
    "eyeWide": "eye", "cheekSquint": "mouth", "mouthDimple": "mouth", "mouthFrown": "mouth",
    "mouthLowerDown": "mouth", "mouthPress": "mouth", "mouthSmile": "mouth",
    "mouthStretch": "mouth", "mouthUpperUp": "mouth", "noseSneer": "mouth",
}  # fmt: skip
# Grader feature names: the size of each pair's left-right difference.
PREFIX = "expr_"
FEATURES: dict[str, str] = {PREFIX + name: region for name, region in PAIRED.items()}


@dataclass(frozen=True)
class Expression:
    """Paired expression scores of one face, per subject's side, each in [0, 1]."""

    left: dict[str, float]
    right: dict[str, float]

    def differences(self) -> dict[str, float]:
        """Grader features (`FEATURES`): left minus right score of each pair. The grader weighs
        their sizes only (which side a score moves on a weak side differs between pairs)."""
        return {PREFIX + name: self.left[name] - self.right[name] for name in PAIRED}

    def to_dict(self) -> dict[str, float]:
        """Flat and rounded, for JSON and the result log: `expr_left_mouthSmile`, ..."""
        out = {f"{PREFIX}left_{k}": v for k, v in self.left.items()}
        out |= {f"{PREFIX}right_{k}": v for k, v in self.right.items()}
        return {k: round(float(v), 4) for k, v in out.items()}

    @classmethod
    def from_scores(cls, scores: Mapping[str, float]) -> Expression:
        """From the model's named outputs (`NAMES` -> score)."""
        left = {name: float(scores[name + "Left"]) for name in PAIRED}
        right = {name: float(scores[name + "Right"]) for name in PAIRED}
        return cls(left, right)


class ExpressionModel:
    """The blendshape model in ONNX Runtime; `expression` is thread-safe."""

    def __init__(self, path: Path | None = None, threads: int = 1) -> None:
        self.path = Path(path) if path else DEFAULT_PATH
        self.session = make_session(self.path, threads)
        self.input_name = self.session.get_inputs()[0].name

    def scores(self, mesh: np.ndarray) -> dict[str, float]:
        """All 52 named scores for a 478-point mesh in image pixels."""
        points = np.asarray(mesh, np.float32)[list(SUBSET), :2][None]
        out = self.session.run(None, {self.input_name: points})[0].reshape(-1)
        return dict(zip(NAMES, out.astype(np.float64).tolist(), strict=True))

    def expression(self, mesh: np.ndarray) -> Expression:
        return Expression.from_scores(self.scores(mesh))

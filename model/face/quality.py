"""Quality gate: exactly one face, big enough, roughly frontal, well exposed and sharp.

`check_quality` runs on the detector's boxes, before the landmark model, so most bad photos cost
only decode + detect. `check_pose` runs on the face mesh: the detector's five keypoints are biased
towards upright (a face rolled 45 degrees reads as 14-27 degrees), the mesh's are not. Each
failure raises `Rejected` with its own reason, which the bot turns into a retake tip. Thresholds
were set on the London set (102 neutral + 102 smiling studio photos, 1350 px, face ~30 % of the
width) and degraded copies of them; see `QualityThresholds`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

import numpy as np
from PIL import Image

from model.face.affine import eye_line
from model.reasons import Reason, Rejected

LUMA = np.array([0.299, 0.587, 0.114], np.float32)  # ITU-R BT.601
SHARPNESS_SIZE = 128


class DetectedFace(Protocol):
    """What the gate needs of `model.face.faces.Face`."""

    @property
    def box(self) -> tuple[float, float, float, float]: ...


F = TypeVar("F", bound=DetectedFace)


@dataclass(frozen=True)
class QualityThresholds:
    # A second face counts when its box area is at least this share of the main face's:
    # a poster or a far-away passer-by does not make a selfie ambiguous.
    secondary_face_area: float = 0.25
    # Face box width. 120 px gives ~58 px between the pupils, so the classifier's 224 px crop
    # (3 pupil distances wide) is upsampled at most 1.3x; 15 % of the shorter side means "come
    # closer" for a face that is small in frame. London faces: 29-38 % of the side, 388-507 px.
    min_face_px: float = 120.0
    min_face_fraction: float = 0.15
    # Roll: eye-line angle from the mesh pupils. London (neutral and smiling): at most 8.7 deg.
    max_roll_deg: float = 20.0
    # Yaw proxy: the mesh nose tip's offset from the pupil midpoint along the eye line, in pupil
    # distances. About 0.55 tan(yaw), so 0.2 is ~20 degrees. London: at most 0.108.
    max_yaw: float = 0.2
    # 95th percentile of face luma: highlights, so dark skin in good light passes. London at
    # 960 px (102 faces): 99.9 at the least; at 70 % exposure 69.9 and up (all pass); at 30 %
    # 61.2 at most (all fail). The darkest-skinned faces set the lower bound: keep it low.
    min_highlight_luma: float = 62.0
    # Share of face pixels at luma >= 250. London: 0; at 2x exposure: 0.12 (5th pct) to 0.89.
    max_clipped_fraction: float = 0.2
    # The same two measures over the whole image, used only when no face is found. Highlights
    # share the face bound (a scene that dark has no usable face); clipping must cover half
    # the image, so a white wall or sky behind a missed face is not called "too bright".
    max_scene_clipped_fraction: float = 0.5
    # std(Laplacian) / std(grey) of the face centre resampled to 128 px, so neither face size
    # nor contrast moves it. London at 1350 px: 0.345 and up (0.22 and up with 100 px faces);
    # Gaussian blur sigma 2: 0.19-0.30, sigma 4: 0.166 at most. At 960 px (102 faces): sigma 1
    # all pass, sigma 2 45 pass, sigma 3 and 5 all fail.
    min_sharpness: float = 0.18


@dataclass(frozen=True)
class QualityMeasures:
    face_fraction: float
    highlight_luma: float
    clipped_fraction: float
    sharpness: float


def face_centre(rgb: np.ndarray, box: Sequence[float]) -> np.ndarray:
    """The inner part of a face box (mostly skin: no hair, background or ears), clipped."""
    x, y, w, h = box
    height, width = rgb.shape[:2]
    x0, x1 = max(0, int(x + 0.2 * w)), min(width, math.ceil(x + 0.8 * w))
    y0, y1 = max(0, int(y + 0.15 * h)), min(height, math.ceil(y + 0.85 * h))
    return rgb[y0:y1, x0:x1]


def pose(
    left_pupil: np.ndarray, right_pupil: np.ndarray, nose_tip: np.ndarray
) -> tuple[float, float]:
    """(roll in degrees, yaw proxy in pupil distances); sides are image sides."""
    left, right, nose = (np.asarray(p, np.float64) for p in (left_pupil, right_pupil, nose_tip))
    ipd, angle = eye_line(left, right)
    if ipd < 1e-6:
        return 90.0, math.inf
    along = (right - left) / ipd
    yaw = float(np.dot(nose - (left + right) / 2, along) / ipd)
    return math.degrees(angle), yaw


def check_pose(
    left_pupil: np.ndarray,
    right_pupil: np.ndarray,
    nose_tip: np.ndarray,
    thresholds: QualityThresholds = QualityThresholds(),
) -> None:
    """Raise `Rejected(NOT_FRONTAL)` when roll or yaw is out of bounds."""
    roll, yaw = pose(left_pupil, right_pupil, nose_tip)
    if abs(roll) > thresholds.max_roll_deg or abs(yaw) > thresholds.max_yaw:
        raise Rejected(Reason.NOT_FRONTAL, f"roll {roll:.1f} deg, yaw {yaw:.2f}")


def sharpness(grey: np.ndarray) -> float:
    small = Image.fromarray(grey).resize(
        (SHARPNESS_SIZE, SHARPNESS_SIZE), Image.Resampling.BILINEAR
    )
    g = np.asarray(small, np.float32)
    lap = 4 * g[1:-1, 1:-1] - g[:-2, 1:-1] - g[2:, 1:-1] - g[1:-1, :-2] - g[1:-1, 2:]
    return float(lap.std() / max(float(g.std()), 1.0))


def measure(rgb: np.ndarray, face: DetectedFace) -> QualityMeasures:
    centre = face_centre(rgb, face.box)
    if centre.size == 0:
        luma = np.zeros((1, 1), np.float32)
    else:
        luma = centre.astype(np.float32) @ LUMA
    grey = np.clip(luma + 0.5, 0, 255).astype(np.uint8)
    return QualityMeasures(
        face_fraction=face.box[2] / min(rgb.shape[:2]),
        highlight_luma=float(np.percentile(luma, 95)),
        clipped_fraction=float((luma >= 250).mean()),
        sharpness=sharpness(grey) if min(grey.shape) >= 3 else 0.0,
    )


def exposure_of_scene(rgb: np.ndarray) -> tuple[float, float]:
    """(highlight luma, clipped fraction) of the whole image, on a coarse grid (speed)."""
    step = max(1, min(rgb.shape[:2]) // 256)
    luma = rgb[::step, ::step].astype(np.float32) @ LUMA
    return float(np.percentile(luma, 95)), float((luma >= 250).mean())


def check_scene_exposure(rgb: np.ndarray, thresholds: QualityThresholds) -> None:
    """With no face found, a photo too dark or too bright says so: the detector fails on those
    first, and "no face" would lose the advice about light."""
    highlight, clipped = exposure_of_scene(rgb)
    if highlight < thresholds.min_highlight_luma:
        raise Rejected(Reason.TOO_DARK, f"no face; image highlights at luma {highlight:.0f}")
    if clipped > thresholds.max_scene_clipped_fraction:
        raise Rejected(Reason.OVEREXPOSED, f"no face; {clipped:.0%} of the image clipped")


def main_face(faces: Sequence[F]) -> F:
    """The face to screen: the largest (training picks it the same way)."""
    return max(faces, key=lambda f: f.box[2] * f.box[3])


def check_quality(
    rgb: np.ndarray,
    faces: Sequence[F],
    thresholds: QualityThresholds = QualityThresholds(),
) -> tuple[F, QualityMeasures]:
    """The one face to screen and its measures, or raise `Rejected` with the first failure.

    Order: count (no face: the light of the whole image first), size, exposure, sharpness (a
    dark photo also looks soft: light comes first).
    """
    t = thresholds
    if not faces:
        check_scene_exposure(rgb, t)
        raise Rejected(Reason.NO_FACE)
    main = main_face(faces)
    area = main.box[2] * main.box[3]
    others = sum(
        1 for f in faces if f is not main and f.box[2] * f.box[3] >= t.secondary_face_area * area
    )
    if others:
        raise Rejected(Reason.MULTIPLE_FACES, f"{others + 1} faces")
    q = measure(rgb, main)
    if main.box[2] < t.min_face_px or q.face_fraction < t.min_face_fraction:
        raise Rejected(
            Reason.FACE_TOO_SMALL, f"{main.box[2]:.0f} px, {q.face_fraction:.0%} of the frame"
        )
    if q.highlight_luma < t.min_highlight_luma:
        raise Rejected(Reason.TOO_DARK, f"face highlights at luma {q.highlight_luma:.0f}")
    if q.clipped_fraction > t.max_clipped_fraction:
        raise Rejected(Reason.OVEREXPOSED, f"{q.clipped_fraction:.0%} of the face clipped")
    if q.sharpness < t.min_sharpness:
        raise Rejected(Reason.BLURRY, f"sharpness {q.sharpness:.3f}")
    return main, q

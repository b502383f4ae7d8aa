"""Dense face landmarks (MediaPipe face mesh) in ONNX Runtime, and the named points built on them.

`LandmarkModel.landmarks(rgb, face)` crops a square around the detector's box, rotated so the eye
line is level, runs the mesh model and maps the points back to image pixels. `key_points` names the
points the asymmetry measures need, per *image* side (the subject's right eye is image-left in an
un-mirrored photo).

Mesh indices used (MediaPipe canonical face mesh; 468 points, 478 with the iris refinement):

| point                        | image-left side | image-right side |
|------------------------------|-----------------|------------------|
| iris centre (478-point mesh) | 468             | 473              |
| eye outer / inner corner     | 33 / 133        | 263 / 362        |
| upper / lower eyelid middle  | 159 / 145       | 386 / 374        |
| upper brow, medial->lateral  | 107 66 105 63 70 | 336 296 334 293 300 |
| mouth corner                 | 61              | 291              |
| nose alar base               | 98              | 327              |
| lid pairs (lateral->medial)  | 160/144 159/145 158/153 | 387/373 386/374 385/380 |
| eyelid ring (16 points, from the outer corner over the upper lid): `EYE_CONTOUR[side]` |

Midline: nose tip 1, nasion 168, upper-lip top 0, upper-lip inner 13, lower-lip inner 14,
lower-lip bottom 17, chin 152; the midline fit uses `MIDLINE_STABLE`. Without iris points
(468-point mesh) the pupil is the mean of the 16-point eye contour.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.face import affine
from model.face.faces import Face
from model.onnx_session import make_session

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "assets" / "face_landmarks_478.onnx"

# Crop side / longer side of the YuNet box. YuNet's box is taller than the BlazeFace box MediaPipe
# scales by 1.5; 1.35 was best of 1.2-1.9 on London photos 001-040 (bench/landmark_accuracy.py
# reports the other 62 as held out).
CROP_SCALE = 1.35

IRIS_CENTRE = (468, 473)
EYE_OUTER = (33, 263)
EYE_INNER = (133, 362)
UPPER_LID = (159, 386)
LOWER_LID = (145, 374)
BROW_UPPER = ((107, 66, 105, 63, 70), (336, 296, 334, 293, 300))
MOUTH_CORNER = (61, 291)
ALAR_BASE = (98, 327)
EYE_CONTOUR = (
    (33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7),
    (263, 466, 388, 387, 386, 385, 384, 398, 362, 382, 381, 380, 374, 373, 390, 249),
)
# Upper/lower lid pairs across the fissure (lateral, middle, medial) per image side.
LID_PAIRS = (((160, 144), (159, 145), (158, 153)), ((387, 373), (386, 374), (385, 380)))
# Facial midline: nasion, nose bridge, subnasale, chin (not the nose tip, which swings with yaw).
MIDLINE_STABLE = (168, 6, 197, 195, 2, 152)
NOSE_TIP, NASION, LIP_TOP, LIP_UPPER_INNER, LIP_LOWER_INNER, LIP_BOTTOM, CHIN = (
    1,
    168,
    0,
    13,
    14,
    17,
    152,
)


@dataclass(frozen=True)
class Side:
    """Points of one image side of the face, float (2,) pixel (x, y) each."""

    pupil: np.ndarray
    eye_outer: np.ndarray
    eye_inner: np.ndarray
    upper_lid: np.ndarray
    lower_lid: np.ndarray
    # (5, 2) upper brow edge, from the face midline outwards.
    brow: np.ndarray
    mouth_corner: np.ndarray
    alar_base: np.ndarray


@dataclass(frozen=True)
class KeyPoints:
    """Named landmarks. `image_left`/`image_right` are image sides, not the subject's sides."""

    image_left: Side
    image_right: Side
    nose_tip: np.ndarray
    nasion: np.ndarray
    lip_top: np.ndarray
    lip_upper_inner: np.ndarray
    lip_lower_inner: np.ndarray
    lip_bottom: np.ndarray
    chin: np.ndarray

    @property
    def eyes(self) -> np.ndarray:
        """(2, 2) pupils, image-left then image-right: what `classifier_input` aligns on."""
        return np.stack([self.image_left.pupil, self.image_right.pupil])


def _side(points: np.ndarray, i: int) -> Side:
    if len(points) > max(IRIS_CENTRE):
        pupil = points[IRIS_CENTRE[i]]
    else:
        pupil = points[list(EYE_CONTOUR[i])].mean(axis=0)
    return Side(
        pupil=pupil,
        eye_outer=points[EYE_OUTER[i]],
        eye_inner=points[EYE_INNER[i]],
        upper_lid=points[UPPER_LID[i]],
        lower_lid=points[LOWER_LID[i]],
        brow=points[list(BROW_UPPER[i])],
        mouth_corner=points[MOUTH_CORNER[i]],
        alar_base=points[ALAR_BASE[i]],
    )


def key_points(landmarks: np.ndarray) -> KeyPoints:
    """Name the points of a 468- or 478-point mesh (image pixels) returned by `landmarks`."""
    pts = np.asarray(landmarks, dtype=np.float64)[:, :2]
    if len(pts) < 468:
        raise ValueError(f"expected a 468- or 478-point face mesh, got {len(pts)} points")
    return KeyPoints(
        image_left=_side(pts, 0),
        image_right=_side(pts, 1),
        nose_tip=pts[NOSE_TIP],
        nasion=pts[NASION],
        lip_top=pts[LIP_TOP],
        lip_upper_inner=pts[LIP_UPPER_INNER],
        lip_lower_inner=pts[LIP_LOWER_INNER],
        lip_bottom=pts[LIP_BOTTOM],
        chin=pts[CHIN],
    )


def face_crop(face: Face, size: int, scale: float = CROP_SCALE) -> np.ndarray:
    """2x3 crop->image matrix: a square around the face box, rotated so the eyes are level."""
    x, y, w, h = face.box
    _, angle = affine.eye_line(*face.eyes)
    return affine.square_crop_matrix((x + w / 2, y + h / 2), max(w, h) * scale, angle, size)


class LandmarkModel:
    """MediaPipe face mesh. One ONNX Runtime session per instance; `landmarks` is thread-safe."""

    def __init__(self, path: Path | None = None, threads: int = 1) -> None:
        self.path = Path(path) if path else DEFAULT_PATH
        self.session = make_session(self.path, threads)
        spec = self.session.get_inputs()[0]
        self.input_name = spec.name
        self.size = int(spec.shape[1])  # NHWC, square
        # The landmark output is the widest one: (1, 1, 1, 3 K).
        widths = [int(o.shape[-1]) for o in self.session.get_outputs()]
        self.mesh_output = int(np.argmax(widths))
        self.num_points = max(widths) // 3

    def landmarks(self, rgb: np.ndarray, face: Face) -> np.ndarray:
        """(K, 2) float landmark positions in pixels of `rgb` (K = 478 or 468)."""
        matrix = face_crop(face, self.size)
        crop = affine.warp(rgb, matrix, self.size)
        blob = (crop.astype(np.float32) / 255.0)[None]
        mesh = self.session.run(None, {self.input_name: blob})[self.mesh_output]
        points = mesh.reshape(self.num_points, 3)[:, :2].astype(np.float64)
        return affine.apply(matrix, points)

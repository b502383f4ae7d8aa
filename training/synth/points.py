"""Control points of a photo: movable groups per image side and fixed anchors, from a .tem
template (neutral photos) or the face mesh (smiling photos)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.face.landmarks import IRIS_CENTRE
from training.synth.tem import read_tem

# .tem indices per image side (0 = image-left, 1 = image-right); see London README.
TEM = {
    "upper_lid": ((19, 20, 21), (24, 25, 26)),
    "lower_lid": ((28, 29, 30), (31, 32, 33)),
    "outer_corner": ((18,), (27,)),
    "under_eye": ((44, 45, 46), (47, 48, 49)),
    "brow": ((71, 72, 73, 74, 75, 76, 83, 84), (77, 78, 79, 80, 81, 82, 85, 86)),
    "mouth_corner": ((87,), (93,)),
    "lip": ((88, 89, 94, 95, 99, 100, 104, 105), (91, 92, 97, 98, 102, 103, 107, 108)),
}
TEM_LIP_MID = (90, 96, 101, 106)
TEM_PUPILS = (0, 1)
# Fixed: pupils, inner eye corners, nose, outline, cheeks and chin. Iris contours (2-17) sit on the
# lids and eyelid creases (34-43) between lid and brow: they are left free to follow.
TEM_ANCHORS = (0, 1, 22, 23, *range(50, 71), *range(109, 189))

# MediaPipe face-mesh indices per image side (subject's right eye is image-left).
MESH = {
    "upper_lid": ((161, 160, 159, 158, 157), (388, 387, 386, 385, 384)),
    "lower_lid": ((163, 144, 145, 153, 154), (390, 373, 374, 380, 381)),
    "outer_corner": ((33,), (263,)),
    "under_eye": ((229, 230, 231), (449, 450, 451)),
    "brow": ((70, 63, 105, 66, 107, 46, 53, 52, 65), (300, 293, 334, 296, 336, 276, 283, 282, 295)),
    "mouth_corner": ((61,), (291,)),
    "lip": (
        (185, 40, 39, 37, 146, 91, 181, 84, 78, 191, 80, 81, 82, 95, 88, 178, 87),
        (409, 270, 269, 267, 375, 321, 405, 314, 308, 415, 310, 311, 312, 324, 318, 402, 317),
    ),
}
MESH_LIP_MID = (0, 17, 13, 14)
MESH_PUPILS = IRIS_CENTRE
MESH_ANCHORS = (
    468, 473, 133, 362, 1, 4, 5, 6, 168, 197, 195, 2, 98, 327, 94, 152, 175, 199, 200,
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
    148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109, 50, 280,
)  # fmt: skip


@dataclass
class FacePoints:
    """Control points of one photo in pixels: movable groups per image side, plus fixed ones."""

    pupils: np.ndarray  # (2, 2) image-left, image-right
    groups: dict[str, tuple[np.ndarray, np.ndarray]]
    lip_mid: np.ndarray
    anchors: np.ndarray

    @property
    def ipd(self) -> float:
        return float(np.linalg.norm(self.pupils[1] - self.pupils[0]))

    def scaled(self, k: float) -> FacePoints:
        return FacePoints(
            self.pupils * k,
            {n: (a * k, b * k) for n, (a, b) in self.groups.items()},
            self.lip_mid * k,
            self.anchors * k,
        )


def _points(pts: np.ndarray, table: dict, mid: tuple, pupils: tuple, anchors: tuple) -> FacePoints:
    groups = {n: (pts[list(a)], pts[list(b)]) for n, (a, b) in table.items()}
    return FacePoints(pts[list(pupils)], groups, pts[list(mid)], pts[list(anchors)])


def tem_points(path: Path) -> FacePoints:
    return _points(read_tem(path), TEM, TEM_LIP_MID, TEM_PUPILS, TEM_ANCHORS)


def mesh_points(landmarks: np.ndarray) -> FacePoints:
    pts = np.asarray(landmarks, dtype=np.float64)[:, :2]
    return _points(pts, MESH, MESH_LIP_MID, MESH_PUPILS, MESH_ANCHORS)

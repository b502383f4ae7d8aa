"""Facial measures from the 478-point mesh, in the spirit of Emotrics and Auto-eFACE.

Every measure is taken in the face frame (y along the facial midline, pointing down the face, x
perpendicular to it, origin midway between the pupils) and divided by the inter-pupil distance
(IPD), so head roll, photo size and distance to the camera cancel out. The midline is a straight
line fitted through stable points (nasion, nose bridge, subnasale, chin). We do not level on the
pupils or the inner eye corners: on one-sided eye warps the mesh moves its whole eye region with
the lids, which tilted an eye line by as much as the droop being measured and read an eye palsy
as a mouth droop on the other side (`palsy-train evaluate-grader` reports the recovery per
measure). At an assumed adult IPD of 63 mm, 1 IPD = 63 mm (`MM_PER_IPD`); people are shown
millimetres.

Sides are the *subject's*, assuming an un-mirrored photo (the subject's left is on the image's
right). Per side (`SideMeasures`):

- mouth: corner height below the pupils; corner distance from the facial midline;
- eye: palpebral fissure height (mean of three upper/lower lid pairs) and area (16-point ring);
- brow: height above the pupils at its medial, middle and lateral points.

Yaw foreshortens the far half of the face: horizontal distances are divided by that side's eye
half-width (outer eye corner to midline) and multiplied by the mean of both, which cancels yaw to
first order; the quality gate refuses heads turned more than ~20 degrees (`check_pose`). Heights
are nearly unchanged by yaw.

Signed asymmetries (`Measures.asymmetries`) are oriented so that **positive means the subject's
left looks like the weaker side**: its mouth corner sits lower (`mouth`) or nearer the midline
(`mouth_midline`), the lip line tilts down to the left (`lip_tilt_deg`), its eye opens wider
(`eye`, `eye_area`: a weak eye cannot close and its lower lid sags), its brow sits lower (`brow`,
`brow_medial`, `brow_lateral`). Mirroring a photo flips every sign.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from model.face.affine import eye_line
from model.face.landmarks import (
    BROW_UPPER,
    EYE_CONTOUR,
    EYE_OUTER,
    IRIS_CENTRE,
    LID_PAIRS,
    MIDLINE_STABLE,
    MOUTH_CORNER,
)

# Assumed inter-pupil distance for showing sizes (adult mean 62-64 mm; Dynaface's default).
MM_PER_IPD = 63.0
# Brow points reported: medial, middle, lateral (indices into BROW_UPPER's five).
BROW_POINTS = {"medial": 0, "middle": 2, "lateral": 4}

# Grader features: name -> region. Every one is signed as above (positive: left weaker).
FEATURES: dict[str, str] = {
    "mouth": "mouth",
    "mouth_midline": "mouth",
    "lip_tilt_deg": "mouth",
    "eye": "eye",
    "eye_area": "eye",
    "brow": "eye",
    "brow_medial": "eye",
    "brow_lateral": "eye",
}


def eye_line_frame(
    left_pupil: np.ndarray,
    right_pupil: np.ndarray,
    across: np.ndarray | None = None,
) -> Callable[[np.ndarray], np.ndarray]:
    """Function mapping image points (..., 2) to a face frame in IPD units: origin between the
    pupils, x along `across` (a direction pointing image-left to image-right; default the line
    through the pupils), y perpendicular to it, down the face."""
    left = np.asarray(left_pupil, np.float64)
    right = np.asarray(right_pupil, np.float64)
    ipd, pupil_angle = eye_line(left, right)
    span, angle = eye_line((0.0, 0.0), across) if across is not None else (ipd, pupil_angle)
    if not (math.isfinite(ipd) and math.isfinite(span)) or min(ipd, span) < 1e-6:
        raise ValueError("pupils coincide: no eye line")
    cos, sin = math.cos(angle), math.sin(angle)
    # Rows: unit x along the eye line, unit y perpendicular (pointing down when upright).
    basis = np.array([[cos, sin], [-sin, cos]]) / ipd
    mid = (left + right) / 2

    def to_frame(points: np.ndarray) -> np.ndarray:
        return (np.asarray(points, np.float64) - mid) @ basis.T

    return to_frame


@dataclass(frozen=True)
class SideMeasures:
    """One side of the face (the subject's), IPD units (area: IPD squared)."""

    corner_height: float
    corner_midline: float
    fissure_height: float
    fissure_area: float
    brow_medial: float
    brow_middle: float
    brow_lateral: float

    @property
    def brow(self) -> float:
        return (self.brow_medial + self.brow_middle + self.brow_lateral) / 3


@dataclass(frozen=True)
class Measures:
    left: SideMeasures
    right: SideMeasures
    # Subject's left / right eye half-width about the midline: 1 when facing the camera.
    yaw_ratio: float
    # Corner-to-corner distance; grows in a smile.
    mouth_width: float

    def asymmetries(self) -> dict[str, float]:
        """The signed grader features (`FEATURES`); positive: the subject's left looks weaker."""
        lf, rt = self.left, self.right
        mouth = lf.corner_height - rt.corner_height
        return {
            "mouth": mouth,
            "mouth_midline": rt.corner_midline - lf.corner_midline,
            "lip_tilt_deg": math.degrees(math.atan2(mouth, max(self.mouth_width, 1e-6))),
            "eye": lf.fissure_height - rt.fissure_height,
            "eye_area": lf.fissure_area - rt.fissure_area,
            "brow": rt.brow - lf.brow,
            "brow_medial": rt.brow_medial - lf.brow_medial,
            "brow_lateral": rt.brow_lateral - lf.brow_lateral,
        }

    @property
    def eye_ratio(self) -> float:
        """Fissure height, smaller / larger (1 = even)."""
        a, b = sorted((self.left.fissure_height, self.right.fissure_height))
        return a / b if b > 0 else 1.0

    def to_dict(self) -> dict[str, float]:
        """Flat, rounded, JSON-ready: asymmetries, `eye_ratio`, `yaw_ratio`, then per side."""
        out = {**self.asymmetries(), "eye_ratio": self.eye_ratio}
        out |= {"yaw_ratio": self.yaw_ratio, "mouth_width": self.mouth_width}
        for side in ("left", "right"):
            out |= {f"{side}_{k}": v for k, v in asdict(getattr(self, side)).items()}
        return {k: round(float(v), 4) for k, v in out.items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Measures:
        """The measures back from `to_dict` (what the bot keeps of an exam step); raises
        KeyError / ValueError / TypeError for anything else."""
        sides = {
            side: SideMeasures(
                **{f.name: float(data[f"{side}_{f.name}"]) for f in fields(SideMeasures)}
            )
            for side in ("left", "right")
        }
        return cls(
            sides["left"], sides["right"], float(data["yaw_ratio"]), float(data["mouth_width"])
        )


# Face shape for "same person?": distances between points that an expression barely moves (inner
# and outer eye corners, nasion to subnasale, nasion to inner eye corner, nasion to nose tip).
SHAPE_PAIRS = ((133, 362), (33, 263), (168, 2), (168, 133), (168, 1))


def face_shape(mesh: np.ndarray) -> np.ndarray:
    """SHAPE_PAIRS distances in inter-pupil distances: a person's proportions, not expression."""
    pts = np.asarray(mesh, np.float64)[:, :2]
    ipd = float(np.linalg.norm(pts[IRIS_CENTRE[1]] - pts[IRIS_CENTRE[0]]))
    return np.array([np.linalg.norm(pts[a] - pts[b]) for a, b in SHAPE_PAIRS]) / max(ipd, 1e-6)


def _polygon_area(points: np.ndarray) -> float:
    x, y = points[:, 0], points[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)


def measure(mesh: np.ndarray) -> Measures:
    """Measures of a 478-point mesh in image pixels (`model.face.landmarks.LandmarkModel`)."""
    pts = np.asarray(mesh, np.float64)[:, :2]
    if len(pts) <= max(IRIS_CENTRE):
        raise ValueError(f"expected a 478-point face mesh, got {len(pts)} points")
    # Midline x = a + b y through stable points (least squares), first in the image to level
    # the frame on it, then in the frame for distances from it.
    slope = np.polyfit(pts[list(MIDLINE_STABLE), 1], pts[list(MIDLINE_STABLE), 0], 1)[0]
    f = eye_line_frame(pts[IRIS_CENTRE[0]], pts[IRIS_CENTRE[1]], np.array([1.0, -slope]))(pts)
    mid = f[list(MIDLINE_STABLE)]
    b, a = np.polyfit(mid[:, 1], mid[:, 0], 1)

    def off_midline(p: np.ndarray) -> float:
        return float(abs(p[0] - (a + b * p[1])))

    # Image side i = 0 is the subject's right in an un-mirrored photo.
    half_eye = [off_midline(f[EYE_OUTER[i]]) for i in (0, 1)]
    mean_half = sum(half_eye) / 2

    def side(i: int) -> SideMeasures:
        corner = f[MOUTH_CORNER[i]]
        lids = f[[p for pair in LID_PAIRS[i] for p in pair]].reshape(-1, 2, 2)
        brow = f[list(BROW_UPPER[i])]
        return SideMeasures(
            corner_height=float(corner[1]),
            corner_midline=off_midline(corner) * mean_half / max(half_eye[i], 1e-6),
            fissure_height=float(np.linalg.norm(lids[:, 1] - lids[:, 0], axis=1).mean()),
            fissure_area=_polygon_area(f[list(EYE_CONTOUR[i])]),
            **{f"brow_{k}": float(-brow[j, 1]) for k, j in BROW_POINTS.items()},
        )

    right, left = side(0), side(1)
    corners = f[list(MOUTH_CORNER)]
    return Measures(
        left=left,
        right=right,
        yaw_ratio=half_eye[1] / max(half_eye[0], 1e-6),
        mouth_width=float(np.linalg.norm(corners[1] - corners[0])),
    )

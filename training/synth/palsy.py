"""The palsy displacement: which points move, where, by how much (in IPD), on one side."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from model.labels import parse_label
from training.synth.points import FacePoints
from training.synth.settings import JITTER_IPD, MEDIAL_SHIFT, SETTINGS, SEVERITY


@dataclass
class Palsy:
    """What was simulated: class, affected image side (0 left, 1 right), displacements in IPD."""

    label: str
    side: int | None
    params: dict[str, float] = field(default_factory=dict)


def sample_palsy(label: str, rng: np.random.Generator) -> Palsy:
    region, severity = parse_label(label)
    if region is None or severity is None:
        return Palsy(label, None)
    side = int(rng.integers(2))
    ranges = SEVERITY[region][severity]
    values = [float(rng.uniform(lo, hi)) for lo, hi in ranges]
    names = ("lid_rise", "lid_drop", "brow_drop") if region == "eye" else ("corner_drop", "flatten")
    return Palsy(label, side, dict(zip(names, values, strict=True)))


def displacement(
    fp: FacePoints, palsy: Palsy, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(src, dst) control points for `warp_image`: jitter on every group, palsy on one side."""
    ipd = fp.ipd
    src: list[np.ndarray] = [fp.anchors, fp.lip_mid]
    dst: list[np.ndarray] = [fp.anchors, fp.lip_mid]
    for name, sides in fp.groups.items():
        for s, pts in enumerate(sides):
            jitter = np.clip(rng.normal(0.0, JITTER_IPD, 2), -2 * JITTER_IPD, 2 * JITTER_IPD)
            moved = pts + jitter * ipd
            if palsy.side == s:
                moved = moved + _palsy_shift(fp, name, s, pts, palsy)
            src.append(pts)
            dst.append(moved)
    return np.concatenate(src), np.concatenate(dst)


def _palsy_shift(fp: FacePoints, name: str, side: int, pts: np.ndarray, palsy: Palsy) -> np.ndarray:
    ipd = fp.ipd
    shift = np.zeros_like(pts)
    p = palsy.params
    if "lid_drop" in p:
        pupil = fp.pupils[side]
        eye_half = max(1.0, abs(float(fp.groups["outer_corner"][side][0, 0] - pupil[0])))
        # Lids move most above/below the pupil and less towards the corners.
        bell = np.clip(1.0 - ((pts[:, 0] - pupil[0]) / (1.3 * eye_half)) ** 2, 0.3, 1.0)
        if name == "upper_lid":
            shift[:, 1] = -p["lid_rise"] * ipd * bell
        elif name == "lower_lid":
            shift[:, 1] = p["lid_drop"] * ipd * bell
        elif name == "outer_corner":
            shift[:, 1] = SETTINGS.outer_corner_follows * p["lid_drop"] * ipd
        elif name == "under_eye":
            shift[:, 1] = SETTINGS.under_eye_follows * p["lid_drop"] * ipd
        elif name == "brow":
            # The lateral brow droops more than the medial end.
            mid_x = fp.pupils[:, 0].mean()
            lateral = np.abs(pts[:, 0] - mid_x) / max(1.0, abs(pupil[0] - mid_x))
            shift[:, 1] = p["brow_drop"] * ipd * np.clip(0.6 + 0.4 * lateral, 0.6, 1.4)
    elif "corner_drop" in p and name in ("mouth_corner", "lip"):
        corner = fp.groups["mouth_corner"][side][0]
        mid = fp.lip_mid.mean(axis=0)
        span = max(1.0, abs(float(corner[0] - mid[0])))
        t = np.clip(np.abs(pts[:, 0] - mid[0]) / span, 0.0, 1.0)
        drop = p["corner_drop"] * ipd * t**1.5
        towards_mid = np.sign(mid[0] - corner[0])
        line_y = mid[1] + t * (corner[1] - mid[1])  # the lips' centre line on this side
        flat = (pts[:, 1] - line_y) * (1.0 - p["flatten"] * t)
        shift[:, 0] = towards_mid * MEDIAL_SHIFT * drop
        shift[:, 1] = line_y + drop + flat - pts[:, 1]
    return shift

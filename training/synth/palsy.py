"""The palsy displacement: which points move, where, by how much (in IPD), on one side."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from model.labels import parse_label
from training.synth.points import FacePoints
from training.synth.settings import JITTER_IPD, MEDIAL_SHIFT, SETTINGS, SEVERITY
from training.synth.warp import warp_image


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
    names = ("lid_drop", "brow_drop") if region == "eye" else ("corner_drop", "flatten")
    return Palsy(label, side, dict(zip(names, values, strict=True)))


Pair = tuple[np.ndarray, np.ndarray]  # (image-left, image-right) points of one group


@dataclass(frozen=True)
class Moves:
    """Control points for `training.synth.warp.warp_image`, pixels: where each point's neighbourhood
    goes, and how far that neighbourhood reaches (`rigid`, `falloff`, one value per point)."""

    src: np.ndarray
    dst: np.ndarray
    rigid: np.ndarray
    falloff: np.ndarray
    group: tuple[str, ...]  # per point: its group name ("pin" for fixed points)
    side: tuple[int | None, ...]  # per point: image side (0 left, 1 right), None for pins

    def warp(self, rgb: np.ndarray) -> np.ndarray:
        return warp_image(rgb, self.src, self.dst, rigid=self.rigid, falloff=self.falloff)


def moves(
    pins: np.ndarray,
    groups: dict[str, Pair],
    moved: dict[str, Pair],
    ipd: float,
    pupils: np.ndarray | None = None,
) -> Moves:
    """`Moves` from fixed points, per-side groups (`moved`: the same groups displaced) and the
    pupils, each group's disc sizes from `SETTINGS` (in IPD).

    A pin within the reach of a clearly moving point is left out: the skin around a drooping
    corner droops with it, and a pin there would hold a hole in place. The pupils always stay
    (the eye itself does not move while a lid moves over it).
    """
    src: list[np.ndarray] = []
    dst: list[np.ndarray] = []
    names: list[str] = []
    sides: list[int | None] = []
    for name, per_side in groups.items():
        for s, pts in enumerate(per_side):
            src.append(pts)
            dst.append(moved[name][s])
            names += [name] * len(pts)
            sides += [s] * len(pts)
    a, b = np.concatenate(src), np.concatenate(dst)
    shift = np.linalg.norm(b - a, axis=1)
    clear = shift > 3 * JITTER_IPD * ipd
    # Where a moving point's pull is still over a tenth of its move (2 falloff widths).
    radius, width = (np.array([SETTINGS.discs[n] for n in names]) * ipd).T
    width = np.maximum(width, shift)
    reach = (radius + 2 * width + shift)[clear]
    near = np.linalg.norm(pins[:, None] - a[clear][None], axis=2) < reach[None]
    held = pins[~near.any(axis=1)]
    eye = np.zeros((0, 2)) if pupils is None else pupils
    fixed = np.concatenate([held, eye])
    every = ["pin"] * len(held) + ["pupil"] * len(eye) + names
    side_of: list[int | None] = [None] * len(fixed)
    rigid, falloff = (np.array([SETTINGS.discs[n] for n in every]) * ipd).T
    return Moves(np.concatenate([fixed, a]), np.concatenate([fixed, b]), rigid, falloff,
                 tuple(every), tuple(side_of + sides))  # fmt: skip


def displacement(fp: FacePoints, palsy: Palsy, rng: np.random.Generator) -> Moves:
    """Control points for the warp: jitter on every group, palsy on one side."""
    ipd = fp.ipd
    moved: dict[str, Pair] = {}
    for name, sides in fp.groups.items():
        out = []
        for s, pts in enumerate(sides):
            jitter = np.clip(rng.normal(0.0, JITTER_IPD, 2), -2 * JITTER_IPD, 2 * JITTER_IPD)
            shifted = pts + jitter * ipd
            if palsy.side == s:
                shifted = shifted + _palsy_shift(fp, name, s, pts, palsy)
            out.append(shifted)
        moved[name] = (out[0], out[1])
    # The lip middle is no pin: the weak side's lips shear smoothly into the strong side's.
    return moves(fp.anchors, fp.groups, moved, ipd, fp.pupils)


def _palsy_shift(fp: FacePoints, name: str, side: int, pts: np.ndarray, palsy: Palsy) -> np.ndarray:
    ipd = fp.ipd
    shift = np.zeros_like(pts)
    p = palsy.params
    if "lid_drop" in p:
        pupil = fp.pupils[side]
        eye_half = max(1.0, abs(float(fp.groups["outer_corner"][side][0, 0] - pupil[0])))
        # Lids move most above/below the pupil and less towards the corners.
        bell = np.clip(1.0 - ((pts[:, 0] - pupil[0]) / (1.3 * eye_half)) ** 2, 0.6, 1.0)
        if name == "lower_lid":
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
        # The outer lips droop as one block with the corner; the middle does not droop.
        block = np.clip(t / SETTINGS.corner_block, 0.0, 1.0)
        drop = p["corner_drop"] * ipd * np.sin(0.5 * np.pi * block) ** 2
        towards_mid = np.sign(mid[0] - corner[0])
        line_y = mid[1] + t * (corner[1] - mid[1])  # the lips' centre line on this side
        flat = (pts[:, 1] - line_y) * (1.0 - p["flatten"] * t * (1.0 - block**4))
        shift[:, 0] = towards_mid * MEDIAL_SHIFT * drop
        shift[:, 1] = line_y + drop + flat - pts[:, 1]
    return shift

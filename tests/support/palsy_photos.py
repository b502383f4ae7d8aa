"""London photos with a synthetic one-sided palsy, made by training's own synthesiser
(`training.synth`: the `.tem` control points, the palsy's point moves, the warp), for the model
tests: they reach training/ only through tests/support.

Face images: DeBruine & Jones (2017), Face Research Lab London Set, CC BY 4.0 (warped on the fly).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.support.london_truth import inter_pupil_distance, read_tem
from tests.support.model_images import london
from training.synth import Palsy, Source, displacement, load_source, tem_points
from training.synth.warp import warp_image

# .tem indices (see the London README): subject's left mouth corner and left brow (image right).
TEM_MOUTH_LEFT = 93
TEM_BROW_LEFT = (77, 78, 79, 80, 81, 82, 85, 86)
TEM_PINS = (0, 1, 87, 22, 23, 10, 20, 30, 50, 60, 109, 120, 140, 160, 180)


def source(photo: Path) -> Source:
    """A neutral London photo at the synthesiser's working size, with its template's points."""
    return load_source(photo, tem_points(photo.with_suffix(".tem")))


def with_palsy(
    src: Source, label: str, image_side: int, params: dict[str, float], seed: int
) -> np.ndarray:
    """`src` with a palsy of class `label` on one image side (0: image-left, the subject's
    right), of exactly these sizes (`params`, in IPD; the synthesiser's jitter from `seed`)."""
    palsy = Palsy(label, image_side, params)
    return displacement(src.points, palsy, np.random.default_rng(seed)).warp(src.rgb)


def droop(photo: Path, moves: dict[tuple[int, ...], float], side: int = 960) -> np.ndarray:
    """`photo` at `side` px with .tem point groups moved down by the given pupil distances
    (`{(TEM_MOUTH_LEFT,): 0.2}`), the rest of the face pinned (`TEM_PINS`)."""
    rgb = np.asarray(london(photo, side))
    tem = read_tem(photo.with_suffix(".tem")) * (side / 1350)
    ipd = inter_pupil_distance(tem)
    src = [tem[list(TEM_PINS)]]
    dst = [tem[list(TEM_PINS)]]
    for idx, drop in moves.items():
        src.append(tem[list(idx)])
        dst.append(tem[list(idx)] + np.array([0.0, drop * ipd]))
    return warp_image(rgb, np.vstack(src), np.vstack(dst), rigid=0.03 * ipd, falloff=0.06 * ipd)

"""training.warp: the neighbourhood of a moved point moves with it, pins and far content stay.

The London test tracks marker images through the palsy warp itself (`Moves.warp`, as
`palsy-train synth` renders), so it measures what a person or a face mesh sees move, not the
control point alone. Face images: DeBruine & Jones (2017), Face Research Lab London Set, CC BY 4.0.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from training.synth import load_source, sample_palsy, tem_points
from training.synth.palsy import Moves, Palsy, displacement
from training.synth.warp import warp_image

# Within this many IPD of a moved point, the content must move with it (the "patch").
PATCH_IPD = 0.05
REALISED = 0.9  # mean share of the nominal displacement the patch must move by


def _dots(size: int, points: np.ndarray, sigma: float = 1.0) -> np.ndarray:
    """One Gaussian dot per colour channel (at most three)."""
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    img = np.zeros((size, size, 3), np.uint8)
    for c, (x, y) in enumerate(points):
        img[..., c] = np.rint(255 * np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * sigma**2)))
    return img


def _tracked(warp: Callable[[np.ndarray], np.ndarray], size: int, probes: np.ndarray) -> np.ndarray:
    """Where marker dots at `probes` (N, 2) end up after `warp` (centroid of each dot)."""
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    out = np.zeros_like(probes)
    for k in range(0, len(probes), 3):
        warped = warp(_dots(size, probes[k : k + 3])).astype(np.float64)
        for c in range(len(probes[k : k + 3])):
            w = warped[..., c] / warped[..., c].sum()
            out[k + c] = (w * xx).sum(), (w * yy).sum()
    return out


def test_identity_when_nothing_moves() -> None:
    rng = np.random.default_rng(2)
    img = rng.integers(0, 256, (97, 131, 3), dtype=np.uint8)
    pts = rng.uniform(0, 90, (5, 2))
    assert np.array_equal(warp_image(img, pts, pts, rigid=4.0, falloff=6.0), img)


@pytest.mark.parametrize("shift", [6.0, 12.0, 24.0])
def test_a_moved_disc_moves_whole_and_a_pin_holds_its_own(shift: float) -> None:
    src = np.array([[100.0, 80.0], [100.0, 180.0]])  # a moved point, and a pin below it
    dst = src + np.array([[0.0, shift], [0.0, 0.0]])
    radius, falloff = 10.0, 12.0

    def warp(img: np.ndarray) -> np.ndarray:
        return warp_image(img, src, dst, rigid=radius, falloff=falloff)

    ring = [[dx, dy] for dx, dy in ((0, 0), (8, 0), (-8, 0), (0, 8), (0, -8), (6, 6))]
    probes = src[0] + np.array(ring, np.float64)
    moved = _tracked(warp, 256, probes) - probes
    np.testing.assert_allclose(moved, [[0.0, shift]] * len(probes), atol=0.35)
    # The pin yields at most a few hundredths of its neighbour's move; far content none.
    held = _tracked(warp, 256, np.array([src[1], [20.0, 230.0]]))
    np.testing.assert_allclose(held, [src[1], [20.0, 230.0]], atol=0.3 + 0.03 * shift)


def test_rejects_mismatched_points_and_bad_radii() -> None:
    img = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(ValueError):
        warp_image(img, np.zeros((2, 2)), np.zeros((3, 2)), rigid=1.0, falloff=1.0)
    with pytest.raises(ValueError):
        warp_image(img, np.zeros((2, 2)), np.ones((2, 2)), rigid=-1.0, falloff=1.0)


def _patch(moves: Moves, i: int, ipd: float, outward: np.ndarray | None) -> np.ndarray:
    """Probe points within PATCH_IPD of point i: its centre and rings at half and full radius;
    with `outward`, only the half on that side (a lid's skin, not the eye it slides over)."""
    angles = np.linspace(0, 2 * np.pi, 8, endpoint=False)
    unit = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    offsets = np.vstack([[0.0, 0.0], unit * 0.5, unit])
    if outward is not None:
        offsets = offsets[offsets @ outward >= -1e-9]
    return moves.src[i] + offsets * PATCH_IPD * ipd


@pytest.mark.parametrize("label", ["mild_mouth", "severe_mouth", "mild_eye", "severe_eye"])
def test_content_near_every_moved_point_moves_as_labelled(
    london_neutral: list[Path], label: str
) -> None:
    """On London photos, markers within 0.05 IPD of the moved mouth corner, of the lower lid's
    middle and of every brow point move by at least 0.9 of that point's displacement on average.
    The lower lid's patch is the half outside the eye: the eye itself stays while the lid sags
    (else the iris would stretch with it). The lid's ends are not tested: by design they sag
    less toward the eye's corners, where the upper lid, which does not sag, meets them."""
    shares: dict[str, list[float]] = {}
    for k, photo in enumerate(london_neutral[::20][:4]):
        source = load_source(photo, tem_points(photo.with_suffix(".tem")))
        ipd = source.points.ipd
        rng = np.random.default_rng(k)
        drawn = sample_palsy(label, rng)
        moves = displacement(source.points, Palsy(label, k % 2, drawn.params), rng)
        for group in ("mouth_corner", "lower_lid", "brow"):
            idx = [i for i, (g, s) in enumerate(zip(moves.group, moves.side, strict=True))
                   if g == group and s == k % 2]  # fmt: skip
            if group == "lower_lid":
                idx = [idx[len(idx) // 2]]
            for i in idx:
                nominal = moves.dst[i] - moves.src[i]
                size = float(np.linalg.norm(nominal))
                if size < 0.02 * ipd:  # jitter only: not a palsy move
                    continue
                outward = np.array([0.0, 1.0]) if group == "lower_lid" else None
                probes = _patch(moves, i, ipd, outward)
                moved = _tracked(moves.warp, source.rgb.shape[0], probes) - probes
                share = float((moved @ (nominal / size)).mean() / size)
                shares.setdefault(group, []).append(share)
    assert shares, "no palsy move found"
    for group, values in shares.items():
        assert min(values) >= REALISED, (group, np.round(values, 3))


def test_imports_without_tensorflow() -> None:
    code = (
        "import sys, training.synth.warp, training.synth.tem; sys.exit('tensorflow' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0

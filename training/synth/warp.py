"""Landmark-driven image warp whose neighbourhoods move, not single pixels (numpy only).

`warp_image(rgb, src, dst, rigid=..., falloff=...)` moves the content around each `src` point to
the matching `dst` point. Every control point owns a disc of radius `rigid` that moves with it as
a whole, and its pull fades outside that disc as a Gaussian of width `falloff`; a point with
src == dst is a pin and holds its disc still. Where discs compete (a lid next to the pupil, the
lips near a mouth corner) the point nearer in its own scale owns the content, by a softmax over
the points' log-weights (sharpness `SHARPNESS`), so a pin cannot average a moving feature away.

Why not the moving-least-squares warp this replaced: with weights 1 / d^2 it is exact only at a
control point itself. Nearby pins hold the skin around it, so the displacement was a spike a few
pixels wide and a "14 mm" mouth-corner droop moved the corner a person (or a face mesh) sees by
about a quarter of that (`tests/training/test_training_warp.py` tracks marker images through both
the palsy and the exam warps).

The map is defined backwards, from output pixels to the input (`backward_displacement`), so the
flat disc around each `dst` point reads the flat disc around its `src` point: that content moves
by exactly its point's displacement. To avoid tearing, the falloff is never narrower than
`FOLD_FREE` times a point's own displacement (the backward map's Jacobian stays positive).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

# Softmax sharpness over the control points' log-weights: who owns a pixel where discs compete.
SHARPNESS = 1.5
# Weight of nearness inside overlapping discs (0: overlapping discs average their moves).
TIE = 0.3
# A falloff at least this many times the point's own displacement keeps the map from folding.
FOLD_FREE = 1.0
# Influence ends this many falloff widths outside a moving point's disc.
REACH = 4.0


def _per_point(value: ArrayLike, n: int, name: str) -> np.ndarray:
    arr = np.broadcast_to(np.asarray(value, np.float64), (n,)).copy()
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{name} must be finite and non-negative")
    return arr


def backward_displacement(
    points: np.ndarray,
    src: np.ndarray,
    dst: np.ndarray,
    rigid: ArrayLike,
    falloff: ArrayLike,
) -> np.ndarray:
    """For output points (M, 2), the offset to where they read the input: input = q + offset."""
    src = np.asarray(src, np.float64).reshape(-1, 2)
    dst = np.asarray(dst, np.float64).reshape(-1, 2)
    move = src - dst
    radius = _per_point(rigid, len(src), "rigid")
    width = np.maximum(
        _per_point(falloff, len(src), "falloff"), FOLD_FREE * np.linalg.norm(move, axis=1)
    )
    width = np.maximum(width, 1e-6)
    q = np.asarray(points, np.float64).reshape(-1, 2)
    out = np.zeros_like(q)
    reach = radius + REACH * width
    for start in range(0, len(q), 2048):  # bounded memory, and only the points that reach
        chunk = q[start : start + 2048]
        lo, hi = chunk.min(axis=0), chunk.max(axis=0)
        gap = np.linalg.norm(np.maximum(np.maximum(lo - dst, dst - hi), 0.0), axis=1)
        near = gap < reach
        if not near.any():
            continue
        dist = np.sqrt(((chunk[:, None, :] - dst[near][None]) ** 2).sum(axis=2))
        radius_n, width_n, move_n = radius[near], width[near], move[near]
        log_w = -0.5 * (np.maximum(dist - radius_n, 0.0) / width_n) ** 2
        # Ownership: the point with the most pull; inside overlapping discs the nearer one in
        # its own reach, so two features that meet fold cleanly instead of smearing.
        share = SHARPNESS * (log_w - TIE * dist / (radius_n + width_n))
        share = np.exp(share - share.max(axis=1, keepdims=True)) * np.exp(log_w)
        # Direction: the owners' moves; amplitude: how hard any point pulls here (1 inside a
        # disc, fading outside), so a neighbour's weaker pull cannot shrink an owner's move.
        direction = (share @ move_n) / np.maximum(share.sum(axis=1, keepdims=True), 1e-300)
        pull = 1.0 - np.exp(np.log1p(-np.minimum(np.exp(log_w), 1.0 - 1e-12)).sum(axis=1))
        out[start : start + len(chunk)] = direction * pull[:, None]
    return out


def bilinear(image: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Sample `image` (H, W, C) at continuous pixel coordinates (pixel centres at i + 0.5)."""
    h, w = image.shape[:2]
    x = np.clip(x - 0.5, 0.0, w - 1.0)
    y = np.clip(y - 0.5, 0.0, h - 1.0)
    x0 = np.minimum(np.floor(x).astype(np.intp), w - 2 if w > 1 else 0)
    y0 = np.minimum(np.floor(y).astype(np.intp), h - 2 if h > 1 else 0)
    x1, y1 = np.minimum(x0 + 1, w - 1), np.minimum(y0 + 1, h - 1)
    fx, fy = (x - x0)[..., None], (y - y0)[..., None]
    img = image.astype(np.float32)
    top = img[y0, x0] * (1 - fx) + img[y0, x1] * fx
    bottom = img[y1, x0] * (1 - fx) + img[y1, x1] * fx
    return top * (1 - fy) + bottom * fy


def warp_image(
    rgb: np.ndarray,
    src_points: ArrayLike,
    dst_points: ArrayLike,
    *,
    rigid: ArrayLike,
    falloff: ArrayLike,
    grid_step: int | None = None,
) -> np.ndarray:
    """Warp `rgb` (H, W, 3 uint8) so the content around each `src_points` (K, 2, pixel x, y)
    moves to `dst_points`. `rigid` and `falloff` are pixels, one value or one per point.

    The map is solved on a grid of `grid_step` pixels (default: half the smallest falloff of a
    point that moves a pixel or more, at least 1) over the area that moving points reach, and
    interpolated bilinearly in between; everything else is left as it is.
    """
    src = np.asarray(src_points, dtype=np.float64).reshape(-1, 2)
    dst = np.asarray(dst_points, dtype=np.float64).reshape(-1, 2)
    if src.shape != dst.shape:
        raise ValueError(f"src_points {src.shape} and dst_points {dst.shape} differ")
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) image, got {rgb.shape}")
    h, w = rgb.shape[:2]
    radius = _per_point(rigid, len(src), "rigid")
    width = _per_point(falloff, len(src), "falloff")
    shift = np.linalg.norm(src - dst, axis=1)
    moving = shift > 1e-6
    if not moving.any():
        return rgb.copy()
    # The area moving points reach (in output pixels).
    reach = radius + REACH * np.maximum(width, FOLD_FREE * shift) + shift
    lo = np.floor((dst[moving] - reach[moving, None]).min(axis=0)).astype(int)
    hi = np.ceil((dst[moving] + reach[moving, None]).max(axis=0)).astype(int)
    x0, y0 = max(int(lo[0]), 0), max(int(lo[1]), 0)
    x1, y1 = min(int(hi[0]), w), min(int(hi[1]), h)
    if x1 <= x0 or y1 <= y0:
        return rgb.copy()
    # Half the narrowest falloff among points that move a pixel or more (a sub-pixel jitter
    # needs no fine grid).
    visible = shift >= 1.0
    step = grid_step or max(
        1, int(np.maximum(width, 2.0)[visible if visible.any() else moving].min() / 2)
    )
    gx = np.arange(x0, x1 + step, step, dtype=np.float64)
    gy = np.arange(y0, y1 + step, step, dtype=np.float64)
    nodes = np.stack(np.meshgrid(gx, gy), axis=-1).reshape(-1, 2) + 0.5
    offset = backward_displacement(nodes, src, dst, radius, width).reshape(len(gy), len(gx), 2)
    # Pixel centres of the area, interpolated from the grid nodes.
    px = np.arange(x0, x1, dtype=np.float64) + 0.5
    py = np.arange(y0, y1, dtype=np.float64) + 0.5
    field = bilinear(
        offset, *np.meshgrid((px - 0.5 - x0) / step + 0.5, (py - 0.5 - y0) / step + 0.5)
    )
    xx, yy = np.meshgrid(px, py)
    out = rgb.copy()
    sampled = bilinear(rgb, xx + field[..., 0], yy + field[..., 1])
    out[y0:y1, x0:x1] = np.clip(np.rint(sampled), 0, 255).astype(np.uint8)
    return out

"""Landmark-driven image warp: moving least squares (similarity) on a coarse grid, numpy + Pillow.

`warp_image(rgb, src, dst)` moves the content at each `src` point to the matching `dst` point and
bends the rest of the image smoothly (Schaefer et al., "Image deformation using moving least
squares", SIGGRAPH 2006). Points that must stay put are passed with src == dst; the image border is
pinned by default. The map is solved on a coarse grid only and Pillow's MESH transform interpolates
it bilinearly inside each cell, so a 512-px image takes a few milliseconds.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

_EPS = 1e-9


def mls_similarity(
    points: np.ndarray, control_from: np.ndarray, control_to: np.ndarray, alpha: float = 1.0
) -> np.ndarray:
    """Map `points` (M, 2) by the MLS similarity deformation taking `control_from` to `control_to`.

    Each point gets its own similarity transform, fitted with weights 1 / |p_i - v|^(2 alpha), so
    the deformation is exact at the control points and local around them.
    """
    v = _as_complex(points)[:, None]
    p = _as_complex(control_from)[None, :]
    q = _as_complex(control_to)[None, :]
    w = 1.0 / (np.abs(p - v) ** (2.0 * alpha) + _EPS)
    w_sum = w.sum(axis=1, keepdims=True)
    p_star = (w * p).sum(axis=1, keepdims=True) / w_sum
    q_star = (w * q).sum(axis=1, keepdims=True) / w_sum
    p_hat = p - p_star
    q_hat = q - q_star
    # Weighted least-squares similarity (a complex factor) taking p_hat to q_hat.
    num = (w * np.conj(p_hat) * q_hat).sum(axis=1)
    den = (w * np.abs(p_hat) ** 2).sum(axis=1)
    m = np.where(den > _EPS, num / np.maximum(den, _EPS), 1.0)
    out = (v[:, 0] - p_star[:, 0]) * m + q_star[:, 0]
    return np.stack([out.real, out.imag], axis=1)


def border_points(width: int, height: int, per_side: int = 8) -> np.ndarray:
    """Evenly spaced points on the image border (corners included), shape (4 * per_side, 2)."""
    t = np.linspace(0.0, 1.0, per_side, endpoint=False)
    w, h = float(width - 1), float(height - 1)
    top = np.stack([t * w, np.zeros_like(t)], axis=1)
    right = np.stack([np.full_like(t, w), t * h], axis=1)
    bottom = np.stack([(1 - t) * w, np.full_like(t, h)], axis=1)
    left = np.stack([np.zeros_like(t), (1 - t) * h], axis=1)
    return np.concatenate([top, right, bottom, left])


def warp_image(
    rgb: np.ndarray,
    src_points: np.ndarray,
    dst_points: np.ndarray,
    *,
    grid_step: int | None = None,
    alpha: float = 1.0,
    pin_border: bool = True,
) -> np.ndarray:
    """Warp `rgb` (H, W, 3 uint8) so the content at `src_points` (K, 2, pixel x, y) ends up at
    `dst_points`. Returns a new array of the same shape and dtype.

    `grid_step` is the cell size in pixels of the grid the map is solved on (default: 1/48 of the
    longer side, at least 4 px).
    """
    src = np.asarray(src_points, dtype=np.float64).reshape(-1, 2)
    dst = np.asarray(dst_points, dtype=np.float64).reshape(-1, 2)
    if src.shape != dst.shape:
        raise ValueError(f"src_points {src.shape} and dst_points {dst.shape} differ")
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) image, got {rgb.shape}")
    h, w = rgb.shape[:2]
    if len(src) == 0 or np.allclose(src, dst):
        return rgb.copy()
    if pin_border:
        edge = border_points(w, h)
        src = np.concatenate([src, edge])
        dst = np.concatenate([dst, edge])
    step = grid_step or max(4, max(h, w) // 48)
    xs = np.unique(np.append(np.arange(0, w, step), w))
    ys = np.unique(np.append(np.arange(0, h, step), h))
    gx, gy = np.meshgrid(xs, ys)
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float64)
    # Backward map: for each output grid node, where to read in the input (dst -> src).
    sample = mls_similarity(grid, dst, src, alpha=alpha).reshape(len(ys), len(xs), 2)
    mesh = []
    for j in range(len(ys) - 1):
        for i in range(len(xs) - 1):
            box = (int(xs[i]), int(ys[j]), int(xs[i + 1]), int(ys[j + 1]))
            nw, sw = sample[j, i], sample[j + 1, i]
            se, ne = sample[j + 1, i + 1], sample[j, i + 1]
            mesh.append((box, (*nw, *sw, *se, *ne)))
    out = Image.fromarray(np.ascontiguousarray(rgb)).transform(
        (w, h), Image.Transform.MESH, mesh, resample=Image.Resampling.BILINEAR
    )
    return np.asarray(out).copy()


def _as_complex(points: np.ndarray) -> np.ndarray:
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    return pts[:, 0] + 1j * pts[:, 1]

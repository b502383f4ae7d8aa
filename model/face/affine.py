"""One affine image warp: a rotated, scaled square crop, and mapping points back out of it.

Coordinates are continuous pixels: pixel (i, j) covers [i, i+1) x [j, j+1), so the centre of the
top-left pixel is (0.5, 0.5). PIL's AFFINE transform uses the same convention.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike
from PIL import Image


def eye_line(left: ArrayLike, right: ArrayLike) -> tuple[float, float]:
    """(distance, angle in radians) from the image-left point to the image-right one: the eye
    line that cropping, levelling and the pose check all measure."""
    dx, dy = np.asarray(right, np.float64) - np.asarray(left, np.float64)
    return math.hypot(dx, dy), math.atan2(dy, dx)


def square_crop_matrix(
    centre: tuple[float, float], side: float, angle: float, size: int
) -> np.ndarray:
    """2x3 matrix mapping crop pixels (0..size) to image pixels.

    The crop is a square of `side` image pixels centred on `centre`, rotated by `angle` radians
    (the crop's x axis points along (cos angle, sin angle) in the image).
    """
    k = side / size
    c, s = math.cos(angle) * k, math.sin(angle) * k
    cx, cy = centre
    half = size / 2.0
    return np.array([[c, -s, cx - c * half + s * half], [s, c, cy - s * half - c * half]])


def warp(rgb: np.ndarray, crop_to_image: np.ndarray, size: int) -> np.ndarray:
    """Sample a size x size RGB crop (bilinear, black outside the image) -> uint8 array.

    Only the image region under the crop is handed to PIL (a copy of a 2048 px photo would cost
    more than the warp itself).
    """
    height, width = rgb.shape[:2]
    corners = apply(crop_to_image, np.array([[0, 0], [size, 0], [0, size], [size, size]], float))
    # Bilinear reads one pixel beyond each sample point: keep a 2 px margin.
    x0, y0 = np.maximum(np.floor(corners.min(axis=0)).astype(int) - 2, 0)
    x1 = min(int(np.ceil(corners[:, 0].max())) + 2, width)
    y1 = min(int(np.ceil(corners[:, 1].max())) + 2, height)
    if x1 <= x0 or y1 <= y0:
        return np.zeros((size, size, 3), np.uint8)
    region = Image.fromarray(np.ascontiguousarray(rgb[y0:y1, x0:x1]))
    matrix = crop_to_image.astype(float).copy()
    matrix[:, 2] -= (x0, y0)
    coeffs = tuple(float(v) for v in matrix.reshape(-1))
    out = region.transform((size, size), Image.Transform.AFFINE, coeffs, Image.Resampling.BILINEAR)
    return np.asarray(out)


def apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Map (N, 2) points through a 2x3 affine matrix."""
    return points @ matrix[:, :2].T + matrix[:, 2]

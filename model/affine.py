"""One affine image warp: a rotated, scaled square crop, and mapping points back out of it.

Coordinates are continuous pixels: pixel (i, j) covers [i, i+1) x [j, j+1), so the centre of the
top-left pixel is (0.5, 0.5). PIL's AFFINE transform uses the same convention.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image


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


def warp(rgb: np.ndarray | Image.Image, crop_to_image: np.ndarray, size: int) -> np.ndarray:
    """Sample a size x size RGB crop (bilinear, black outside the image) -> uint8 array."""
    image = rgb if isinstance(rgb, Image.Image) else Image.fromarray(rgb)
    coeffs = tuple(float(v) for v in crop_to_image.reshape(-1))
    out = image.transform((size, size), Image.Transform.AFFINE, coeffs, Image.Resampling.BILINEAR)
    return np.asarray(out)


def apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Map (N, 2) points through a 2x3 affine matrix."""
    return points @ matrix[:, :2].T + matrix[:, 2]

"""The one preprocessing function: align, crop and resize a face for the classifier.

Training and serving both call `classifier_input`, so there is no train/serve skew: same maths,
same library (Pillow), same resampling. Never resize classifier inputs any other way (tf.image
and PIL differ by ~8 grey levels on average).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike
from PIL import Image

from model.cnn.contract import INPUT_SIZE
from model.face import affine
from model.face.landmarks import IRIS_CENTRE, MIDLINE_STABLE

# Square side in units of inter-eye distance, and how far below the eye midpoint its centre
# lies. Eyes-to-chin is about 1.8 eye distances and brows sit ~0.4 above the eyes, so a side of
# 3.0 centred 0.5 below the eyes keeps brows, both mouth corners and the chin with a margin.
CROP_SCALE = 3.0
CENTRE_BELOW_EYES = 0.5
# Outside the photo the crop is black; training sees the same padding.
FILL = (0, 0, 0)


def crop_geometry(
    shape: tuple[int, ...], eyes: ArrayLike | None
) -> tuple[tuple[float, float], float, float]:
    """Centre (x, y), side and rotation (radians) of the source square, in image pixels.

    Coordinates are continuous: pixel (i, j) covers [i, i+1) x [j, j+1).
    """
    height, width = shape[:2]
    if eyes is None:
        return (width / 2.0, height / 2.0), float(min(width, height)), 0.0
    pts = np.asarray(eyes, dtype=np.float64).reshape(2, 2)
    if pts[0, 0] > pts[1, 0]:  # accept either order; image-left eye first
        pts = pts[::-1]
    dist, angle = affine.eye_line(pts[0], pts[1])
    if not math.isfinite(dist) or dist < 1.0:
        raise ValueError(f"eyes too close together to align: {pts.tolist()}")
    mid = pts.mean(axis=0)
    # "Down" in the face's own frame is perpendicular to the eye line.
    down = np.array([-math.sin(angle), math.cos(angle)])
    centre = mid + CENTRE_BELOW_EYES * dist * down
    return (float(centre[0]), float(centre[1])), CROP_SCALE * dist, angle


def midline_eyes(mesh: ArrayLike) -> np.ndarray:
    """Two points to align on instead of the pupils: one inter-pupil distance apart, level across
    the facial midline (fitted through the mesh's `MIDLINE_STABLE` points, as the measures fit
    it) and centred on it where it passes the pupils. A crop made from them
    (`classifier_input(rgb, midline_eyes(mesh))`) has the facial midline as its vertical centre
    line, so its mirror image about that line is the face mirrored about its own midline, even
    when a sagging lid or brow drags a pupil (the pupils alone would tilt the crop)."""
    pts = np.asarray(mesh, np.float64)[:, :2]
    line = pts[list(MIDLINE_STABLE)]
    # Midline x = a + b y (image), then its unit direction down the face.
    b, a = np.polyfit(line[:, 1], line[:, 0], 1)
    down = np.array([b, 1.0]) / math.hypot(b, 1.0)
    across = np.array([down[1], -down[0]])  # image-left to image-right
    left, right = pts[IRIS_CENTRE[0]], pts[IRIS_CENTRE[1]]
    ipd = float(np.linalg.norm(right - left))
    if not math.isfinite(ipd) or ipd < 1.0:
        raise ValueError(f"pupils too close together to align: {[left.tolist(), right.tolist()]}")
    # Where the midline passes the pupils: the point on it nearest their midpoint.
    mid = (left + right) / 2
    origin = np.array([a, 0.0])
    centre = origin + np.dot(mid - origin, down) * down
    return np.stack([centre - across * ipd / 2, centre + across * ipd / 2])


def classifier_input(rgb: np.ndarray, eyes: ArrayLike | None, size: int = INPUT_SIZE) -> np.ndarray:
    """uint8 [size, size, 3]: rotate so the eyes are level, crop a square with margin, resize.

    `rgb` is H x W x 3 uint8; `eyes` is ((x, y) image-left eye, (x, y) image-right eye) in
    pixels, or None for a centred square of the whole image. One affine warp (bilinear) does
    rotation, crop and scale; on large downscales the region is first box-reduced by an integer
    factor so the warp never shrinks by 2x or more, which would alias.
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected H x W x 3 uint8, got {rgb.shape} {rgb.dtype}")
    centre, side, angle = crop_geometry(rgb.shape, eyes)
    # Output pixels -> image pixels.
    matrix = affine.square_crop_matrix(centre, side, angle, size)
    # Bounding box of the rotated source square, cut to what the photo holds.
    corners = np.array([[0.0, 0.0], [size, 0.0], [size, size], [0.0, size]])
    pts = affine.apply(matrix, corners)
    height, width = rgb.shape[:2]
    x0 = max(0, math.floor(pts[:, 0].min()) - 1)
    y0 = max(0, math.floor(pts[:, 1].min()) - 1)
    x1 = min(width, math.ceil(pts[:, 0].max()) + 1)
    y1 = min(height, math.ceil(pts[:, 1].max()) + 1)
    if x1 <= x0 or y1 <= y0:
        return np.zeros((size, size, 3), np.uint8) + np.array(FILL, np.uint8)

    image = Image.fromarray(rgb[y0:y1, x0:x1])
    factor = max(1, int(side / size))  # source pixels per output pixel, rounded down
    if factor > 1:
        image = image.reduce(factor)
    # Output pixels -> the (reduced) crop's continuous coordinates.
    matrix[:, 2] -= (x0, y0)
    matrix /= factor
    out = image.transform(
        (size, size),
        Image.Transform.AFFINE,
        tuple(matrix.reshape(-1)),
        resample=Image.Resampling.BILINEAR,
        fillcolor=FILL,
    )
    return np.asarray(out, dtype=np.uint8)

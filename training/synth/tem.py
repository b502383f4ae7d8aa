"""Reader for the London set's `.tem` landmark templates (189 hand-placed points)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

# Indices into a London template (image sides: the subject's right eye is on the image's left).
PUPIL_IMAGE_LEFT = 0
PUPIL_IMAGE_RIGHT = 1
MOUTH_CORNER_IMAGE_LEFT = 87
MOUTH_CORNER_IMAGE_RIGHT = 93


def read_tem(path: Path) -> np.ndarray:
    """Return the template's points as a float64 array of shape (n, 2), pixel (x, y)."""
    lines = path.read_text().split("\n")
    n = int(lines[0].split()[0])
    pts = np.array([[float(v) for v in line.split()[:2]] for line in lines[1 : 1 + n]])
    if pts.shape != (n, 2):
        raise ValueError(f"{path}: expected {n} points, got {pts.shape}")
    return pts


def inter_pupil_distance(points: np.ndarray) -> float:
    return float(np.linalg.norm(points[PUPIL_IMAGE_RIGHT] - points[PUPIL_IMAGE_LEFT]))

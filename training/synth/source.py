"""Source photos at the working size, with the studio background keyed out."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from training.synth.points import FacePoints
from training.synth.settings import WORK_SIZE


@dataclass
class Source:
    subject: str
    kind: str  # "neutral" or "smiling"
    rgb: np.ndarray  # WORK_SIZE square
    points: FacePoints
    foreground: np.ndarray  # float32 [0, 1] mask, 1 = person


def load_source(path: Path, points: FacePoints) -> Source:
    img = Image.open(path).convert("RGB")
    k = WORK_SIZE / max(img.size)
    img = img.resize((round(img.width * k), round(img.height * k)), Image.Resampling.LANCZOS)
    rgb = np.asarray(img)
    if rgb.shape[:2] != (WORK_SIZE, WORK_SIZE):
        canvas = np.zeros((WORK_SIZE, WORK_SIZE, 3), np.uint8)
        canvas[: rgb.shape[0], : rgb.shape[1]] = rgb
        rgb = canvas
    kind = "neutral" if path.parent.name == "neutral" else "smiling"
    return Source(path.stem.split("_")[0], kind, rgb, points.scaled(k), foreground_mask(rgb))


def foreground_mask(rgb: np.ndarray, tolerance: float = 16.0, work: int = 256) -> np.ndarray:
    """Key out the studio background; float32 [0, 1] mask at `rgb`'s size, 1 = person.

    The London backdrop is plain grey with a vignette, so its colour is modelled as a quadratic
    surface fitted (with outlier trimming) to the top band and the side bands above the shoulders.
    Pixels within `tolerance` of that surface and connected to the top or sides are background.
    Solved at `work` px (the flood fill is pure Python) and scaled back up, softly.
    """
    h0, w0 = rgb.shape[:2]
    small = np.asarray(Image.fromarray(rgb).resize((work, work), Image.Resampling.BOX), np.float64)
    h, w = work, work
    yy, xx = np.mgrid[0:h, 0:w]
    x, y = xx / w - 0.5, yy / h - 0.5
    feats = np.stack([np.ones_like(x), x, y, x * x, x * y, y * y], axis=-1)
    band = np.zeros((h, w), bool)
    band[: h // 12] = True
    band[: int(h * 0.75), : w // 16] = True
    band[: int(h * 0.75), -(w // 16) :] = True
    f, v = feats[band], small[band]
    keep = np.ones(len(f), bool)
    for _ in range(3):
        coef, *_ = np.linalg.lstsq(f[keep], v[keep], rcond=None)
        resid = np.abs(f @ coef - v).max(axis=1)
        keep = resid < max(8.0, float(np.percentile(resid, 70)))
    near = np.abs(small - feats @ coef).max(axis=2) < tolerance
    # .copy(): an image made by fromarray may share read-only memory, and floodfill then no-ops.
    mask = Image.fromarray(near.astype(np.uint8) * 255, "L").copy()
    for sx, sy in _border_seeds(w, int(h * 0.75), step=8):
        if mask.getpixel((sx, sy)) == 255:
            ImageDraw.floodfill(mask, (sx, sy), 128)
    person = Image.fromarray(((np.asarray(mask) != 128) * 255).astype(np.uint8), "L")
    person = person.resize((w0, h0), Image.Resampling.BILINEAR).filter(ImageFilter.GaussianBlur(1))
    return np.asarray(person, dtype=np.float32) / 255.0


def _border_seeds(w: int, h: int, step: int = 32) -> Iterator[tuple[int, int]]:
    """Seeds along the top edge and down both sides to height `h` (not the bottom: the body)."""
    for x in range(0, w, step):
        yield x, 0
    for y in range(0, h, step):
        yield 0, y
        yield w - 1, y

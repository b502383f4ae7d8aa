"""Test photos for the model tests, derived from London set photos on the fly (never stored).

Face images: DeBruine & Jones (2017), Face Research Lab London Set, CC BY 4.0,
https://doi.org/10.6084/m9.figshare.5047666.v5. Modified: resized, relit, blurred, warped.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

GREY = (128, 128, 128)


def jpeg(rgb: np.ndarray | Image.Image, quality: int = 92) -> bytes:
    image = rgb if isinstance(rgb, Image.Image) else Image.fromarray(rgb)
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def london(path: Path, side: int = 960) -> Image.Image:
    """A London photo resized to `side` px (they are 1350 px square): faster, phone-like."""
    with Image.open(path) as image:
        return image.convert("RGB").resize((side, side), Image.Resampling.LANCZOS)


def relit(image: Image.Image, gain: float) -> Image.Image:
    return image.point(lambda v: min(255, round(v * gain)))


def blurred(image: Image.Image, sigma: float) -> Image.Image:
    return image.filter(ImageFilter.GaussianBlur(sigma))


def side_by_side(a: Image.Image, b: Image.Image) -> Image.Image:
    canvas = Image.new("RGB", (a.width + b.width, max(a.height, b.height)), GREY)
    canvas.paste(a, (0, 0))
    canvas.paste(b, (a.width, 0))
    return canvas


def far_away(image: Image.Image, fraction: float, canvas: int = 1280) -> Image.Image:
    """The photo shrunk to `fraction` of a grey canvas's width, as if taken from far away."""
    side = max(1, round(canvas * fraction))
    out = Image.new("RGB", (canvas, canvas * 3 // 4), GREY)
    out.paste(image.resize((side, side), Image.Resampling.LANCZOS), (canvas // 3, canvas // 4))
    return out

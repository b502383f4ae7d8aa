"""Test photos for the model tests, derived from London set photos on the fly (never stored).

Face images: DeBruine & Jones (2017), Face Research Lab London Set, CC BY 4.0,
https://doi.org/10.6084/m9.figshare.5047666.v5. Modified: resized, relit, blurred, warped.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from model.face.preprocess import CENTRE_BELOW_EYES, CROP_SCALE

GREY = (128, 128, 128)


def eye_positions(size: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """Where `classifier_input` should put the two eyes in its output (continuous pixel
    coordinates): a gap of size / CROP_SCALE, level, CENTRE_BELOW_EYES gaps above the centre."""
    half_gap = size / CROP_SCALE / 2.0
    y = size / 2.0 - CENTRE_BELOW_EYES * size / CROP_SCALE
    return (size / 2.0 - half_gap, y), (size / 2.0 + half_gap, y)


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


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def grey_png(width: int, height: int, idat: bytes | None = None) -> bytes:
    """A valid 8-bit grey PNG of zeros, built by hand so a huge one costs little memory."""
    if idat is None:
        z = zlib.compressobj(9)
        row = b"\0" * (width + 1)
        idat = b"".join(z.compress(row) for _ in range(height)) + z.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )

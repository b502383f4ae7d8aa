"""Photo bytes -> H x W x 3 uint8 RGB, upright (EXIF applied), or `Rejected` with a reason.

Guards, in order, each before the work it protects:
1. byte count, before Pillow sees the data;
2. format allow-list (`Image.open(formats=...)`): SVG, PDF, HEIC, TIFF... are NOT_IMAGE;
3. pixel count and minimum side from the header, before any pixel is decoded. Pillow's global
   `Image.MAX_IMAGE_PIXELS` is left alone (other code shares it): our own limit is stricter by
   default, and Pillow's `DecompressionBombError` (over 2x its limit) also maps to TOO_MANY_PIXELS.
   Between 1x and 2x Pillow's limit (89-179 MP) Pillow still emits its DecompressionBombWarning
   at open, before our check refuses the file: a log line, not a failure;
4. decoding errors (truncated, corrupt) -> CORRUPT. `ImageFile.LOAD_TRUNCATED_IMAGES` stays
   False, so a truncated file is refused rather than half grey.

Animated GIF / WebP / APNG and multi-picture MPO: the first frame is used (for MPO, the primary
picture). A selfie sent as a short animation still shows the face in its first frame, and the
first frame is deterministic, unlike "the sharpest" one.

Big photos: the long side is brought to at most `max_side` pixels by an integer box reduction;
JPEGs get as much of it as possible for free from libjpeg's DCT scaling (`draft`), which makes a
12 MP phone photo ~3x faster to decode. Decoding is deterministic for given bytes, so training
and serving, which both call this, see the same pixels.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
from PIL import (
    Image,
    ImageOps,
    WebPImagePlugin,  # noqa: F401 (registers WebP for `formats=`)
)

from model.reasons import Reason, Rejected

# Openers tried, in order. Many phone JPEGs carry extra pictures: Pillow's JPEG opener returns
# them with format "MPO". Importing the WebP plugin registers it without `Image.init()`.
ALLOWED_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "WEBP", "BMP", "GIF")
# Transparent pixels become this colour: a plain light background, like a passport photo.
BACKGROUND = (255, 255, 255)


@dataclass(frozen=True)
class DecodeLimits:
    max_bytes: int = 20 * 1024 * 1024
    # Decompression-bomb guard, from the header. 40 MP covers every current phone camera.
    max_pixels: int = 40_000_000
    # Shorter side below this cannot hold a face big enough to screen.
    min_side: int = 128
    # Decoded images larger than this (long side) are box-reduced by an integer factor.
    max_side: int = 2048


def decode_image(data: bytes, limits: DecodeLimits = DecodeLimits()) -> np.ndarray:
    """Decode `data` to an upright H x W x 3 uint8 RGB array, or raise `Rejected`."""
    if not data:
        raise Rejected(Reason.EMPTY)
    if len(data) > limits.max_bytes:
        raise Rejected(Reason.TOO_MANY_BYTES, f"{len(data)} bytes > {limits.max_bytes}")
    try:
        image = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
    except Image.DecompressionBombError as exc:
        raise Rejected(Reason.TOO_MANY_PIXELS, str(exc)) from None
    except Exception as exc:  # Pillow raises many types for unreadable headers
        raise Rejected(Reason.NOT_IMAGE, f"{type(exc).__name__}: {exc}") from None
    with image:
        width, height = image.size
        if width * height > limits.max_pixels:
            raise Rejected(Reason.TOO_MANY_PIXELS, f"{width}x{height} > {limits.max_pixels} px")
        # Judged after the reduction to `max_side`: a 20000 x 200 strip would end 13 px high.
        factor = max(1, math.ceil(max(width, height) / limits.max_side))
        if min(width, height) / factor < limits.min_side:
            raise Rejected(Reason.TOO_SMALL, f"{width}x{height}, shorter side < {limits.min_side}")
        try:
            return _decode(image, limits.max_side)
        except Exception as exc:  # truncated data, bad chunks, broken EXIF...
            raise Rejected(Reason.CORRUPT, f"{type(exc).__name__}: {exc}") from None


def _decode(image: Image.Image, max_side: int) -> np.ndarray:
    factor = math.ceil(max(image.size) / max_side)
    if image.format in ("JPEG", "MPO") and factor > 1:
        scale = next(s for s in (8, 4, 2, 1) if s <= factor)
        image.draft(None, (image.width // scale, image.height // scale))
    image.load()
    ImageOps.exif_transpose(image, in_place=True)
    rgb = to_rgb(image)
    factor = math.ceil(max(rgb.size) / max_side)
    if factor > 1:
        rgb = rgb.reduce(factor)
    return np.asarray(rgb, dtype=np.uint8)


def to_rgb(image: Image.Image) -> Image.Image:
    """Any Pillow mode -> RGB: alpha composited on `BACKGROUND`, 16-bit grey scaled to 8 bits."""
    mode = image.mode
    if mode == "RGB":
        return image
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        # Pillow's convert("L") clips 16-bit values at 255; scale instead.
        grey = np.asarray(image).astype(np.uint32)
        grey = (np.clip(grey, 0, 65535) >> 8).astype(np.uint8)
        return Image.fromarray(grey, "L").convert("RGB")
    if mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    elif mode == "P":
        return image.convert("RGB")
    if "A" in image.getbands():
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (*BACKGROUND, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")

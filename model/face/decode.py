"""Photo bytes -> H x W x 3 uint8 RGB, upright (EXIF applied), or `Rejected` with a reason.

Guards, in order, each before the work it protects:
1. byte count, before Pillow sees the data;
2. format allow-list (`Image.open(formats=...)`): SVG, PDF, HEIC, TIFF... are NOT_IMAGE;
3. pixel count and minimum side from the header, before any pixel is decoded. Pillow's global
   `Image.MAX_IMAGE_PIXELS` is left alone (other code shares it): our own limit is stricter by
   default, and Pillow's `DecompressionBombError` (over 2x its limit) also maps to TOO_MANY_PIXELS.
   Between 1x and 2x Pillow's limit (89-179 MP) Pillow still emits its DecompressionBombWarning
   at open, before our check refuses the file: a log line, not a failure;
4. the memory decoding will take, from the header too (`decode_bytes`: format, mode, JPEG
   scale and progression), against `max_decode_bytes`: a 166 KiB PNG of 6300 x 6300 flat RGBA
   pixels is under 40 MP but needs 150 MiB as decoded pixels (it used to take a process from
   189 to 795 MiB), so it is TOO_MANY_PIXELS with that said; a 40 MP palette PNG needs 38 MiB
   and is screened;
5. decoding errors (truncated, corrupt) -> CORRUPT. `ImageFile.LOAD_TRUNCATED_IMAGES` stays
   False, so a truncated file is refused rather than half grey.

No full-size colour work: the decoded pixels, in their own mode, are reduced in strips, each
strip turned to RGB (alpha composited, 16-bit scaled, palette looked up) and box-reduced before
the next, and only the reduced image is rotated upright. So the decoded image itself is the
largest buffer, and bench/decode_memory.py measures what each format takes.

Animated GIF / WebP / APNG and multi-picture MPO: the first frame is used (for MPO, the primary
picture). A selfie sent as a short animation still shows the face in its first frame, and the
first frame is deterministic, unlike "the sharpest" one.

Scale: nothing downstream needs a photo's full resolution (the detector looks at 320 px, the
mesh at a 192 px crop, the classifier at a 224 px crop), so JPEGs are decoded at the smallest
libjpeg DCT scale (1/2, 1/4, 1/8: `draft`, nearly free) that keeps the long side at least
`min_long_side` pixels (and the short side at least `min_side`). A 1280 x 960 Telegram photo
decodes at 640 x 480 in half the time; a 12 MP phone photo at 1008 x 756. Other formats, and
anything still longer than `max_side`, get an integer box reduction. `decode` says how many
original pixels one decoded pixel stands for, so size rules can be stated in the photo's own
pixels. Decoding is deterministic for given bytes, so training and serving, which both call
this, see the same pixels.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
from PIL import (
    ExifTags,
    Image,
    WebPImagePlugin,  # noqa: F401 (registers WebP for `formats=`)
)

from model.reasons import Reason, Rejected

# Openers tried, in order. Many phone JPEGs carry extra pictures: Pillow's JPEG opener returns
# them with format "MPO". Importing the WebP plugin registers it without `Image.init()`.
ALLOWED_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "WEBP", "BMP", "GIF")
# File names of those formats (the bot takes a file of these as a photo).
IMAGE_EXTENSIONS: tuple[str, ...] = (".jpg", ".jpeg", ".jpe", ".png", ".webp", ".bmp", ".gif")
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
    # JPEGs decode at a reduced DCT scale while the long side stays at least this long; 0 decodes
    # at full scale (up to `max_side`). With 640 a 4:3 photo's face that passes the quality gate
    # (15 % of the short side) keeps 72 decoded px or more. bench/decode_scale.py, 102 London
    # photos: landmark error 0.0157 -> 0.0159 IPD (originals), 0.0161 -> 0.0168 (150 px faces);
    # every pinned decision (tests/support/data/grader_pins.json) unchanged. The sharpness gate sees
    # small faces upsampled, so it is a little stricter: 7/102 borderline blurred photos more
    # are refused (never fewer).
    min_long_side: int = 640
    # Memory decoding one image may take (`decode_bytes`: its decoded pixels, the strips, the
    # reduced result), so that a screening process stays under 300 MiB whatever it is sent
    # (tests/proof/test_proof_memory.py). 96 MiB: an RGB(A) PNG or BMP up to ~13 MP, a palette
    # or grey one up to 40 MP, any baseline JPEG up to 40 MP (decoded at a reduced scale), a
    # progressive 4:2:0 JPEG up to ~18 MP, a WebP up to ~5 MP.
    max_decode_bytes: int = 96 * 1024 * 1024


@dataclass(frozen=True)
class Decoded:
    """An upright H x W x 3 uint8 RGB image and how many original pixels one of its pixels spans
    (1.0 when decoded at full size)."""

    rgb: np.ndarray
    scale: float


def decode_image(data: bytes, limits: DecodeLimits = DecodeLimits()) -> np.ndarray:
    """Decode `data` to an upright H x W x 3 uint8 RGB array, or raise `Rejected`."""
    return decode(data, limits).rgb


def decode(data: bytes, limits: DecodeLimits = DecodeLimits()) -> Decoded:
    """Decode `data` at the scale `limits` allow, with that scale, or raise `Rejected`."""
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
        needs = decode_bytes(image, limits)
        if needs > limits.max_decode_bytes:
            what = f"{width}x{height} {image.format} {image.mode}"
            mib = f"{needs / 2**20:.0f} MiB > {limits.max_decode_bytes / 2**20:.0f} MiB"
            raise Rejected(Reason.TOO_MANY_PIXELS, f"{what} needs {mib} to decode")
        try:
            rgb = _decode(image, limits)
        except Exception as exc:  # truncated data, bad chunks, broken EXIF...
            raise Rejected(Reason.CORRUPT, f"{type(exc).__name__}: {exc}") from None
    return Decoded(rgb, max(width, height) / max(rgb.shape[:2]))


def draft_scale(size: tuple[int, int], limits: DecodeLimits) -> int:
    """The DCT scale denominator (8, 4, 2 or 1) a JPEG of `size` is decoded at."""
    long, short = max(size), min(size)
    # As much of the `max_side` reduction as the DCT can do, never more.
    most = max(1, math.ceil(long / limits.max_side))
    for scale in (8, 4, 2) if limits.min_long_side > 0 else ():
        if long / scale >= limits.min_long_side and short / scale >= limits.min_side:
            most = max(most, scale)
            break
    return next(s for s in (8, 4, 2, 1) if s <= most)


# Bytes per pixel of Pillow's image by mode ("1" and "P" are a byte a pixel; most modes four).
_MODE_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16L": 2, "I;16B": 2, "I;16N": 2}
# WebP: libwebp's canvas, its copy handed to Python, and Pillow's image, all full size at once
# (bench/decode_memory.py measured 12.9).
_WEBP_BYTES = 13
# The reduced RGB image: Pillow's (4 bytes a pixel), its bytes and the array made of them (3+3).
_OUT_BYTES = 10
# Strips of this many pixels are turned to RGB and reduced at a time.
STRIP_PIXELS = 1 << 20
_STRIP_BYTES = 20  # a strip as RGBA, composited on its background, then RGB (+ margin)


def decode_bytes(image: Image.Image, limits: DecodeLimits = DecodeLimits()) -> int:
    """About the most memory decoding the opened (not yet loaded) `image` takes: its decoded
    pixels, the strips, and the reduced result (bench/decode_memory.py measures each format)."""
    width, height = image.size
    if image.format in ("JPEG", "MPO"):
        scale = draft_scale(image.size, limits)
        width, height = math.ceil(width / scale), math.ceil(height / scale)
    factor = max(1, math.ceil(max(width, height) / limits.max_side))
    out = math.ceil(width / factor) * math.ceil(height / factor) * _OUT_BYTES
    out += min(width * height, STRIP_PIXELS) * _STRIP_BYTES if factor > 1 else 0
    if image.format in ("JPEG", "MPO"):
        decoded = width * height * _MODE_BYTES.get(image.mode, 4)
        if image.info.get("progressive"):
            # A progressive JPEG keeps every DCT coefficient (2 bytes) of every component at
            # full size until its last scan, whatever the output scale.
            layers = getattr(image, "layer", None) or [(0, 1, 1, 0)] * len(image.getbands())
            most = max(layer[1] for layer in layers) * max(layer[2] for layer in layers)
            share = sum(layer[1] * layer[2] for layer in layers) / most
            decoded += int(image.width * image.height * share * 2)
        return decoded + out  # a baseline one is decoded a few rows at a time
    per_pixel = _WEBP_BYTES if image.format == "WEBP" else _MODE_BYTES.get(image.mode, 4)
    return width * height * per_pixel + out


def _decode(image: Image.Image, limits: DecodeLimits) -> np.ndarray:
    if image.format in ("JPEG", "MPO"):
        scale = draft_scale(image.size, limits)
        if scale > 1:
            image.draft(None, (image.width // scale, image.height // scale))
    image.load()
    factor = math.ceil(max(image.size) / limits.max_side)
    rgb = _reduced_rgb(image, factor)
    return np.asarray(_upright(rgb, image), dtype=np.uint8)


def _reduced_rgb(image: Image.Image, factor: int) -> Image.Image:
    """`to_rgb(image).reduce(factor)`, a strip at a time: no full-size RGB or RGBA copy.
    Strips are whole multiples of `factor` rows, so every box is the one whole-image reduction
    would average: the pixels are the same."""
    if factor <= 1:
        return to_rgb(image)
    width, height = image.size
    rows = factor * max(1, STRIP_PIXELS // (width * factor))
    out = Image.new("RGB", (math.ceil(width / factor), math.ceil(height / factor)))
    for top in range(0, height, rows):
        strip = image.crop((0, top, width, min(height, top + rows)))  # keeps palette and info
        out.paste(to_rgb(strip).reduce(factor), (0, top // factor))
    return out


# EXIF orientation -> the transpose that makes the picture upright (as ImageOps.exif_transpose).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _upright(rgb: Image.Image, original: Image.Image) -> Image.Image:
    """`rgb` (reduced from `original`) turned as `original`'s EXIF orientation says."""
    orientation = original.getexif().get(ExifTags.Base.Orientation, 1)
    method = _UPRIGHT.get(orientation)
    return rgb if method is None else rgb.transpose(method)


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

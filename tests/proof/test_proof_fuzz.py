"""Property-based fuzzing of decoding and of the whole pipeline: whatever the bytes, a decoded
RGB image or a `Rejected` (decode), a ScreeningResult (Screener.screen); never another
exception, and each input within a time bound (hypothesis `deadline`).

Repeatable: derandomized, no example database, so CI tries the same inputs every run. The
bounds are generous (2 busy cores); a slow path shows up as seconds, not milliseconds.
tests/model/face/test_decode.py and tests/model/test_pipeline.py fuzz byte flips of one
JPEG and well-formed images of any mode; these add raw bytes, bytes behind every format's magic
number, lying PNG headers, hostile EXIF, and mangled real photos through the whole pipeline.
"""

from __future__ import annotations

import io
import struct
import zlib
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from model.decision.triage import Tier
from model.face.decode import decode_image
from model.pipeline import Screener
from model.reasons import Reason, Rejected
from tests.conftest import LONDON
from tests.support.model_images import jpeg, london
from tests.support.onnx_fixtures import build_tiny_classifier, passthrough_screener

REPEATABLE = {"derandomize": True, "database": None}
DECODE_BOUND = timedelta(seconds=2)
SCREEN_BOUND = timedelta(seconds=4)

MAGIC = [
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
    b"\xff\xd8\xff\xe1",
    b"\x89PNG\r\n\x1a\n",
    b"GIF89a",
    b"GIF87a",
    b"RIFF\x00\x10\x00\x00WEBPVP8 ",
    b"BM",
    b"II*\x00",
    b"\x00\x00\x00\x18ftypheic",
    b"<svg ",
    b"%PDF-1.7",
]


def _decoded_or_rejected(data: bytes) -> None:
    try:
        rgb = decode_image(data)
    except Rejected as rejected:
        assert isinstance(rejected.reason, Reason)
        return
    assert rgb.ndim == 3 and rgb.shape[2] == 3 and rgb.dtype == np.uint8
    assert max(rgb.shape[:2]) <= 2048


@settings(max_examples=150, deadline=DECODE_BOUND, **REPEATABLE)
@given(st.binary(max_size=4096))
def test_decode_any_bytes(data: bytes) -> None:
    _decoded_or_rejected(data)


@settings(max_examples=150, deadline=DECODE_BOUND, **REPEATABLE)
@given(st.sampled_from(MAGIC), st.binary(max_size=2048))
def test_decode_garbage_behind_a_magic_number(magic: bytes, tail: bytes) -> None:
    _decoded_or_rejected(magic + tail)


def _png(width: int, height: int, depth: int, colour: int, idat: bytes) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    head = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
    return head + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@settings(max_examples=80, deadline=DECODE_BOUND, **REPEATABLE)
@given(
    width=st.integers(0, 2**31 - 1),
    height=st.integers(0, 2**31 - 1),
    depth=st.sampled_from([1, 2, 4, 8, 16, 3, 0]),
    colour=st.sampled_from([0, 2, 3, 4, 6, 1, 7]),
    rows=st.integers(0, 64),
)
def test_png_header_lying_about_its_size(
    width: int, height: int, depth: int, colour: int, rows: int
) -> None:
    # Checksums right, so only the claims are wrong: up to 2^62 pixels in a few bytes.
    idat = zlib.compress(b"\0" * rows * 64)
    _decoded_or_rejected(_png(width, height, depth, colour, idat))


@settings(max_examples=40, deadline=DECODE_BOUND, **REPEATABLE)
@given(
    orientation=st.integers(0, 65535),
    size=st.tuples(st.integers(128, 400), st.integers(128, 400)),
    extra=st.dictionaries(st.integers(1, 65535), st.integers(0, 2**32 - 1), max_size=4),
)
def test_hostile_exif(orientation: int, size: tuple[int, int], extra: dict[int, int]) -> None:
    exif = Image.Exif()
    for tag, value in extra.items():
        exif[tag] = value
    exif[0x0112] = orientation
    buf = io.BytesIO()
    try:
        Image.new("RGB", size, (90, 120, 150)).save(buf, "JPEG", exif=exif)
    except (OSError, ValueError, struct.error):
        return  # Pillow cannot write this EXIF: no such file to screen
    _decoded_or_rejected(buf.getvalue())


# --- the whole pipeline -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def screener(tmp_path_factory: pytest.TempPathFactory) -> Screener:
    path = tmp_path_factory.mktemp("fuzz") / "c.onnx"
    return passthrough_screener(build_tiny_classifier(path, bias={"mild_eye": 6.0}))


@pytest.fixture(scope="module")
def photo() -> bytes:
    """A real face when the London set is present (so mangling reaches every stage), else a
    synthetic picture."""
    faces = sorted((LONDON / "neutral").glob("*_03.jpg"))
    if faces:
        return jpeg(london(faces[0], 480), quality=85)
    ys, xs = np.mgrid[:360, :480]
    return jpeg(np.stack([xs % 256, ys % 256, (xs + ys) % 256], -1).astype(np.uint8))


def _a_result(screener: Screener, data: bytes) -> None:
    result = screener.screen(data)
    assert result.status in ("ok", "rejected")
    assert (result.status == "ok") == (result.reason is None)
    if result.status == "rejected" and result.reason is not Reason.LOW_CONFIDENCE:
        assert result.tier is Tier.RETAKE and result.label is None
    assert result.timings_ms["total"] >= 0


@settings(max_examples=40, deadline=SCREEN_BOUND, **REPEATABLE)
@given(data=st.data())
def test_screen_mangled_photo(screener: Screener, photo: bytes, data: st.DataObject) -> None:
    # Damage behind the headers (in the entropy-coded scan), so most inputs still decode into
    # a picture of some sort and go on to the detector, mesh and classifier.
    raw = bytearray(photo)
    scan = photo.index(b"\xff\xda") + 16
    for _ in range(data.draw(st.integers(0, 8), "flips")):
        raw[data.draw(st.integers(scan, len(raw) - 1), "at")] = data.draw(st.integers(0, 255))
    end = data.draw(st.one_of(st.just(len(raw)), st.integers(scan, len(raw))), "cut")
    _a_result(screener, bytes(raw[:end]))


@settings(max_examples=40, deadline=SCREEN_BOUND, **REPEATABLE)
@given(st.sampled_from(MAGIC), st.binary(max_size=2048))
def test_screen_garbage(screener: Screener, magic: bytes, tail: bytes) -> None:
    _a_result(screener, magic + tail)

"""The bad-input corpus through the whole pipeline (`Screener.screen`): each case gives its
intended reason code, or a correct screening, never an exception.

Only the cases the model tests check at decode level alone are here; the rest already go
through `Screener.screen` in tests/model/test_pipeline.py (zero bytes, truncated JPEG, no
face, a face at 5 %, two faces, EXIF-rotated). Odd formats of a real face must still be screened:
the tiny classifier's bias makes that result "ok, mild_eye" whenever the face got through.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from model.decision.triage import Tier
from model.pipeline import Screener
from model.reasons import Reason
from model.result import ScreeningResult
from tests.support.model_images import grey_png, london
from tests.support.onnx_fixtures import build_tiny_classifier, passthrough_screener


@pytest.fixture(scope="module")
def screener(tmp_path_factory: pytest.TempPathFactory) -> Screener:
    path = tmp_path_factory.mktemp("bad-inputs") / "c.onnx"
    return passthrough_screener(build_tiny_classifier(path, bias={"mild_eye": 6.0}))


@pytest.fixture(scope="module")
def face(london_neutral: list[Path]) -> Image.Image:
    return london(london_neutral[4], 720)


def _save(image: Image.Image, fmt: str, **kwargs: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **kwargs)
    return buf.getvalue()


def _rejected(result: ScreeningResult, *reasons: Reason) -> None:
    assert (result.status, result.tier, result.label) == ("rejected", Tier.RETAKE, None)
    assert result.reason in reasons, result.reason


def _screened(result: ScreeningResult) -> None:
    assert (result.status, result.reason, result.label) == ("ok", None, "mild_eye")
    assert result.face is not None and result.asymmetry


# --- refused, with the reason that tells the user what to do ----------------------------------
# (the bomb is built when its test runs: 64 MP of zeros take a moment to compress)

REFUSED = {
    "random-bytes": (np.random.default_rng(7).bytes(20_000), (Reason.NOT_IMAGE,)),
    "png-bomb-64MP": (lambda: grey_png(8000, 8000), (Reason.TOO_MANY_PIXELS,)),
    "1x1": (_save(Image.new("RGB", (1, 1)), "PNG"), (Reason.TOO_SMALL,)),
    "20000x50": (_save(Image.new("RGB", (20000, 50), (90, 90, 90)), "PNG"), (Reason.TOO_SMALL,)),
    "heic-renamed": (
        b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(2000),
        (Reason.NOT_IMAGE, Reason.CORRUPT),
    ),
    "svg-renamed": (
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="900" '
        b'height="900"><circle cx="450" cy="450" r="400"/></svg>',
        (Reason.NOT_IMAGE,),
    ),
    "pdf-renamed": (
        b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n" + b"0" * 2000,
        (Reason.NOT_IMAGE,),
    ),
}


@pytest.mark.parametrize("case", REFUSED)
def test_refused_with_its_reason(screener: Screener, case: str) -> None:
    data, reasons = REFUSED[case]
    _rejected(screener.screen(data() if callable(data) else data), *reasons)


# --- odd encodings of a real face are screened ------------------------------------------------


def _cmyk(face: Image.Image) -> bytes:
    return _save(face.convert("CMYK"), "JPEG", quality=92)


def _grey16(face: Image.Image) -> bytes:
    grey = np.asarray(face.convert("L"), dtype=np.uint16) * 257
    return _save(Image.fromarray(grey), "PNG")


def _rgba(face: Image.Image) -> bytes:
    rgba = face.convert("RGBA")
    rgba.putalpha(Image.new("L", face.size, 255))
    return _save(rgba, "PNG")


def _animated(face: Image.Image) -> bytes:
    blank = Image.new("RGB", face.size, (20, 20, 20))
    return _save(face, "GIF", save_all=True, append_images=[blank], duration=200, loop=0)


ENCODINGS = {
    "cmyk-jpeg": _cmyk,
    "16-bit-png": _grey16,
    "grayscale-jpeg": lambda face: _save(face.convert("L"), "JPEG", quality=92),
    "rgba-png": _rgba,
    "palette-png": lambda face: _save(face.quantize(256), "PNG"),
    "animated-gif": _animated,
}


@pytest.mark.parametrize("case", ENCODINGS)
def test_face_in_any_encoding_is_screened(screener: Screener, face: Image.Image, case: str) -> None:
    data = ENCODINGS[case](face)
    _screened(screener.screen(data))


def test_animated_gif_is_screened_on_its_first_frame(screener: Screener, face: Image.Image) -> None:
    blank = Image.new("RGB", face.size, (20, 20, 20))
    data = _save(blank, "GIF", save_all=True, append_images=[face], duration=200)
    _rejected(screener.screen(data), Reason.NO_FACE, Reason.TOO_DARK)  # the face is frame 2

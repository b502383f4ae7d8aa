"""decode_image: accepted formats and modes, EXIF, and a reason code for every bad input."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from model.face import decode as decode_module
from model.face.decode import DecodeLimits, decode, decode_image
from model.reasons import Reason, Rejected
from tests.support.model_images import grey_png


def _encode(image: Image.Image, fmt: str, **kwargs: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **kwargs)
    return buf.getvalue()


def _gradient(width: int = 240, height: int = 180) -> np.ndarray:
    ys, xs = np.mgrid[:height, :width]
    return np.stack([xs * 255 // width, ys * 255 // height, np.full_like(xs, 90)], -1).astype(
        np.uint8
    )


def _reason(data: bytes, limits: DecodeLimits = DecodeLimits()) -> Reason:  # noqa: B008
    with pytest.raises(Rejected) as info:
        decode_image(data, limits)
    return info.value.reason


# --- accepted -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["PNG", "BMP", "WEBP", "GIF"])
def test_formats_decode_to_rgb(fmt: str) -> None:
    rgb = _gradient()
    kwargs = {"lossless": True} if fmt == "WEBP" else {}
    out = decode_image(_encode(Image.fromarray(rgb), fmt, **kwargs))
    assert out.shape == rgb.shape and out.dtype == np.uint8
    tolerance = 40 if fmt == "GIF" else 0  # GIF quantises to a palette
    assert np.abs(out.astype(int) - rgb).max() <= tolerance


def test_jpeg_is_close_to_the_source() -> None:
    rgb = _gradient()
    out = decode_image(_encode(Image.fromarray(rgb), "JPEG", quality=95))
    assert out.shape == rgb.shape
    assert np.abs(out.astype(int) - rgb).mean() < 2


def test_grayscale_becomes_three_equal_channels() -> None:
    grey = _gradient()[..., 0]
    out = decode_image(_encode(Image.fromarray(grey, "L"), "PNG"))
    assert out.shape == (*grey.shape, 3)
    assert np.array_equal(out[..., 0], grey) and np.array_equal(out[..., 2], grey)


def test_sixteen_bit_png_is_scaled_not_clipped() -> None:
    grey16 = (np.arange(200 * 256, dtype=np.uint32).reshape(200, 256) % 256 * 257).astype(np.uint16)
    out = decode_image(_encode(Image.fromarray(grey16), "PNG"))
    assert np.array_equal(out[..., 1], (grey16 >> 8).astype(np.uint8))
    assert out.max() == 255 and out.min() == 0


def test_rgba_and_la_are_composited_on_white() -> None:
    rgba = np.zeros((150, 150, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[:, 75:, 3] = 255  # right half opaque red, left half fully transparent
    out = decode_image(_encode(Image.fromarray(rgba, "RGBA"), "PNG"))
    assert out[10, 10].tolist() == [255, 255, 255]
    assert out[10, 140].tolist() == [200, 0, 0]
    la = Image.fromarray(rgba[..., [1, 3]], "LA")  # black where opaque
    out = decode_image(_encode(la, "PNG"))
    assert out[10, 10].tolist() == [255, 255, 255] and out[10, 140].tolist() == [0, 0, 0]


def test_palette_with_and_without_transparency() -> None:
    pal = Image.new("P", (160, 160), 1)
    pal.putpalette([0, 0, 0, 10, 120, 240] + [0] * 762)
    assert decode_image(_encode(pal, "PNG"))[0, 0].tolist() == [10, 120, 240]
    out = decode_image(_encode(pal, "PNG", transparency=1))
    assert out[0, 0].tolist() == [255, 255, 255]


def test_cmyk_jpeg() -> None:
    cmyk = Image.new("CMYK", (200, 160), (0, 255, 255, 0))  # pure red in CMYK
    out = decode_image(_encode(cmyk, "JPEG", quality=95))
    assert out.shape == (160, 200, 3)
    r, g, b = out[80, 100].tolist()
    assert r > 200 and g < 50 and b < 50


def test_exif_orientation_is_applied() -> None:
    rgb = np.zeros((160, 240, 3), np.uint8)
    rgb[:20, :20] = 255  # white mark at the stored top-left
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: display turned 90 degrees clockwise
    out = decode_image(_encode(Image.fromarray(rgb), "JPEG", quality=95, exif=exif))
    assert out.shape == (240, 160, 3)
    # Rotating clockwise moves the top-left corner to the top-right.
    assert out[5, 155].mean() > 200 and out[5, 5].mean() < 50


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "PNG"])  # PNG with save_all is APNG
def test_animations_use_the_first_frame(fmt: str) -> None:
    frames = [Image.new("RGB", (150, 150), colour) for colour in ((0, 0, 255), (255, 0, 0))]
    data = _encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100)
    assert Image.open(io.BytesIO(data)).n_frames == 2
    r, _, b = decode_image(data)[75, 75].tolist()
    assert b > 200 and r < 50


def test_multi_picture_jpeg_uses_the_primary_picture() -> None:
    frames = [Image.new("RGB", (150, 150), colour) for colour in ((0, 200, 0), (255, 0, 0))]
    data = _encode(frames[0], "MPO", save_all=True, append_images=frames[1:])
    assert Image.open(io.BytesIO(data)).format == "MPO"
    _, g, _ = decode_image(data)[75, 75].tolist()
    assert g > 150


def test_big_jpeg_is_reduced_to_max_side() -> None:
    big = Image.fromarray(_gradient(3000, 2000))
    out = decode_image(_encode(big, "JPEG"), DecodeLimits(max_side=1024))
    assert max(out.shape[:2]) <= 1024 and max(out.shape[:2]) >= 512
    assert out.shape[1] > out.shape[0]


@pytest.mark.parametrize(
    ("size", "want"),
    [
        ((1280, 960), (640, 480)),  # a Telegram photo: half scale
        ((960, 1280), (480, 640)),
        ((4032, 3024), (1008, 756)),  # 12 MP: a quarter
        ((1000, 750), (1000, 750)),  # half would be under 640: full
        ((1280, 200), (1280, 200)),  # half would make the short side under min_side
    ],
)
def test_jpeg_is_decoded_at_the_smallest_scale_that_keeps_the_long_side(
    size: tuple[int, int], want: tuple[int, int]
) -> None:
    data = _encode(Image.fromarray(_gradient(*size)), "JPEG")
    decoded = decode(data)
    assert decoded.rgb.shape[1::-1] == want
    assert decoded.scale == pytest.approx(max(size) / max(want))
    # min_long_side=0: full scale, or as little reduction as max_side (2048) needs.
    full = decode(data, DecodeLimits(min_long_side=0))
    assert full.rgb.shape[1::-1] == (size if max(size) <= 2048 else (2016, 1512))
    assert full.scale == pytest.approx(max(size) / max(full.rgb.shape))
    # The reduced image is the full one, smaller: same picture, no shift.
    if want != size:
        smaller = Image.fromarray(full.rgb).resize(want, Image.Resampling.BOX)
        assert np.abs(np.asarray(smaller, int) - decoded.rgb).mean() < 2.0


def test_other_formats_are_not_reduced_below_max_side() -> None:
    decoded = decode(_encode(Image.fromarray(_gradient(1280, 960)), "PNG"))
    assert decoded.rgb.shape == (960, 1280, 3) and decoded.scale == 1.0


def test_decoding_is_deterministic() -> None:
    data = _encode(Image.fromarray(_gradient(2600, 1900)), "JPEG")
    assert np.array_equal(decode_image(data), decode_image(data))


# --- rejected -------------------------------------------------------------------------------


def test_empty() -> None:
    assert _reason(b"") is Reason.EMPTY


def test_random_bytes() -> None:
    assert _reason(np.random.default_rng(0).bytes(5000)) is Reason.NOT_IMAGE


@pytest.mark.parametrize(
    "data",
    [
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="500"/>',
        b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n" + b"0" * 500,
        b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 500,
        b"GIF89a",  # a header and nothing else
    ],
    ids=["svg", "pdf", "heic", "gif-header-only"],
)
def test_other_file_types_renamed(data: bytes) -> None:
    assert _reason(data) in (Reason.NOT_IMAGE, Reason.CORRUPT)


def test_tiff_is_not_on_the_allow_list() -> None:
    assert _reason(_encode(Image.fromarray(_gradient()), "TIFF")) is Reason.NOT_IMAGE


def test_truncated_jpeg() -> None:
    data = _encode(Image.fromarray(_gradient(640, 480)), "JPEG")
    assert _reason(data[: len(data) // 2]) is Reason.CORRUPT


def test_corrupt_png_checksum() -> None:
    data = bytearray(grey_png(200, 200))
    data[-20] ^= 0xFF  # inside IDAT
    assert _reason(bytes(data)) is Reason.CORRUPT


def test_too_many_bytes() -> None:
    data = _encode(Image.fromarray(_gradient()), "PNG")
    assert _reason(data, DecodeLimits(max_bytes=len(data) - 1)) is Reason.TOO_MANY_BYTES
    decode_image(data, DecodeLimits(max_bytes=len(data)))


def test_png_decompression_bomb_is_refused_before_decoding() -> None:
    # 8000 x 8000 = 64 MP of zeros in ~60 kB: over our 40 MP, under Pillow's own limit.
    bomb = grey_png(8000, 8000)
    assert len(bomb) < 200_000
    assert _reason(bomb) is Reason.TOO_MANY_PIXELS


def test_header_claiming_a_gigapixel() -> None:
    # Over Pillow's own DecompressionBombError threshold: refused at open, no IDAT needed.
    assert _reason(grey_png(40000, 40000, idat=b"")) is Reason.TOO_MANY_PIXELS


@pytest.mark.parametrize("size", [(1, 1), (20000, 50), (50, 20000), (127, 400), (12000, 200)])
def test_too_small(size: tuple[int, int]) -> None:
    assert _reason(_encode(Image.new("RGB", size), "PNG")) is Reason.TOO_SMALL


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mangled_jpeg_never_raises_anything_but_rejected(data: st.DataObject) -> None:
    raw = bytearray(_encode(Image.fromarray(_gradient(200, 160)), "JPEG", quality=80))
    for _ in range(data.draw(st.integers(1, 8))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(1, len(raw)))
    try:
        out = decode_image(bytes(raw[:cut]))
    except Rejected:
        return
    assert out.ndim == 3 and out.shape[2] == 3 and out.dtype == np.uint8


# --- bounded memory ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["RGBA", "P", "I;16", "RGB"])
def test_reduction_in_strips_gives_the_whole_image_reduction(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The strips are only a way to get there: the pixels are those of converting the whole
    image and reducing it, also where the size is not a multiple of the factor."""
    rgb = Image.fromarray(_gradient(1001, 703))
    image = {
        "RGBA": lambda: rgb.convert("RGBA"),
        "P": lambda: rgb.quantize(64),
        "I;16": lambda: Image.fromarray(np.asarray(rgb.convert("L"), dtype=np.uint16) * 257),
        "RGB": lambda: rgb,
    }[mode]()
    if mode == "P":
        image.info["transparency"] = 3
    monkeypatch.setattr(decode_module, "STRIP_PIXELS", 5000)  # many strips, some partial
    for factor in (2, 3, 7):
        whole = decode_module.to_rgb(image).reduce(factor)
        strips = decode_module._reduced_rgb(image, factor)
        assert np.array_equal(np.asarray(strips), np.asarray(whole)), factor


def test_what_would_take_too_much_memory_is_refused_from_the_header() -> None:
    # The file: 166 KiB, 39.7 MP of flat RGBA, under the 40 MP cap.
    flat = _encode(Image.new("RGBA", (6300, 6300), (200, 180, 160, 255)), "PNG")
    with pytest.raises(Rejected) as info:
        decode(flat)
    assert info.value.reason is Reason.TOO_MANY_PIXELS
    assert "6300x6300 PNG RGBA needs" in str(info.value) and "MiB" in str(info.value)
    # The same pixels as a palette: a byte each, decoded and reduced in strips.
    palette = _encode(Image.new("P", (6300, 6300), 7), "PNG")
    assert decode(palette).rgb.shape == (1575, 1575, 3)
    # A progressive JPEG keeps every coefficient; a baseline one decodes at a reduced scale.
    big = Image.new("RGB", (7000, 5000), (90, 120, 150))
    assert _reason(_encode(big, "JPEG", progressive=True)) is Reason.TOO_MANY_PIXELS
    assert decode(_encode(big, "JPEG")).rgb.shape == (625, 875, 3)

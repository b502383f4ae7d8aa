"""classifier_input: alignment geometry, determinism, fallback, anti-aliasing."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from model.face.landmarks import IRIS_CENTRE, MIDLINE_STABLE
from model.face.preprocess import classifier_input, midline_eyes
from tests.support.london_truth import PUPIL_IMAGE_LEFT, PUPIL_IMAGE_RIGHT, read_tem
from tests.support.model_images import eye_positions


def _dots(shape: tuple[int, int], centres: list[tuple[float, float]], radius: float = 4.0):
    height, width = shape
    ys, xs = np.mgrid[:height, :width] + 0.5
    img = np.zeros((height, width, 3), np.uint8)
    for x, y in centres:
        img[(xs - x) ** 2 + (ys - y) ** 2 < radius**2] = 255
    return img


def _centroid(gray: np.ndarray) -> tuple[float, float]:
    ys, xs = np.mgrid[: gray.shape[0], : gray.shape[1]] + 0.5
    w = gray.astype(np.float64)
    return float((w * xs).sum() / w.sum()), float((w * ys).sum() / w.sum())


@pytest.mark.parametrize("degrees", [-25.0, -7.5, 0.0, 12.0, 30.0])
@pytest.mark.parametrize("gap", [40.0, 150.0, 600.0])  # 600 exercises the reduce-then-warp path
def test_eyes_land_level_at_fixed_positions(degrees: float, gap: float) -> None:
    angle = math.radians(degrees)
    mid = np.array([900.0, 700.0])
    offset = gap / 2 * np.array([math.cos(angle), math.sin(angle)])
    left, right = mid - offset, mid + offset
    img = _dots((1500, 1800), [tuple(left), tuple(right)], radius=max(3.0, gap / 20))
    out = classifier_input(img, [left, right])
    assert out.shape == (224, 224, 3) and out.dtype == np.uint8
    half = out[..., 0].copy()
    half[:, 112:] = 0
    got_left = _centroid(half)
    half = out[..., 0].copy()
    half[:, :112] = 0
    got_right = _centroid(half)
    want_left, want_right = eye_positions(224)
    assert np.allclose(got_left, want_left, atol=0.6)
    assert np.allclose(got_right, want_right, atol=0.6)


def test_eye_order_does_not_matter() -> None:
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)
    eyes = np.array([[150.0, 120.0], [230.0, 131.0]])
    assert np.array_equal(classifier_input(img, eyes), classifier_input(img, eyes[::-1]))


def test_deterministic_and_pure() -> None:
    rng = np.random.default_rng(2)
    img = rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)
    before = img.copy()
    a = classifier_input(img, [(250.5, 200.25), (390.0, 215.0)])
    b = classifier_input(img.copy(), [(250.5, 200.25), (390.0, 215.0)])
    assert np.array_equal(a, b)
    assert np.array_equal(img, before)


def test_no_eyes_is_a_centred_square() -> None:
    # Left and right thirds differ from the centre square; the fallback must only see the centre.
    img = np.zeros((300, 900, 3), np.uint8)
    img[:, 300:600] = (10, 200, 30)
    out = classifier_input(img, None, size=64)
    assert out.shape == (64, 64, 3)
    # The outermost pixel may blend with its neighbour across the square's edge.
    assert np.all(out[1:-1, 1:-1] == (10, 200, 30))


def test_large_downscale_does_not_alias() -> None:
    # One-pixel stripes average to grey; plain bilinear sampling at 1/8 would return
    # whole-stripe values (0 or 255) in a moire pattern.
    img = np.zeros((1800, 1800, 3), np.uint8)
    img[:, ::2] = 255
    out = classifier_input(img, None, size=224).astype(np.float64)
    assert abs(out.mean() - 127.5) < 2
    assert out.std() < 3


def test_crop_pads_outside_the_photo_with_black() -> None:
    img = np.full((200, 200, 3), 200, np.uint8)
    out = classifier_input(img, [(10.0, 10.0), (30.0, 10.0)], size=32)
    assert out[0, 0].tolist() == [0, 0, 0]


def test_rotated_london_photo_aligns_like_the_upright_one(london_neutral: list[Path]) -> None:
    photo = london_neutral[0]
    pts = read_tem(photo.with_suffix(".tem"))
    eyes = pts[[PUPIL_IMAGE_LEFT, PUPIL_IMAGE_RIGHT]]
    image = Image.open(photo).convert("RGB")
    upright = classifier_input(np.asarray(image), eyes)

    degrees = 15.0
    centre = np.array(image.size) / 2
    rotated = image.rotate(degrees, resample=Image.Resampling.BICUBIC, center=tuple(centre))
    # PIL rotates counter-clockwise on screen: in y-down pixels that is angle -degrees.
    t = math.radians(-degrees)
    rot = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
    moved = (eyes - centre) @ rot.T + centre
    aligned = classifier_input(np.asarray(rotated), moved)
    diff = np.abs(aligned.astype(np.int16) - upright.astype(np.int16))
    assert diff.mean() < 4.0


@pytest.mark.parametrize("degrees", [-20.0, 0.0, 9.0])
def test_midline_alignment_follows_the_midline_not_a_dragged_pupil(degrees: float) -> None:
    """A face whose midline is tilted by `degrees` and whose right pupil sags (as a sagging
    lid drags the mesh's eye): the two points are one pupil distance apart, perpendicular to
    the midline, centred on it; the pupils' own line would tilt by the sag."""
    turn = math.radians(degrees)
    down = np.array([-math.sin(turn), math.cos(turn)])
    across = np.array([math.cos(turn), math.sin(turn)])
    origin = np.array([300.0, 200.0])
    mesh = np.zeros((478, 2))
    for k, i in enumerate(MIDLINE_STABLE):
        mesh[i] = origin + (20.0 + 40.0 * k) * down
    mesh[IRIS_CENTRE[0]] = origin - 50.0 * across + 6.0 * down
    mesh[IRIS_CENTRE[1]] = origin + 50.0 * across + 14.0 * down  # sags 8 px more
    left, right = midline_eyes(mesh)
    ipd = float(np.linalg.norm(mesh[IRIS_CENTRE[1]] - mesh[IRIS_CENTRE[0]]))
    assert np.linalg.norm(right - left) == pytest.approx(ipd)
    assert np.dot(right - left, down) == pytest.approx(0.0, abs=1e-9)  # level across the midline
    centre = (left + right) / 2
    off = centre - origin
    assert abs(np.dot(off, across)) < 1e-9  # on the midline
    assert np.dot(off, down) == pytest.approx(10.0)  # where it passes the pupils

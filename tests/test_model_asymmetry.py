"""Asymmetry measures: geometry on hand-made key points, then directional tests on London faces."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest

from model.asymmetry import WEAKER_SIDE_MIN, measures
from model.decode import decode_image
from model.faces import FaceDetector
from model.landmarks import KeyPoints, LandmarkModel, Side, key_points
from tests.model_images import jpeg, london
from training.tem import MOUTH_CORNER_IMAGE_RIGHT, inter_pupil_distance, read_tem
from training.warp import warp_image

# A symmetric face in image pixels: pupils 100 px apart, image-left side first.
IMAGE_LEFT = {
    "pupil": (200.0, 300.0),
    "eye_outer": (170.0, 300.0),
    "eye_inner": (225.0, 300.0),
    "upper_lid": (200.0, 290.0),
    "lower_lid": (200.0, 308.0),
    "brow": [(230.0, 262.0), (215.0, 258.0), (200.0, 257.0), (185.0, 259.0), (170.0, 264.0)],
    "mouth_corner": (215.0, 420.0),
    "alar_base": (230.0, 370.0),
}
MIDLINE = {"nose_tip": (250, 365), "nasion": (250, 300), "lip_top": (250, 405)}
MIDLINE |= {"lip_upper_inner": (250, 418), "lip_lower_inner": (250, 422)}
MIDLINE |= {"lip_bottom": (250, 440), "chin": (250, 500)}


def _mirror_x(point: object) -> np.ndarray:
    p = np.array(point, np.float64)
    p[..., 0] = 500.0 - p[..., 0]
    return p


def _face(**moves: tuple[str, float]) -> KeyPoints:
    """The symmetric face with some points moved: `image_right_mouth_corner=dy`..."""
    sides = {
        "image_left": {k: np.array(v, np.float64) for k, v in IMAGE_LEFT.items()},
        "image_right": {k: _mirror_x(v) for k, v in IMAGE_LEFT.items()},
    }
    for key, dy in moves.items():
        side, _, name = key.partition("_side_")
        sides[side][name] = sides[side][name] + np.array([0.0, dy])
    return KeyPoints(
        image_left=Side(**sides["image_left"]),
        image_right=Side(**sides["image_right"]),
        **{k: np.array(v, np.float64) for k, v in MIDLINE.items()},
    )


def _transform(kp: KeyPoints, fn) -> KeyPoints:
    def side(s: Side) -> Side:
        return Side(**{k: fn(getattr(s, k)) for k in IMAGE_LEFT})

    return KeyPoints(
        image_left=side(kp.image_left),
        image_right=side(kp.image_right),
        **{k: fn(getattr(kp, k)) for k in MIDLINE},
    )


def _mirrored(kp: KeyPoints) -> KeyPoints:
    flipped = _transform(kp, _mirror_x)
    return KeyPoints(
        image_left=flipped.image_right,
        image_right=flipped.image_left,
        **{k: getattr(flipped, k) for k in MIDLINE},
    )


def test_symmetric_face_measures_zero() -> None:
    m = measures(_face())
    for name in ("mouth", "brow", "eye"):
        assert m[name] == pytest.approx(0.0, abs=1e-12)
    assert m["eye_ratio"] == pytest.approx(1.0)
    assert m["weaker_side"] == "none"


def test_subject_left_mouth_corner_lower() -> None:
    # The subject's left is the image's right in an un-mirrored photo.
    m = measures(_face(image_right_side_mouth_corner=10.0))
    assert m["mouth"] == pytest.approx(0.10)  # 10 px over a 100 px pupil distance
    assert m["mouth_lower_side"] == "left" and m["mouth_asymmetry"] == pytest.approx(0.10)
    assert m["weaker_side"] == "left"


def test_brow_and_eye_name_the_subjects_side() -> None:
    m = measures(_face(image_left_side_brow=6.0, image_left_side_upper_lid=5.0))
    assert m["brow"] == pytest.approx(-0.06) and m["brow_lower_side"] == "right"
    # Right eye (image-left) opens 5 px less: 13 vs 18 px.
    assert m["eye"] == pytest.approx(0.05) and m["eye_lower_side"] == "right"
    assert m["eye_ratio"] == pytest.approx(13 / 18)


def test_weaker_side_needs_more_than_healthy_asymmetry() -> None:
    small = measures(_face(image_right_side_mouth_corner=100 * WEAKER_SIDE_MIN * 0.8))
    assert small["weaker_side"] == "none"


@pytest.mark.parametrize("degrees", [-20.0, 7.0, 33.0])
@pytest.mark.parametrize("scale", [0.3, 2.5])
def test_invariant_to_roll_scale_and_position(degrees: float, scale: float) -> None:
    kp = _face(image_right_side_mouth_corner=8.0, image_left_side_brow=-4.0)
    t = math.radians(degrees)
    rot = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]]) * scale
    moved = _transform(kp, lambda p: np.asarray(p) @ rot.T + (40.0, -75.0))
    a, b = measures(kp), measures(moved)
    for name in ("mouth", "brow", "eye", "eye_ratio"):
        assert b[name] == pytest.approx(a[name], abs=1e-9)


def test_mirroring_flips_every_signed_measure() -> None:
    kp = _face(image_right_side_mouth_corner=9.0, image_left_side_lower_lid=-4.0)
    a, b = measures(kp), measures(_mirrored(kp))
    for name in ("mouth", "brow", "eye"):
        assert b[name] == pytest.approx(-a[name], abs=1e-9)
    assert (a["weaker_side"], b["weaker_side"]) == ("left", "right")


# --- London faces through the real detector and face mesh -----------------------------------

WARPS = (0.0, 0.05, 0.10, 0.15, 0.20)  # mouth-corner drop, in pupil distances


@pytest.fixture(scope="module")
def models() -> tuple[FaceDetector, LandmarkModel]:
    return FaceDetector(), LandmarkModel()


def _measure(models: tuple[FaceDetector, LandmarkModel], rgb: np.ndarray) -> dict:
    detector, mesh = models
    rgb = decode_image(jpeg(rgb, quality=95))
    faces = detector.detect(rgb)
    assert len(faces) == 1
    return measures(key_points(mesh.landmarks(rgb, faces[0])))


def _drooped(photo: Path, drop: float, side: int = 960) -> np.ndarray:
    """Subject's left mouth corner (image right) moved down by `drop` pupil distances."""
    rgb = np.asarray(london(photo, side))
    tem = read_tem(photo.with_suffix(".tem")) * (side / 1350)
    # Pin the face's other landmarks so only the corner's neighbourhood moves.
    pins = tem[[0, 1, 87, 2, 10, 20, 30, 71, 80]]
    corner = tem[MOUTH_CORNER_IMAGE_RIGHT]
    target = corner + np.array([0.0, drop * inter_pupil_distance(tem)])
    return warp_image(rgb, np.vstack([pins, corner]), np.vstack([pins, target]))


@pytest.mark.parametrize("person", [0, 40, 80])
def test_mouth_measure_grows_with_the_warp(
    london_neutral: list[Path], models: tuple[FaceDetector, LandmarkModel], person: int
) -> None:
    photo = london_neutral[person]
    mouth = [_measure(models, _drooped(photo, d))["mouth"] for d in WARPS]
    assert all(b > a for a, b in itertools.pairwise(mouth)), mouth
    assert mouth[-1] - mouth[0] > 0.08  # the mesh follows most of a 0.2 drop


def test_mirroring_the_photo_flips_the_mouth_sign(
    london_neutral: list[Path], models: tuple[FaceDetector, LandmarkModel]
) -> None:
    rgb = _drooped(london_neutral[40], 0.2)
    plain = _measure(models, rgb)
    mirrored = _measure(models, np.ascontiguousarray(rgb[:, ::-1]))
    assert plain["mouth"] > 0.04 and mirrored["mouth"] < -0.04
    assert plain["mouth_lower_side"] == "left" and mirrored["mouth_lower_side"] == "right"

"""Quality gate: each failure has its own reason; healthy studio photos pass."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from model.face.decode import decode_image
from model.face.faces import Face, FaceDetector
from model.face.landmarks import LandmarkModel, key_points
from model.face.quality import QualityThresholds, check_pose, check_quality, pose
from model.reasons import Reason, Rejected
from tests.support.model_images import blurred, far_away, jpeg, london, relit, side_by_side

FRONTAL = np.array([[80.0, 100.0], [140.0, 100.0], [110.0, 135.0], [85.0, 165.0], [135.0, 165.0]])


def _face(box: tuple[float, float, float, float], keypoints: np.ndarray = FRONTAL) -> Face:
    return Face(box=box, score=0.9, keypoints=keypoints)


def _textured(size: int = 400) -> np.ndarray:
    """Mid-grey noise: sharp, well exposed, so only the face geometry can fail."""
    rng = np.random.default_rng(0)
    return rng.integers(60, 200, (size, size, 3), dtype=np.uint8)


def _rotate(points: np.ndarray, degrees: float) -> np.ndarray:
    t = math.radians(degrees)
    rot = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
    centre = points.mean(axis=0)
    return (points - centre) @ rot.T + centre


def _reason(rgb: np.ndarray, faces: list[Face]) -> Reason:
    with pytest.raises(Rejected) as info:
        check_quality(rgb, faces)
    return info.value.reason


# --- geometry on given detections -----------------------------------------------------------


def test_no_face() -> None:
    assert _reason(_textured(), []) is Reason.NO_FACE


def test_two_similar_faces() -> None:
    faces = [_face((10, 10, 180, 220)), _face((210, 10, 170, 210))]
    assert _reason(_textured(), faces) is Reason.MULTIPLE_FACES


def test_a_small_background_face_does_not_count() -> None:
    main = _face((50, 60, 200, 240))
    face, _ = check_quality(_textured(), [_face((320, 20, 40, 50)), main])
    assert face is main


@pytest.mark.parametrize(("width", "ok"), [(119, False), (121, True)])
def test_minimum_face_pixels(width: float, ok: bool) -> None:
    faces = [_face((100, 100, width, width * 1.2))]
    if ok:
        check_quality(_textured(), faces)
    else:
        assert _reason(_textured(), faces) is Reason.FACE_TOO_SMALL


def test_minimum_face_fraction() -> None:
    faces = [_face((100, 100, 150, 180))]
    thresholds = QualityThresholds(min_face_fraction=0.4)
    with pytest.raises(Rejected, match="face_too_small"):
        check_quality(_textured(), faces, thresholds)


def _yawed(nose_shift: float) -> np.ndarray:
    points = FRONTAL.copy()
    points[2, 0] += nose_shift * 60  # pupil distance is 60 px
    return points


@pytest.mark.parametrize(
    ("points", "roll", "yaw", "ok"),
    [
        (_rotate(FRONTAL, -15), -15, 0, True),
        (_rotate(FRONTAL, 15), 15, 0, True),
        (_rotate(FRONTAL, 25), 25, 0, False),
        (_rotate(FRONTAL, -25), -25, 0, False),
        (_yawed(0.1), 0, 0.1, True),
        (_yawed(-0.15), 0, -0.15, True),
        (_yawed(0.3), 0, 0.3, False),
    ],
)
def test_pose_bounds(points: np.ndarray, roll: float, yaw: float, ok: bool) -> None:
    assert pose(points[0], points[1], points[2]) == pytest.approx((roll, yaw), abs=1e-9)
    if ok:
        check_pose(points[0], points[1], points[2])
    else:
        with pytest.raises(Rejected, match="not_frontal"):
            check_pose(points[0], points[1], points[2])


# --- London photos through the real detector ------------------------------------------------


@pytest.fixture(scope="module")
def detector() -> FaceDetector:
    return FaceDetector()


@pytest.fixture(scope="module")
def sample(london_neutral: list[Path]) -> list[Image.Image]:
    # Every 8th person: 13 faces across the set's skin tones, sexes and ages.
    return [london(p) for p in london_neutral[::8]]


def _gate(detector: FaceDetector, image: Image.Image) -> Reason | None:
    rgb = decode_image(jpeg(image))
    try:
        check_quality(rgb, detector.detect(rgb))
    except Rejected as rejected:
        return rejected.reason
    return None


def test_studio_photos_pass(detector: FaceDetector, sample: list[Image.Image]) -> None:
    assert [_gate(detector, im) for im in sample] == [None] * len(sample)


@pytest.mark.parametrize(
    ("degrade", "reason"),
    [
        (lambda im: relit(im, 0.3), Reason.TOO_DARK),
        (lambda im: relit(im, 2.5), Reason.OVEREXPOSED),
        (lambda im: blurred(im, 5.0), Reason.BLURRY),
        (
            lambda im: side_by_side(im, im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)),
            Reason.MULTIPLE_FACES,
        ),
    ],
    ids=["dark", "overexposed", "blurry", "two-faces"],
)
def test_degraded_photos_fail_for_the_right_reason(
    detector: FaceDetector, sample: list[Image.Image], degrade, reason: Reason
) -> None:
    got = [_gate(detector, degrade(im)) for im in sample[:4]]
    assert got == [reason] * 4


def test_mild_changes_still_pass(detector: FaceDetector, sample: list[Image.Image]) -> None:
    for image in sample[:4]:
        assert _gate(detector, relit(image, 0.7)) is None
        assert _gate(detector, relit(image, 1.2)) is None
        assert _gate(detector, blurred(image, 1.0)) is None
        assert _gate(detector, image.rotate(10, Image.Resampling.BILINEAR)) is None


@pytest.mark.parametrize(("degrees", "ok"), [(10, True), (-12, True), (30, False), (-35, False)])
def test_rolled_photo_pose_from_the_mesh(
    detector: FaceDetector, sample: list[Image.Image], degrees: float, ok: bool
) -> None:
    mesh = LandmarkModel()
    image = sample[1].rotate(degrees, Image.Resampling.BILINEAR, fillcolor=(128, 128, 128))
    rgb = decode_image(jpeg(image))
    face, _ = check_quality(rgb, detector.detect(rgb))
    kp = key_points(mesh.landmarks(rgb, face))
    if ok:
        check_pose(kp.image_left.pupil, kp.image_right.pupil, kp.nose_tip)
    else:
        with pytest.raises(Rejected, match="not_frontal"):
            check_pose(kp.image_left.pupil, kp.image_right.pupil, kp.nose_tip)


def test_face_at_five_percent_of_the_frame(
    detector: FaceDetector, sample: list[Image.Image]
) -> None:
    # London faces fill ~32 % of the photo's width: a photo at 16 % puts the face at ~5 %.
    reason = _gate(detector, far_away(sample[0], 0.16))
    assert reason in (Reason.FACE_TOO_SMALL, Reason.NO_FACE)


def test_blank_image_has_no_face(detector: FaceDetector) -> None:
    assert _gate(detector, Image.new("RGB", (960, 720), (200, 190, 180))) is Reason.NO_FACE


@pytest.mark.parametrize(
    ("gain", "reason"),
    [(0.03, Reason.TOO_DARK), (0.08, Reason.TOO_DARK), (8.0, Reason.OVEREXPOSED)],
)
def test_light_is_named_even_when_no_face_is_found(
    detector: FaceDetector, sample: list[Image.Image], gain: float, reason: Reason
) -> None:
    # At 3 % brightness the detector finds no face: the whole image's light decides the tip.
    images = [relit(im, gain) for im in sample[:4]]
    if gain == 0.03:
        assert all(not detector.detect(decode_image(jpeg(im))) for im in images)
    assert [_gate(detector, im) for im in images] == [reason] * 4


def test_scene_light_without_faces() -> None:
    def reason(value: int) -> Reason:
        return _reason(np.full((480, 640, 3), value, np.uint8), [])

    assert reason(8) is Reason.TOO_DARK
    assert reason(255) is Reason.OVEREXPOSED
    assert reason(128) is Reason.NO_FACE
    # A bright sky over half the frame or less is not "too bright".
    half = np.full((480, 640, 3), 100, np.uint8)
    half[:200] = 255
    assert _reason(half, []) is Reason.NO_FACE

"""Face mesh on real ONNX Runtime: London templates, rotated faces, named key points, crop maths."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from model.face import affine
from model.face.decode import decode
from model.face.faces import FaceDetector
from model.face.landmarks import EYE_CONTOUR, LandmarkModel, key_points
from tests.support.london_truth import BASELINE_ERROR, errors, four_points, template


@pytest.fixture(scope="module")
def models() -> tuple[FaceDetector, LandmarkModel]:
    return FaceDetector(), LandmarkModel()


def predicted(models: tuple[FaceDetector, LandmarkModel], rgb: np.ndarray) -> np.ndarray:
    detector, mesh = models
    faces = detector.detect(rgb)
    assert len(faces) == 1
    return four_points(key_points(mesh.landmarks(rgb, faces[0])))


def test_crop_matrix_maps_crop_centre_and_axes() -> None:
    m = affine.square_crop_matrix((100.0, 50.0), 40.0, math.pi / 2, 20)
    np.testing.assert_allclose(affine.apply(m, np.array([[10.0, 10.0]])), [[100.0, 50.0]])
    # Crop x axis points down the image when rotated by 90 degrees.
    np.testing.assert_allclose(affine.apply(m, np.array([[20.0, 10.0]])), [[100.0, 70.0]])


def test_warp_samples_the_mapped_pixels() -> None:
    rgb = np.zeros((60, 80, 3), np.uint8)
    rgb[20:30, 40:50] = 255  # white square centred on (45, 25)
    m = affine.square_crop_matrix((45.0, 25.0), 20.0, 0.0, 20)
    crop = affine.warp(rgb, m, 20)
    assert crop[5:15, 5:15].min() == 255 and crop[:4].max() == 0 and crop[:, 16:].max() == 0


def test_warp_of_the_region_equals_warp_of_the_whole_image() -> None:
    rgb = np.random.default_rng(2).integers(0, 256, (300, 400, 3), dtype=np.uint8)
    for centre, side, angle in [((200.0, 150.0), 120.0, 0.4), ((20.0, 280.0), 90.0, -1.0)]:
        m = affine.square_crop_matrix(centre, side, angle, 64)
        whole = Image.fromarray(rgb).transform(
            (64, 64), Image.Transform.AFFINE, tuple(m.reshape(-1)), Image.Resampling.BILINEAR
        )
        np.testing.assert_array_equal(affine.warp(rgb, m, 64), np.asarray(whole))
    far = affine.square_crop_matrix((-500.0, -500.0), 50.0, 0.0, 16)
    assert affine.warp(rgb, far, 16).shape == (16, 16, 3)


def test_key_points_of_468_point_mesh_use_eye_contour_mean() -> None:
    pts = np.random.default_rng(1).normal(size=(468, 2))
    kp = key_points(pts)
    np.testing.assert_allclose(kp.image_left.pupil, pts[list(EYE_CONTOUR[0])].mean(axis=0))
    assert kp.image_left.brow.shape == (5, 2)
    with pytest.raises(ValueError):
        key_points(pts[:100])


@pytest.mark.data
def test_london_landmarks_match_templates(
    models: tuple[FaceDetector, LandmarkModel], london_neutral: list[Path]
) -> None:
    found = []
    for path in london_neutral[:4]:
        got = predicted(models, np.asarray(Image.open(path).convert("RGB")))
        found.append(errors(got, *template(path)))
    assert np.mean(found) < 0.06 and np.max(found) < 0.15


@pytest.mark.data
def test_london_landmark_error_is_kept_within_5_percent(
    models: tuple[FaceDetector, LandmarkModel], london_neutral: list[Path]
) -> None:
    """All 102 neutral photos, as bench/landmark_accuracy.py measures them: speed work on the
    detector, crop or mesh must not cost accuracy (today 0.0157 inter-pupil distances)."""
    assert len(london_neutral) == 102
    found = [
        errors(predicted(models, np.asarray(Image.open(p).convert("RGB"))), *template(p))
        for p in london_neutral
    ]
    assert np.mean(found) <= BASELINE_ERROR * 1.05


@pytest.mark.data
def test_london_landmark_error_through_the_serving_decode_is_kept_within_5_percent(
    models: tuple[FaceDetector, LandmarkModel], london_neutral: list[Path]
) -> None:
    """The same 102 photos decoded as serving and training decode them (1350 px JPEGs at half
    scale), points mapped back to the photo's pixels: the reduced decode costs no accuracy."""
    found, scales = [], set()
    for path in london_neutral:
        decoded = decode(path.read_bytes())
        scales.add(decoded.scale)
        found.append(errors(predicted(models, decoded.rgb) * decoded.scale, *template(path)))
    assert scales == {1350 / 675}  # the reduction under test did happen
    assert np.mean(found) <= BASELINE_ERROR * 1.05


@pytest.mark.data
def test_london_key_points_are_anatomically_ordered(
    models: tuple[FaceDetector, LandmarkModel], london_neutral: list[Path]
) -> None:
    detector, mesh = models
    rgb = np.asarray(Image.open(london_neutral[0]).convert("RGB"))
    kp = key_points(mesh.landmarks(rgb, detector.detect(rgb)[0]))
    for side in (kp.image_left, kp.image_right):
        assert side.brow[:, 1].max() < side.upper_lid[1] < side.pupil[1] < side.lower_lid[1]
        assert side.pupil[1] < side.alar_base[1] < side.mouth_corner[1]
    left, right = kp.image_left, kp.image_right
    assert left.eye_outer[0] < left.pupil[0] < left.eye_inner[0] < kp.nasion[0]
    assert kp.nasion[0] < right.eye_inner[0] < right.pupil[0] < right.eye_outer[0]
    assert left.mouth_corner[0] < kp.lip_top[0] < right.mouth_corner[0]
    assert kp.nose_tip[1] < kp.lip_top[1] < kp.lip_upper_inner[1]
    # A closed mouth: the inner lip points meet (within a pixel or two).
    assert kp.lip_upper_inner[1] < kp.lip_lower_inner[1] + 3
    assert kp.lip_lower_inner[1] < kp.lip_bottom[1] < kp.chin[1]
    assert np.linalg.norm(kp.eyes[1] - kp.eyes[0]) > 100


@pytest.mark.data
def test_rotated_face_landmarks_follow_the_rotation(
    models: tuple[FaceDetector, LandmarkModel], london_neutral: list[Path]
) -> None:
    path = london_neutral[1]
    truth, ipd = template(path)
    image = Image.open(path).convert("RGB")
    degrees = 20.0
    centre = (image.width / 2, image.height / 2)
    rotated = image.rotate(degrees, Image.Resampling.BILINEAR, center=centre)
    # PIL rotates counter-clockwise on screen: image y points down, so the angle is negative.
    m = affine.square_crop_matrix(centre, image.width, -math.radians(degrees), image.width)
    expected = affine.apply(m, truth - np.array(centre) + image.width / 2)
    got = predicted(models, np.asarray(rotated))
    assert errors(got, expected, ipd).max() < 0.1

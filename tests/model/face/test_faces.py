"""Face detector (YuNet) on real ONNX Runtime: London photos, blank/noise images, two faces."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from model.face.faces import EYE_LEFT, EYE_RIGHT, MOUTH_LEFT, MOUTH_RIGHT, FaceDetector, nms
from tests.support.london_truth import (
    MOUTH_CORNER_IMAGE_LEFT,
    MOUTH_CORNER_IMAGE_RIGHT,
    PUPIL_IMAGE_LEFT,
    PUPIL_IMAGE_RIGHT,
    inter_pupil_distance,
    read_tem,
)


@pytest.fixture(scope="module")
def detector() -> FaceDetector:
    return FaceDetector()


def load(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def test_blank_and_noise_images_have_no_face(detector: FaceDetector) -> None:
    rng = np.random.default_rng(0)
    assert detector.detect(np.full((480, 640, 3), 128, np.uint8)) == []
    assert detector.detect(rng.integers(0, 256, (960, 1280, 3), dtype=np.uint8)) == []
    assert detector.detect(np.zeros((4, 4, 3), np.uint8)) == []


def test_wrong_shape_is_a_value_error(detector: FaceDetector) -> None:
    with pytest.raises(ValueError):
        detector.detect(np.zeros((100, 100), np.uint8))
    with pytest.raises(ValueError):
        detector.detect(np.zeros((100, 100, 3), np.float32))


def test_nms_keeps_best_of_overlapping_boxes() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]], float)
    assert nms(boxes, np.array([0.8, 0.9, 0.7]), 0.3) == [1, 2]


@pytest.mark.data
def test_london_faces_found_with_keypoints_near_template(
    detector: FaceDetector, london_neutral: list[Path]
) -> None:
    for path in london_neutral[:4]:
        faces = detector.detect(load(path))
        assert len(faces) == 1, path.name
        face, tem = faces[0], read_tem(path.with_suffix(".tem"))
        ipd = inter_pupil_distance(tem)
        x, _, w, h = face.box
        assert w > ipd and h > ipd
        assert x < tem[PUPIL_IMAGE_LEFT, 0] and tem[PUPIL_IMAGE_RIGHT, 0] < x + w
        pairs = [
            (EYE_LEFT, PUPIL_IMAGE_LEFT),
            (EYE_RIGHT, PUPIL_IMAGE_RIGHT),
            (MOUTH_LEFT, MOUTH_CORNER_IMAGE_LEFT),
            (MOUTH_RIGHT, MOUTH_CORNER_IMAGE_RIGHT),
        ]
        for k, t in pairs:
            assert np.linalg.norm(face.keypoints[k] - tem[t]) < 0.25 * ipd, (path.name, k)


@pytest.mark.data
def test_two_faces_side_by_side(detector: FaceDetector, london_neutral: list[Path]) -> None:
    # Two London photos at 40 %, pasted onto a 1280 x 960 grey canvas.
    canvas = Image.new("RGB", (1280, 960), (120, 120, 120))
    for i, path in enumerate(london_neutral[:2]):
        canvas.paste(Image.open(path).convert("RGB").resize((540, 540)), (60 + i * 640, 200))
    faces = detector.detect(np.asarray(canvas))
    assert len(faces) == 2
    assert faces[0].score >= faces[1].score
    centres = sorted(f.box[0] + f.box[2] / 2 for f in faces)
    assert centres[0] < 640 < centres[1]


@pytest.mark.data
def test_small_face_in_large_frame(detector: FaceDetector, london_neutral: list[Path]) -> None:
    # Face about 100 px wide in a 1280 x 960 frame (a selfie held far away).
    canvas = Image.new("RGB", (1280, 960), (120, 120, 120))
    canvas.paste(Image.open(london_neutral[0]).convert("RGB").resize((220, 220)), (900, 100))
    faces = detector.detect(np.asarray(canvas))
    assert len(faces) == 1
    x, y, w, h = faces[0].box
    assert 900 < x + w / 2 < 1120 and 100 < y + h / 2 < 320


@pytest.mark.data
def test_detect_is_thread_safe(detector: FaceDetector, london_neutral: list[Path]) -> None:
    images = [load(p) for p in london_neutral[:2]] * 3
    expected = [detector.detect(im)[0].keypoints for im in images]
    with ThreadPoolExecutor(2) as pool:
        got = list(pool.map(lambda im: detector.detect(im)[0].keypoints, images))
    for a, b in zip(expected, got, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-3)

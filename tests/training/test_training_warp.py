"""training.warp: content moves from src to dst, fixed points and the border stay, no TensorFlow."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from training.warp import mls_similarity, warp_image


def _blob(size: int, x: int, y: int) -> np.ndarray:
    img = np.zeros((size, size, 3), np.uint8)
    img[y - 5 : y + 6, x - 5 : x + 6] = 255
    return img


def _centre(img: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(img[..., 0] > 127)
    return np.array([xs.mean(), ys.mean()])


def test_mls_is_exact_at_control_points() -> None:
    rng = np.random.default_rng(1)
    src = rng.uniform(0, 100, (12, 2))
    dst = src + rng.normal(0, 3, src.shape)
    np.testing.assert_allclose(mls_similarity(src, src, dst), dst, atol=1e-3)


def test_identity_when_nothing_moves() -> None:
    rng = np.random.default_rng(2)
    img = rng.integers(0, 256, (97, 131, 3), dtype=np.uint8)
    pts = rng.uniform(0, 90, (5, 2))
    assert np.array_equal(warp_image(img, pts, pts), img)


@pytest.mark.parametrize("shift", [8.0, 16.0, 32.0])
def test_content_moves_towards_dst_and_far_content_stays(shift: float) -> None:
    img = _blob(256, 128, 100) + _blob(256, 40, 220)
    src = np.array([[128.0, 100.0], [40.0, 220.0]])
    dst = src + np.array([[0.0, shift], [0.0, 0.0]])
    out = warp_image(img, src, dst)
    top = _centre(out[:160])
    assert abs(top[1] - (100 + shift)) < 0.2 * shift + 1.0
    assert abs(top[0] - 128) < 1.0
    np.testing.assert_allclose(_centre(out[160:]), [40.0, 60.0], atol=0.5)


def test_border_is_pinned() -> None:
    rng = np.random.default_rng(3)
    img = rng.integers(0, 256, (128, 128, 3), dtype=np.uint8)
    out = warp_image(img, np.array([[64.0, 64.0]]), np.array([[64.0, 80.0]]))
    assert out.shape == img.shape and out.dtype == np.uint8
    assert np.abs(out[0].astype(int) - img[0]).mean() < 2


def test_rejects_mismatched_points() -> None:
    with pytest.raises(ValueError):
        warp_image(np.zeros((8, 8, 3), np.uint8), np.zeros((2, 2)), np.zeros((3, 2)))


def test_imports_without_tensorflow() -> None:
    code = "import sys, training.warp, training.tem; sys.exit('tensorflow' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0

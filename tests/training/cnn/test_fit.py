"""Training augmentation keeps what carries the label: the level eye line and the pixel range."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytestmark = pytest.mark.train
tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

from training.cnn.fit import augmenter  # noqa: E402

SIZE = 96


def _bar_images(n: int) -> np.ndarray:
    """Black images with a level white bar across the middle and a marker at the left end."""
    x = np.zeros((n, SIZE, SIZE, 3), np.uint8)
    x[:, SIZE // 2 - 2 : SIZE // 2 + 2, 8:-8] = 255
    x[:, 20:30, 8:16] = 255  # only on the left: shows whether the image was flipped
    return x


def _tilt_degrees(img: np.ndarray) -> float:
    """Angle of the bar, from the bright-pixel centroid of each column near the middle row."""
    grey = img.mean(-1)
    cols = np.arange(24, SIZE - 24)
    rows = np.arange(SIZE)[SIZE // 2 - 12 : SIZE // 2 + 12]
    band = grey[rows][:, cols]
    y = (band * rows[:, None]).sum(0) / np.maximum(band.sum(0), 1e-6)
    slope = np.polyfit(cols, y, 1)[0]
    return math.degrees(math.atan(slope))


def test_augmentation_keeps_the_eye_line_level_and_pixels_in_range() -> None:
    # Preprocessing levels the eyes; a mouth-corner drop of 0.05 IPD is ~3 deg of tilt, so the
    # augmentation must not rotate by more than the levelling error (about 1 deg).
    augment = augmenter(tf, keras, seed=7)
    x = _bar_images(16)
    y = np.arange(16)
    tilts, flipped = [], 0
    for _ in range(4):
        out, labels = augment(tf.constant(x), tf.constant(y))
        out = np.asarray(out)
        assert out.shape == x.shape and out.dtype == np.float32
        assert out.min() >= 0.0 and out.max() <= 255.0
        assert np.array_equal(np.asarray(labels), y)
        tilts += [_tilt_degrees(img) for img in out]
        flipped += sum(img[25, SIZE - 12].mean() > img[25, 12].mean() for img in out)
    assert max(abs(t) for t in tilts) <= 1.5
    assert 0 < flipped < 64  # horizontal flips happen, but not always

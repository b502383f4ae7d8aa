"""Dataset loading: serving's preprocessing, the no-face fallback counted, arrays cached."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from model.face.decode import decode_image
from model.face.preprocess import classifier_input
from training.cnn.data import TRAIN_LIMITS, list_directory, prepare


def _noise_set(root: Path) -> None:
    rng = np.random.default_rng(0)
    for cls in ("mild_eye", "normal"):
        (root / cls).mkdir(parents=True)
        for i, ext in enumerate((".png", ".bmp", ".jpeg")):
            img = rng.integers(0, 256, (90 + 10 * i, 140, 3), dtype=np.uint8)
            Image.fromarray(img).save(root / cls / f"n{i}{ext}")
    (root / "normal" / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")


def test_no_face_falls_back_to_whole_image_and_is_counted(tmp_path: Path) -> None:
    _noise_set(tmp_path)
    listing = list_directory(tmp_path)
    prepared = prepare(listing, size=64, cache_dir=None, progress=False)
    assert prepared.unreadable == ["normal/broken.jpg"]
    assert prepared.faces_not_found == 6
    for i, rel in enumerate(listing.files):
        if rel in prepared.unreadable:
            continue
        rgb = decode_image((tmp_path / rel).read_bytes(), TRAIN_LIMITS)
        assert np.array_equal(prepared.images[i], classifier_input(rgb, None, 64))


def test_face_is_aligned(london_neutral: list[Path], tmp_path: Path) -> None:
    (tmp_path / "normal").mkdir()
    (tmp_path / "normal" / "a.jpg").write_bytes(london_neutral[0].read_bytes())
    prepared = prepare(list_directory(tmp_path), size=64, cache_dir=None, progress=False)
    assert prepared.faces_not_found == 0 and prepared.face_found.all()


def test_second_run_reads_the_cache(tmp_path: Path) -> None:
    _noise_set(tmp_path / "set")
    listing = list_directory(tmp_path / "set")
    first = prepare(listing, size=32, cache_dir=tmp_path / "cache", progress=False)
    assert not isinstance(first.images, np.memmap)
    second = prepare(listing, size=32, cache_dir=tmp_path / "cache", progress=False)
    assert isinstance(second.images, np.memmap)
    assert np.array_equal(first.images, second.images)
    assert second.unreadable == first.unreadable
    # A changed file invalidates the cache.
    path = tmp_path / "set" / "normal" / "n0.png"
    os.utime(path, ns=(1, 1))
    third = prepare(list_directory(tmp_path / "set"), size=32, cache_dir=tmp_path / "cache")
    assert not isinstance(third.images, np.memmap)

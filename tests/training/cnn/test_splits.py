"""Splits: paper split equals Keras', grouped split keeps groups whole, leaks are counted."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from training.cnn.data import list_directory
from training.cnn.splits import (
    grouped_split,
    groups,
    hashes,
    leakage,
    near_duplicate_pairs,
    paper_split,
)


def _folder_set(root, per_class: int = 5) -> None:
    rng = np.random.default_rng(0)
    for ci, cls in enumerate(("b_cls", "a_cls", "c_cls")):
        for i in range(per_class):
            sub = root / cls / ("nested" if i % 2 else "")
            sub.mkdir(parents=True, exist_ok=True)
            ext = (".jpg", ".PNG", ".bmp")[(i + ci) % 3]
            img = rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)
            Image.fromarray(img).save(sub / f"img{i}{ext}")
    (root / "a_cls" / "notes.txt").write_text("not an image")


def test_listing_follows_keras_order(tmp_path) -> None:
    _folder_set(tmp_path)
    listing = list_directory(tmp_path)
    assert listing.class_names == ["a_cls", "b_cls", "c_cls"]
    assert len(listing.files) == 15 and not any(f.endswith(".txt") for f in listing.files)
    assert list(listing.labels) == [0] * 5 + [1] * 5 + [2] * 5


@pytest.mark.train
def test_paper_split_matches_image_dataset_from_directory(tmp_path) -> None:
    pytest.importorskip("tensorflow")
    from keras.src.utils import dataset_utils, image_dataset_utils

    _folder_set(tmp_path, per_class=7)
    listing = list_directory(tmp_path)
    paths, labels, names = dataset_utils.index_directory(
        str(tmp_path), "inferred", formats=image_dataset_utils.ALLOWLIST_FORMATS, seed=42
    )
    assert names == listing.class_names
    for subset, ours in zip(("training", "validation"), paper_split(21, 0.2, 42), strict=True):
        want, _ = dataset_utils.get_training_or_validation_split(paths, labels, 0.2, subset)
        got = [str(tmp_path / listing.files[i]) for i in ours]
        assert got == list(want)


def test_grouped_split_keeps_groups_whole() -> None:
    rng = np.random.default_rng(1)
    group_ids = rng.integers(0, 30, 300)
    train, val = grouped_split(group_ids, 0.2, seed=5)
    assert set(group_ids[train]).isdisjoint(group_ids[val])
    assert sorted([*train, *val]) == list(range(300))
    assert 0.1 < len(val) / 300 < 0.35


def test_near_duplicates_and_mirrors_are_linked_and_counted() -> None:
    rng = np.random.default_rng(2)
    base = [
        rng.integers(0, 256, (8, 8, 3), dtype=np.uint8).repeat(8, 0).repeat(8, 1) for _ in range(6)
    ]
    images = np.stack(
        [*base, base[0][:, ::-1], np.clip(base[1].astype(int) + 6, 0, 255).astype(np.uint8)]
    )
    h = hashes(images)
    pairs = {tuple(p) for p in near_duplicate_pairs(h).tolist()}
    assert (0, 6) in pairs and (1, 7) in pairs
    g = groups(None, near_duplicate_pairs(h), len(images))
    assert g[0] == g[6] and g[1] == g[7] and len(set(g)) == 6
    assert list(groups(list("aabbcccd"), near_duplicate_pairs(h), 8)) == [0, 0, 2, 2, 4, 4, 4, 7]
    report = leakage(np.array([0, 1, 2, 3]), np.array([4, 5, 6, 7]), h, subjects=list("abcdabcd"))
    assert report["near_duplicate_in_train"] == 2
    assert report["subject_in_train"] == 4

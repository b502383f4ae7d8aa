"""Train/validation splits: the paper's random split, and the leakage-aware default.

- `paper_split`: the same files as `image_dataset_from_directory(validation_split=v, seed=s,
  subset=...)`: shuffle the indexed files with `np.random.RandomState(seed)`, the last
  `int(v * n)` are validation.
- `grouped_split`: whole groups go to one side. Groups are subject ids where the data has them,
  or else perceptual-hash clusters of near-duplicate images (a mirrored copy counts), so no
  person and no near-duplicate lands on both sides.
- `leakage`: how many validation images have a near-duplicate (or a subject) in train.
- `make_split`: the split a run uses, with the leakage of both (`training.cnn.run.SplitInfo`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image

HASH_SIZE = 8  # 64-bit pHash
# Hamming distance at or below which two images are near-duplicates. On the aligned crops of the
# synthetic set, 0.2 % of pairs of *different* people are within 10 bits (enough to chain everyone
# into one cluster) and none within 6.
NEAR_DUPLICATE_BITS = 6
SPLITS = ("grouped", "paper")


def _dct_matrix(n: int) -> np.ndarray:
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    m = np.cos(math.pi * (2 * i + 1) * k / (2 * n)) * math.sqrt(2.0 / n)
    m[0] /= math.sqrt(2.0)
    return m


_DCT32 = _dct_matrix(32)


def phash(rgb: np.ndarray) -> int:
    """64-bit perceptual hash: low 8x8 DCT frequencies of a 32x32 grey image vs their median."""
    grey = np.asarray(
        Image.fromarray(np.asarray(rgb)).convert("L").resize((32, 32), Image.Resampling.BOX),
        np.float64,
    )
    low = (_DCT32 @ grey @ _DCT32.T)[:HASH_SIZE, :HASH_SIZE].ravel()
    bits = low > np.median(low[1:])
    return int(np.packbits(bits).view(">u8")[0])


def hashes(images: np.ndarray) -> np.ndarray:
    """uint64 [N, 2]: pHash of each image and of its mirror image."""
    out = np.zeros((len(images), 2), np.uint64)
    for i, img in enumerate(images):
        img = np.asarray(img)
        out[i] = (phash(img), phash(img[:, ::-1]))
    return out


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Bit distance between every pair: [len(a), len(b)] (uint64 inputs)."""
    return np.bitwise_count(a[:, None] ^ b[None, :]).astype(np.int16)


def near_duplicate_pairs(h: np.ndarray, bits: int = NEAR_DUPLICATE_BITS) -> np.ndarray:
    """(i, j) pairs with i < j whose hashes (either one mirrored) are within `bits`."""
    pairs = []
    for start in range(0, len(h), 1024):
        block = h[start : start + 1024]
        d = np.minimum(hamming(block[:, 0], h[:, 0]), hamming(block[:, 1], h[:, 0]))
        ii, jj = np.nonzero(d <= bits)
        ii = ii + start
        keep = ii < jj
        pairs.append(np.stack([ii[keep], jj[keep]], axis=1))
    return np.concatenate(pairs) if pairs else np.zeros((0, 2), np.int64)


def _union_find(n: int, pairs: np.ndarray) -> np.ndarray:
    parent = np.arange(n)

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in pairs:
        ra, rb = root(int(a)), root(int(b))
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return np.array([root(i) for i in range(n)])


def groups(subjects: Sequence[str] | None, pairs: np.ndarray, n: int) -> np.ndarray:
    """Group id per image: the subject where known, else clusters linked by near-duplicate pairs."""
    if subjects is not None:
        first: dict[str, int] = {}
        return np.array([first.setdefault(s, i) for i, s in enumerate(subjects)])
    return _union_find(n, pairs)


def paper_split(
    n: int, validation_split: float = 0.2, seed: int = 123
) -> tuple[np.ndarray, np.ndarray]:
    """(train, validation) indices into Keras' index order, as `image_dataset_from_directory`."""
    order = np.arange(n)
    np.random.RandomState(seed).shuffle(order)
    n_val = int(validation_split * n)
    if n_val == 0:
        return order, order[:0]
    return order[:-n_val], order[-n_val:]


def grouped_split(
    group_ids: np.ndarray, validation_split: float = 0.2, seed: int = 123
) -> tuple[np.ndarray, np.ndarray]:
    """(train, validation) indices; whole groups, shuffled by `seed`, fill validation to ~v * n."""
    unique = np.unique(group_ids)
    np.random.RandomState(seed).shuffle(unique)
    target = validation_split * len(group_ids)
    val_groups: list[int] = []
    count = 0
    sizes = {g: int(c) for g, c in zip(*np.unique(group_ids, return_counts=True), strict=True)}
    for g in unique:
        if count >= target:
            break
        val_groups.append(int(g))
        count += sizes[int(g)]
    is_val = np.isin(group_ids, val_groups)
    if is_val.all() and len(group_ids) > 1:
        raise ValueError("one group holds every image: cannot split by group (use --split paper)")
    order = np.arange(len(group_ids))
    np.random.RandomState(seed + 1).shuffle(order)
    return order[~is_val[order]], order[is_val[order]]


def leakage(
    train: np.ndarray,
    val: np.ndarray,
    h: np.ndarray,
    subjects: Sequence[str] | None = None,
    bits: int = NEAR_DUPLICATE_BITS,
) -> dict[str, int | float | None]:
    """How many validation images have a near-duplicate in train, or a subject seen in train."""
    dup = 0
    if len(train) and len(val):
        for start in range(0, len(val), 1024):
            v = h[val[start : start + 1024]]
            t = h[train, 0]
            d = np.minimum(hamming(v[:, 0], t), hamming(v[:, 1], t))
            dup += int((d.min(axis=1) <= bits).sum())
    shared = None
    if subjects is not None:
        seen = {subjects[i] for i in train}
        shared = sum(subjects[i] in seen for i in val)
    return {
        "validation_images": len(val),
        "near_duplicate_in_train": dup,
        "near_duplicate_in_train_fraction": dup / max(1, len(val)),
        "subject_in_train": shared,
        "hamming_threshold_bits": bits,
    }


def make_split(
    hashes: np.ndarray, subjects: Sequence[str] | None, used: str = "grouped",
    validation_split: float = 0.2, seed: int = 123,
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:  # fmt: skip
    """The `used` split of images with these `hashes` (and people), plus leakage figures for
    both the paper split and the grouped split (the fields of `training.cnn.run.SplitInfo`)."""
    if used not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {used!r}")
    n = len(hashes)
    pairs = near_duplicate_pairs(hashes)
    group_ids = groups(subjects, pairs, n)
    candidates = {
        "paper": paper_split(n, validation_split, seed),
        "grouped": grouped_split(group_ids, validation_split, seed),
    }
    info: dict[str, Any] = {
        "used": used,
        "near_duplicate_pairs": len(pairs),
        "groups": len(np.unique(group_ids)),
        "group_source": "subjects.csv" if subjects else "pHash clusters",
    }
    for name, (tr, va) in candidates.items():
        info[name] = leakage(tr, va, hashes, subjects)
        info[name]["train_images"] = len(tr)
        if subjects is not None:
            info[name]["train_subjects"] = len({subjects[i] for i in tr})
            info[name]["validation_subjects"] = len({subjects[i] for i in va})
    train_idx, val_idx = candidates[used]
    return train_idx, val_idx, info

"""The CNN's data: folder-per-class image sets -> classifier inputs, exactly as serving prepares
them, cached; the loaded set (`Data`) and its figures.

`list_directory` indexes a directory like Keras' `image_dataset_from_directory` (class names are
the sorted sub-folder names; files are walked in sorted order; .bmp .gif .jpeg .jpg .png). Each
image is decoded by model/'s `decode_image`, its eyes are located the way serving locates them
(`training.cnn.eyes.EyeLocator`) and `classifier_input` makes the crop. When no face is found the
whole image is used (centred square) and the case is counted. Arrays are cached on disk keyed by
the files (path, size, mtime), the crop size and the preprocessing code, so a second run skips
decoding. No TensorFlow here.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from model import INPUT_SIZE, DecodeLimits, Rejected
from model.face.decode import decode_image
from model.face.preprocess import classifier_input
from training.cnn import splits
from training.common import model_digest

FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
# Training accepts small images (the Kaggle set has some); serving's quality gate judges size.
TRAIN_LIMITS = DecodeLimits(min_side=16)


@dataclass
class Listing:
    root: Path
    class_names: list[str]
    files: list[str]  # relative to root, in Keras' unshuffled index order
    labels: np.ndarray  # int32 index into class_names

    def subjects(self) -> list[str] | None:
        """Subject id per file from `subjects.csv` (columns file, subject) when the set has one."""
        path = self.root / "subjects.csv"
        if not path.is_file():
            return None
        with path.open(newline="") as fh:
            table = {row["file"]: row["subject"] for row in csv.DictReader(fh)}
        return [table.get(f, f"file:{f}") for f in self.files]


@dataclass
class Prepared:
    """Classifier inputs for a Listing, row i = listing.files[i]."""

    images: np.ndarray  # uint8 [N, size, size, 3]
    face_found: np.ndarray  # bool [N]
    unreadable: list[str] = field(default_factory=list)  # files decode_image refused (zeros)

    @property
    def faces_not_found(self) -> int:
        return int((~self.face_found).sum()) - len(self.unreadable)


def list_directory(root: Path) -> Listing:
    """Index `root`/<class>/**/<image> like `keras.utils.image_dataset_from_directory`."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"no such directory: {root}")
    class_names = sorted(
        d for d in os.listdir(root) if (root / d).is_dir() and not d.startswith(".")
    )
    files: list[str] = []
    labels: list[int] = []
    for index, name in enumerate(class_names):
        for dirpath, _, names in sorted(os.walk(root / name), key=lambda w: w[0]):
            for fname in sorted(names):
                if fname.lower().endswith(FORMATS):
                    files.append(str((Path(dirpath) / fname).relative_to(root)))
                    labels.append(index)
    if not files:
        raise ValueError(f"{root}: no images in class sub-folders (want {', '.join(FORMATS)})")
    return Listing(root, class_names, files, np.asarray(labels, np.int32))


def _cache_key(listing: Listing, size: int, align: str = "eyes") -> str:
    digest = model_digest()
    # "eyes" keys as before issue 21, so existing caches stay valid.
    digest.update(f"v1 size={size}\n".encode())
    if align != "eyes":
        digest.update(f"{align}\n".encode())
    digest.update(Path(__file__).with_name("eyes.py").read_bytes())
    for rel in listing.files:
        st = (listing.root / rel).stat()
        digest.update(f"{rel}\t{st.st_size}\t{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:24]


def prepare_one(
    data: bytes, size: int, locate: Callable[[np.ndarray], np.ndarray | None]
) -> tuple[np.ndarray, bool]:
    """(classifier input, face found) for one file's bytes; raises `Rejected` if undecodable."""
    rgb = decode_image(data, TRAIN_LIMITS)
    eyes = locate(rgb)
    return classifier_input(rgb, eyes, size), eyes is not None


def prepare(
    listing: Listing,
    size: int = INPUT_SIZE,
    cache_dir: Path | None = None,
    progress: bool = True,
    align: str = "eyes",
) -> Prepared:
    """Preprocess every file of `listing` (or load the cached arrays); `align` as in the
    classifier contract (`model.cnn.contract.ALIGNS`)."""
    key = _cache_key(listing, size, align)
    if cache_dir is not None:
        images_path = Path(cache_dir) / f"{key}.images.npy"
        meta_path = Path(cache_dir) / f"{key}.json"
        if images_path.is_file() and meta_path.is_file():
            meta = json.loads(meta_path.read_text())
            return Prepared(
                np.load(images_path, mmap_mode="r"),
                np.asarray(meta["face_found"], bool),
                meta["unreadable"],
            )
    from tqdm import tqdm

    from training.cnn.eyes import EyeLocator

    locate = EyeLocator(align)
    n = len(listing.files)
    images = np.zeros((n, size, size, 3), np.uint8)
    found = np.zeros(n, bool)
    unreadable: list[str] = []
    for i, rel in enumerate(tqdm(listing.files, desc="preprocess", disable=not progress)):
        try:
            images[i], found[i] = prepare_one((listing.root / rel).read_bytes(), size, locate)
        except Rejected:
            unreadable.append(rel)
    if cache_dir is not None:
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        tmp = images_path.with_suffix(".tmp.npy")
        np.save(tmp, images)
        tmp.replace(images_path)
        meta_path.write_text(
            json.dumps(
                {"face_found": found.tolist(), "unreadable": unreadable, "root": str(listing.root)}
            )
        )
    return Prepared(images, found, unreadable)


@dataclass
class Data:
    """A set as training sees it: the listing, its classifier inputs, their perceptual hashes
    (`splits.hashes`) and the person of each file (None: the set names none)."""

    listing: Listing
    prepared: Prepared
    hashes: np.ndarray
    subjects: list[str] | None


def load(
    root: Path, size: int = INPUT_SIZE, cache_dir: Path | None = None, progress: bool = True,
    align: str = "eyes",
) -> Data:  # fmt: skip
    listing = list_directory(root)
    prepared = prepare(listing, size, cache_dir, progress=progress, align=align)
    return Data(listing, prepared, splits.hashes(prepared.images), listing.subjects())


def dataset_stats(data: Data) -> dict[str, Any]:
    """dataset.json: the set's figures with the files whose face was not found (report.json
    keeps them without that list: `training.cnn.run.DatasetStats`)."""
    labels = data.listing.labels
    return {
        "root": str(data.listing.root),
        "images": len(labels),
        "classes": data.listing.class_names,
        "per_class": {c: int((labels == i).sum()) for i, c in enumerate(data.listing.class_names)},
        "faces_not_found": data.prepared.faces_not_found,
        "faces_not_found_files": [
            f
            for f, ok in zip(data.listing.files, data.prepared.face_found, strict=True)
            if not ok and f not in data.prepared.unreadable
        ][:50],
        "unreadable": data.prepared.unreadable,
        "subjects": len(set(data.subjects)) if data.subjects else None,
    }

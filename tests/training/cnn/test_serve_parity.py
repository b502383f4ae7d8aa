"""Same bytes through training's loader and serving's `Analyser.analyse`: identical classifier
inputs, byte for byte (the batch loader with its cache, and one file at a time)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from model.pipeline import Screener
from tests.support.onnx_fixtures import build_tiny_classifier, passthrough_screener
from training.cnn.data import list_directory, prepare, prepare_one
from training.cnn.eyes import EyeLocator


@pytest.fixture(scope="module")
def screener(tmp_path_factory: pytest.TempPathFactory) -> Screener:
    return passthrough_screener(build_tiny_classifier(tmp_path_factory.mktemp("clf") / "tiny.onnx"))


def _variants(photo: Path) -> dict[str, bytes]:
    """The original JPEG, a smaller PNG and a rotated, re-encoded JPEG of one photo."""
    img = Image.open(photo).convert("RGB")
    png, jpg = io.BytesIO(), io.BytesIO()
    img.resize((600, 600)).save(png, "PNG")
    img.rotate(7, expand=False, fillcolor=(90, 90, 90)).save(jpg, "JPEG", quality=70)
    return {"orig.jpg": photo.read_bytes(), "small.png": png.getvalue(), "rot.jpg": jpg.getvalue()}


@pytest.fixture(scope="module")
def midline(tmp_path_factory: pytest.TempPathFactory) -> Screener:
    path = tmp_path_factory.mktemp("clf") / "midline.onnx"
    return passthrough_screener(build_tiny_classifier(path, align="midline"))


@pytest.mark.parametrize("align", ["eyes", "midline"])
def test_loader_matches_screener(
    london_dir: Path, tmp_path: Path, screener: Screener, midline: Screener, align: str
) -> None:
    """Both crops of the contract's `input.align`, byte for byte."""
    serving = midline if align == "midline" else screener
    photos = [london_dir / "neutral" / "003_03.jpg", london_dir / "smiling" / "010_08.jpg"]
    expected = {}
    for k, photo in enumerate(photos):
        for name, data in _variants(photo).items():
            rel = f"normal/{k}_{name}"
            (tmp_path / "set" / "normal").mkdir(parents=True, exist_ok=True)
            (tmp_path / "set" / rel).write_bytes(data)
            expected[rel] = serving.analyse(data).crop
    listing = list_directory(tmp_path / "set")
    prepared = prepare(listing, size=224, cache_dir=tmp_path / "cache", progress=False,
                       align=align)  # fmt: skip
    assert prepared.face_found.all()
    for i, rel in enumerate(listing.files):
        assert prepared.images[i].dtype == np.uint8
        assert np.array_equal(prepared.images[i], expected[rel]), rel


def test_one_file_matches_screener(london_neutral: list[Path], screener: Screener) -> None:
    data = london_neutral[5].read_bytes()
    served = screener.analyse(data).crop
    trained, found = prepare_one(data, 224, EyeLocator())
    assert found and served is not None
    assert served.dtype == trained.dtype == np.uint8
    assert np.array_equal(served, trained)

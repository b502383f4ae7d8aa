"""The preprocessing / measuring cache key follows every file of model/ that could shape a row."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from training.cache_key import MODEL_DIR, model_digest


@pytest.fixture()
def model_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "model"
    shutil.copytree(MODEL_DIR, copy, ignore=shutil.ignore_patterns("__pycache__", "classifier*"))
    return copy


@pytest.mark.parametrize("name", ["face/quality.py", "measures/asymmetry.py", "pipeline.py"])
def test_changing_any_model_module_changes_the_key(model_copy: Path, name: str) -> None:
    before = model_digest(model_copy).hexdigest()
    path = model_copy / name
    path.write_text(path.read_text() + "\n# changed\n")
    assert model_digest(model_copy).hexdigest() != before


def test_the_key_is_stable_and_follows_the_face_models(model_copy: Path) -> None:
    assert model_digest(model_copy).hexdigest() == model_digest(model_copy).hexdigest()
    before = model_digest(model_copy).hexdigest()
    (model_copy / "assets" / "face_landmarks_478.onnx").write_bytes(b"another mesh")
    assert model_digest(model_copy).hexdigest() != before

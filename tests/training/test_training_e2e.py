"""Tiny end-to-end run: train 2 epochs on a few images, export (parity-checked), run the model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from model.cnn.classifier import Classifier
from training.dataset import list_directory

pytestmark = pytest.mark.train
REPO = Path(__file__).resolve().parents[2]


def _tiny_set(root: Path, faces: list[Path]) -> None:
    """Two images per class: London faces when present (so alignment runs), else noise."""
    rng = np.random.default_rng(0)
    classes = ("mild_eye", "mild_mouth", "moderate_eye", "moderate_mouth", "normal")
    people = [f"{cls}/{i}.{'jpg' if faces else 'png'},p{(2 * ci + i) % 10}" for ci, cls in
              enumerate(classes) for i in range(2)]  # fmt: skip
    (root).mkdir(parents=True)
    (root / "subjects.csv").write_text("file,subject\n" + "\n".join(people) + "\n")
    for ci, cls in enumerate(classes):
        (root / cls).mkdir(parents=True)
        for i in range(2):
            if faces:
                (root / cls / f"{i}.jpg").write_bytes(faces[(2 * ci + i) % len(faces)].read_bytes())
            else:
                img = rng.integers(0, 256, (160, 160, 3), dtype=np.uint8)
                Image.fromarray(img).save(root / cls / f"{i}.png")


def test_train_export_and_screen(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    pytest.importorskip("tensorflow")
    pytest.importorskip("tf2onnx")
    from training.__main__ import main
    from training.train import TrainConfig, run

    london = REPO.parent / "shared" / "data" / "faces" / "london" / "neutral"
    faces = sorted(london.glob("*_03.jpg"))[:10] if london.is_dir() else []
    _tiny_set(tmp_path / "data", faces)
    out = tmp_path / "run"
    cfg = TrainConfig(
        data=tmp_path / "data", out=out, split="paper", validation_split=0.4, epochs=2,
        cache_dir=tmp_path / "cache", progress=False,
    )  # fmt: skip
    result = run(cfg)
    assert result["epochs_run"] == 2
    assert result["validation"]["n"] == 4
    for name in ("model.keras", "history.json", "report.json", "loss.png", "confusion.png"):
        assert (out / name).is_file(), name

    onnx_path, int8_path = tmp_path / "clf.onnx", tmp_path / "clf.int8.onnx"
    code = main(["export", str(out), "--out", str(onnx_path), "--int8", str(int8_path)])
    assert code == 0
    exported = json.loads((out / "export.json").read_text())
    assert exported["parity_max_abs_logit_diff"] <= 1e-4
    assert exported["int8"]["bytes"] < exported["bytes"] / 2

    raw = Classifier(onnx_path).predict(np.full((1, 224, 224, 3), 128, np.float32))
    assert main(["calibrate", str(out), "--model", str(onnx_path)]) == 0
    calibration = json.loads((out / "calibration.json").read_text())[onnx_path.name]
    clf = Classifier(onnx_path)
    assert json.loads(clf.metadata["calibration"])["temperature"] == calibration["temperature"]
    cal = clf.predict(np.full((1, 224, 224, 3), 128, np.float32))
    assert cal.argmax() == raw.argmax()  # temperature changes confidence, never the ranking
    assert list(clf.classes) == result["validation"]["classes"]
    assert not clf.info.clinically_validated
    assert json.loads(clf.metadata["metrics"])["epochs"] == 2
    # Held out = people with validation images and none in train (this random split mixes them).
    split = json.loads((out / "split.json").read_text())
    subjects = list_directory(tmp_path / "data").subjects()
    assert subjects is not None
    trained = {subjects[i] for i in split["train"]}
    expected = sorted({subjects[i] for i in split["validation"]} - trained)
    assert json.loads(clf.metadata["validation_subjects"]) == expected
    # The card is filled from the run record: its figures are the run's, not hand-copied.
    card = tmp_path / "MODEL_CARD.md"
    assert main(["card", str(out), "--out", str(card), "--note", "tiny run"]) == 0
    text = card.read_text()
    assert text.startswith("# Model card: palsy classifier `run`")
    assert f"{result['parameters']:,}\nparameters" in text
    assert f"| `{onnx_path.name}` | {calibration['temperature']:g} |" in text
    assert f"| {result['validation']['accuracy']:.4f} |" in text and "- tiny run" in text
    probs = clf.predict(np.zeros((3, 224, 224, 3), np.float32))
    assert probs.shape == (3, 5) and np.allclose(probs.sum(1), 1, atol=1e-5)

    if not (REPO / "model" / "__main__.py").is_file():
        pytest.skip("palsy-check (model/__main__.py) not present")
    photo = faces[0] if faces else tmp_path / "data" / "normal" / "0.png"
    done = subprocess.run(
        [sys.executable, "-m", "model", "--json", "--cnn", "--model", str(onnx_path), str(photo)],
        capture_output=True, text=True, cwd=REPO, timeout=120, check=False,
    )  # fmt: skip
    assert "Traceback" not in done.stderr
    line = json.loads(done.stdout.strip().splitlines()[0])
    assert line["model"]["version"] == "run"
    if faces:  # the classifier ran: a label, or too unsure to give one (2 epochs, 6 images)
        assert line["status"] == "ok" or line["reason"] == "low_confidence", line
        assert set(line["cnn_probabilities"]) == set(clf.classes)

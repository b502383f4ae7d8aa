"""The CNN's commands end to end on a tiny set, through `palsy-train` itself: train 2 epochs,
export (parity-checked), calibrate, card, evaluate, run the model in palsy-check; cv-cnn on a few
people, with the card and the grader reading its out-of-fold probabilities."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from model.cnn.classifier import Classifier
from training.__main__ import main
from training.cnn.data import list_directory
from training.cnn.run import Run

pytestmark = pytest.mark.train
REPO = Path(__file__).resolve().parents[3]
CLASSES = ("mild_eye", "mild_mouth", "moderate_eye", "moderate_mouth", "normal")


def _tiny_set(root: Path, faces: list[Path]) -> None:
    """Two images per class: London faces when present (so alignment runs), else noise."""
    rng = np.random.default_rng(0)
    people = [f"{cls}/{i}.{'jpg' if faces else 'png'},p{(2 * ci + i) % 10}" for ci, cls in
              enumerate(CLASSES) for i in range(2)]  # fmt: skip
    (root).mkdir(parents=True)
    (root / "subjects.csv").write_text("file,subject\n" + "\n".join(people) + "\n")
    for ci, cls in enumerate(CLASSES):
        (root / cls).mkdir(parents=True)
        for i in range(2):
            if faces:
                (root / cls / f"{i}.jpg").write_bytes(faces[(2 * ci + i) % len(faces)].read_bytes())
            else:
                img = rng.integers(0, 256, (160, 160, 3), dtype=np.uint8)
                Image.fromarray(img).save(root / cls / f"{i}.png")


@dataclass(frozen=True)
class Exported:
    data: Path
    run: Path
    onnx: Path
    int8: Path
    cache: Path
    faces: list[Path]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Exported:
    """`palsy-train train` (2 epochs, the paper's random split) and `export` (with int8)."""
    pytest.importorskip("tensorflow")
    pytest.importorskip("tf2onnx")
    tmp = tmp_path_factory.mktemp("cnn")
    london = REPO.parent / "shared" / "data" / "faces" / "london" / "neutral"
    faces = sorted(london.glob("*_03.jpg"))[:10] if london.is_dir() else []
    _tiny_set(tmp / "data", faces)
    out, cache = tmp / "run", tmp / "cache"
    args = ["train", str(tmp / "data"), "--out", str(out), "--split", "paper",
            "--validation-split", "0.4", "--epochs", "2", "--cache", str(cache)]  # fmt: skip
    assert main(args) == 0
    onnx_path, int8_path = tmp / "clf.onnx", tmp / "clf.int8.onnx"
    assert main(["export", str(out), "--out", str(onnx_path), "--int8", str(int8_path)]) == 0
    return Exported(tmp / "data", out, onnx_path, int8_path, cache, faces)


def test_train_export_calibrate_card_and_screen(exported: Exported, tmp_path: Path) -> None:
    out, onnx_path = exported.run, exported.onnx
    # train wrote its report through the typed record, and the run reads back whole.
    run = Run.load(out)
    report = run.report
    assert report.epochs_run == 2 and report.validation.n == 4
    assert report.config.split == "paper" and report.config.data == exported.data
    assert report.split.used == "paper" and report.split.chosen.validation_images == 4
    assert list(report.validation.per_class) == list(CLASSES)
    for name in ("model.keras", "history.json", "report.json", "loss.png", "confusion.png"):
        assert (out / name).is_file(), name
    assert len(run.split.train) == 6 and len(run.split.validation) == 4

    exported_json = json.loads((out / "export.json").read_text())
    assert exported_json["parity_max_abs_logit_diff"] <= 1e-4
    assert exported_json["int8"]["bytes"] < exported_json["bytes"] / 2
    assert run.export is not None and run.export.parity_images == 4

    raw = Classifier(onnx_path).predict(np.full((1, 224, 224, 3), 128, np.float32))
    assert main(["calibrate", str(out), "--model", str(onnx_path)]) == 0
    calibration = json.loads((out / "calibration.json").read_text())[onnx_path.name]
    clf = Classifier(onnx_path)
    assert json.loads(clf.metadata["calibration"])["temperature"] == calibration["temperature"]
    cal = clf.predict(np.full((1, 224, 224, 3), 128, np.float32))
    assert cal.argmax() == raw.argmax()  # temperature changes confidence, never the ranking
    assert list(clf.classes) == report.validation.classes
    assert not clf.info.clinically_validated
    assert json.loads(clf.metadata["metrics"])["epochs"] == 2
    # Held out = people with validation images and none in train (this random split mixes them).
    subjects = list_directory(exported.data).subjects()
    assert subjects is not None
    trained = {subjects[i] for i in run.split.train}
    expected = sorted({subjects[i] for i in run.split.validation} - trained)
    assert json.loads(clf.metadata["validation_subjects"]) == expected
    # The card is filled from the run record: its figures are the run's, not hand-copied.
    card = tmp_path / "MODEL_CARD.md"
    assert main(["card", str(out), "--out", str(card), "--note", "tiny run"]) == 0
    text = card.read_text()
    assert text.startswith("# Model card: palsy classifier `run`")
    assert f"{report.parameters:,}\nparameters" in text
    assert f"| `{onnx_path.name}` | {calibration['temperature']:g} |" in text
    assert f"| {report.validation.accuracy:.4f} |" in text and "- tiny run" in text
    probs = clf.predict(np.zeros((3, 224, 224, 3), np.float32))
    assert probs.shape == (3, 5) and np.allclose(probs.sum(1), 1, atol=1e-5)

    photo = exported.faces[0] if exported.faces else exported.data / "normal" / "0.png"
    done = subprocess.run(
        [sys.executable, "-m", "model", "--json", "--cnn", "--model", str(onnx_path), str(photo)],
        capture_output=True, text=True, cwd=REPO, timeout=120, check=False,
    )  # fmt: skip
    assert "Traceback" not in done.stderr
    line = json.loads(done.stdout.strip().splitlines()[0])
    assert line["model"]["version"] == "run"
    if exported.faces:  # the classifier ran: a label, or too unsure to give one (2 epochs)
        assert line["status"] == "ok" or line["reason"] == "low_confidence", line
        assert set(line["cnn_probabilities"]) == set(clf.classes)


def test_evaluate_on_the_runs_images_every_image_or_a_fresh_split(
    exported: Exported, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = [str(exported.int8), str(exported.data), "--cache", str(exported.cache)]
    assert main(["evaluate", *common, "--run", str(exported.run), "--out", str(tmp_path)]) == 0
    saved = json.loads((tmp_path / "evaluation.json").read_text())
    assert saved["n"] == 4 and saved["classes"] == list(CLASSES)
    assert (tmp_path / "confusion.png").stat().st_size > 1000
    capsys.readouterr()
    assert main(["evaluate", *common, "--all"]) == 0
    assert json.loads(capsys.readouterr().out)["n"] == 10
    assert main(["evaluate", *common, "--split", "paper"]) == 0  # a fresh split of 10 images
    assert json.loads(capsys.readouterr().out)["n"] == 2
    other = tmp_path / "other"
    for cls in ("a", "b"):
        (other / cls).mkdir(parents=True)
        Image.fromarray(np.zeros((40, 40, 3), np.uint8)).save(other / cls / "x.png")
    assert main(["evaluate", str(exported.int8), str(other), "--cache", str(tmp_path)]) == 2
    assert "model classes" in capsys.readouterr().err


@pytest.mark.data
def test_cv_cnn_feeds_the_card_and_the_grader(
    exported: Exported, london_dir: Path, tiny_synth: Path, tmp_path: Path
) -> None:
    """`cv-cnn` on 4 people in 2 folds (1 epoch each): out-of-fold probabilities for every
    grader photo from a CNN that never saw its person; `card --cv` and `evaluate-grader
    --cnn-oof` read them."""
    cv, cache = tmp_path / "cv", tmp_path / "cache"
    args = ["cv-cnn", "--train-set", str(tiny_synth), "--synth", str(tiny_synth),
            "--london", str(london_dir), "--out", str(cv), "--cache", str(cache), "--folds", "2",
            "--epochs", "1", "--patience", "1", "--limit", "4"]  # fmt: skip
    assert main(args) == 0
    summary = json.loads((cv / "cnn_cv.json").read_text())
    folds = summary["folds"]
    assert [f["fold"] for f in folds] == [0, 1] and all(f["epochs_run"] == 1 for f in folds)
    held = [set(f["held_out_people"]) for f in folds]
    assert not held[0] & held[1] and len(held[0] | held[1]) == 4
    oof = json.loads((cv / "cnn_oof.json").read_text())
    assert summary["compare"]["photos"] == len(oof) and summary["compare"]["people"] == 4
    for probs in oof.values():
        assert set(probs) == set(summary["classes"]) and sum(probs.values()) == pytest.approx(1)
    # A finished cross-validation is read back, not trained again.
    stamps = [(cv / f"fold{j}" / "predictions.json").stat().st_mtime_ns for j in (0, 1)]
    assert main(args) == 0
    assert stamps == [(cv / f"fold{j}" / "predictions.json").stat().st_mtime_ns for j in (0, 1)]

    card = tmp_path / "MODEL_CARD.md"
    assert main(["card", str(exported.run), "--out", str(card), "--cv", str(cv)]) == 0
    text = card.read_text()
    assert "## Cross-validated by person, alone and in the grader" in text
    assert f"healthy copies and the corrected warps of the grader's set: {len(oof)} photos" in text

    grader = ["--london", str(london_dir), "--synth", str(tiny_synth), "--cache", str(cache),
              "--limit", "4", "--cnn-oof", str(cv / "cnn_oof.json")]  # fmt: skip
    args = ["evaluate-grader", *grader, "--out", str(tmp_path / "eval"), "--folds", "2"]
    assert main(args) == 0
    report = json.loads((tmp_path / "eval" / "grader_evaluation.json").read_text())
    assert report["data"]["cnn_out_of_fold"] == str(cv / "cnn_oof.json")
    assert set(report["weighing"]) == {"auroc_gain_interval", "operating_specificity"}
    out = tmp_path / "grader.json"
    assert main(["fit-grader", *grader, "--cnn", "--out", str(out), "--version", "t"]) == 0
    fitted = json.loads(out.read_text())
    assert fitted["cnn_classes"] == summary["classes"]
    assert "--cnn --cnn-oof" in fitted["fitted"]["command"]

"""`palsy-train evaluate`: an exported ONNX classifier on a folder-per-class set, through ONNX
Runtime (what serving runs), on a run's validation images, a fresh split, or every image."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from model.cnn.classifier import Classifier
from model.cnn.contract import INPUT_SIZE
from training import report, splits
from training.dataset import list_directory, prepare
from training.export import ort_logits
from training.run import Run
from training.train import Data, TrainConfig, make_split


class ClassMismatch(ValueError):
    """The model's classes are not the data set's folders."""


def evaluate(
    model: Path, data: Path, run: Path | None = None, every: bool = False,
    split: str = "grouped", out: Path | None = None, cache: Path | None = Path("cache"),
) -> dict[str, Any]:  # fmt: skip
    """Metrics of `model` on `data`: every image (`every`), `run`'s validation images, or the
    validation side of a fresh `split`. With `out`, also evaluation.json and confusion.png."""
    clf = Classifier(model)
    listing = list_directory(data)
    prepared = prepare(listing, INPUT_SIZE, cache)
    if list(clf.classes) != listing.class_names:
        raise ClassMismatch(f"model classes {clf.classes} != folders {listing.class_names}")
    if every:
        idx = list(range(len(listing.files)))
    elif run is not None:
        idx = Run.load(run).split.validation
    else:
        fresh = Data(listing, prepared, splits.hashes(prepared.images), listing.subjects())
        idx = sorted(map(int, make_split(TrainConfig(data=data, out=Path("."), split=split),
                                         fresh)[1]))  # fmt: skip
    logits = ort_logits(model, prepared.images[idx])
    result = report.metrics(logits, listing.labels[idx], listing.class_names)
    result["faces_not_found"] = prepared.faces_not_found
    if out is not None:
        report.write_json(out / "evaluation.json", result)
        report.plot_confusion(result["confusion_matrix"], result["classes"], out / "confusion.png")
    return result

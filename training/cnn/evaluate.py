"""`palsy-train evaluate`: an exported ONNX classifier on a folder-per-class set, through ONNX
Runtime (what serving runs), on a run's validation images, a fresh split, or every image."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from model import INPUT_SIZE, Classifier
from training.cnn import plots, splits
from training.cnn.data import list_directory, prepare
from training.cnn.export import ort_logits
from training.cnn.metrics import metrics
from training.cnn.run import Run, write_json


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
        hashes = splits.hashes(prepared.images)
        idx = sorted(map(int, splits.make_split(hashes, listing.subjects(), split)[1]))
    logits = ort_logits(model, prepared.images[idx])
    result = metrics(logits, listing.labels[idx], listing.class_names)
    result["faces_not_found"] = prepared.faces_not_found
    if out is not None:
        write_json(out / "evaluation.json", result)
        plots.plot_confusion(result["confusion_matrix"], result["classes"], out / "confusion.png")
    return result

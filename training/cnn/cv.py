"""Person-grouped cross-validation of the paper CNN, and what it adds to the grader.

The folds are the grader's (`training.common.person_folds` over the grader's people, same seed),
so in every fold the CNN and the grader are both fitted without the held-out people. Per fold:
- the CNN (the paper's layers at 224x224, on the crop the contract's `input` names: by default
  levelled on the facial midline, the graph subtracting its mirror image) is trained on the
  training set's images (`palsy-train synth --variants 1`) of the fold's other people, a share
  of them kept apart for early stopping;
- it then gives its probabilities for every grader photo of the held-out people (the real London
  photos, the phone-like healthy copies and the warps of the grader's own synthetic set), made
  by serving's crop.

`cnn_oof.json` holds those out-of-fold probabilities by file; `compare` cross-validates the
grader on them with and without the CNN (stacking: a fold's grader learns the CNN's weight from
the other people's out-of-fold probabilities) and gives the AUROCs the model card quotes
(`training.grader.weighing` decides whether the CNN earns a weight).
A fold already in the output folder is read back, so a stopped run goes on where it stopped.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from model.cnn.softmax import softmax
from model.labels import NORMAL
from training.cnn.data import Listing, list_directory, prepare
from training.cnn.fit import fit_arrays, predict_logits
from training.cnn.run import TrainConfig
from training.common import person_folds
from training.grader.data import Row, usable, with_oof
from training.grader.evaluate import summarise
from training.grader.fit import cross_validate
from training.grader.weighing import aurocs, score_figures, weighing

OOF = "cnn_oof.json"
SUMMARY = "cnn_cv.json"
DONE = "predictions.json"  # in each fold's folder


@dataclass(frozen=True)
class CvConfig:
    train_set: Path
    out: Path
    folds: int = 5
    seed: int = 7  # the grader's fold seed (training.grader.fit.cross_validate)
    epochs: int = 30
    patience: int = 5
    learning_rate: float = 1e-4
    batch_size: int = 16
    augment: bool = True
    align: str = "midline"
    mirror: str = "difference"
    early_stop_share: float = 0.15  # of a fold's training people, for early stopping
    cache: Path = Path("cache")
    threads: int = 2


def crops(files: list[str], cache: Path | None, align: str) -> np.ndarray:
    """Classifier inputs of arbitrary files (the grader's photos), made as training makes them."""
    listing = Listing(Path("."), ["any"], files, np.zeros(len(files), np.int32))
    return np.asarray(prepare(listing, cache_dir=cache, progress=True, align=align).images)


def _early_stop_people(people: list[str], share: float, seed: int) -> set[str]:
    order = np.random.default_rng(seed).permutation(len(people))
    return {people[i] for i in order[: max(1, round(share * len(people)))]}


def cross_validate_cnn(cfg: CvConfig, rows: list[Row]) -> dict[str, Any]:
    """Train one CNN per fold, predict its held-out people's grader photos; write and return
    the summary (per fold: epochs, best epoch, held-out accuracy on the training set's images)."""
    kept = usable(rows)
    listing = list_directory(cfg.train_set)
    subjects = listing.subjects()
    if subjects is None:
        raise ValueError(f"{cfg.train_set}: no subjects.csv, so no person-grouped folds")
    classes = listing.class_names
    folds_of = person_folds([r.subject for r in kept], cfg.folds, cfg.seed)
    todo = [j for j in range(len(folds_of)) if not (cfg.out / f"fold{j}" / DONE).is_file()]
    # The images only when a fold is still to train (a finished run is read back as it is).
    images = prepare(listing, cache_dir=cfg.cache, align=cfg.align).images if todo else None
    row_crops = crops([r.file for r in kept], cfg.cache, cfg.align) if todo else None
    # Only the grader's people (all of them, unless the rows were limited).
    people = {r.subject for r in kept}
    oof: dict[str, dict[str, float]] = {}
    folds = []
    cfg.out.mkdir(parents=True, exist_ok=True)
    for j, held in enumerate(folds_of):
        fold_dir = cfg.out / f"fold{j}"
        done = fold_dir / DONE
        if not done.is_file():
            assert images is not None and row_crops is not None
            train_people = sorted(people - held)
            stop = _early_stop_people(train_people, cfg.early_stop_share, cfg.seed + j)
            fit_people = set(train_people) - stop
            tr = np.array([i for i, s in enumerate(subjects) if s in fit_people])
            va = np.array([i for i, s in enumerate(subjects) if s in stop])
            te = np.array([i for i, s in enumerate(subjects) if s in held])
            tc = TrainConfig(
                cfg.train_set, fold_dir, seed=123 + j, epochs=cfg.epochs, augment=cfg.augment,
                batch_size=cfg.batch_size, learning_rate=cfg.learning_rate, cache_dir=cfg.cache,
                threads=cfg.threads, align=cfg.align, mirror=cfg.mirror, patience=cfg.patience,
            )  # fmt: skip
            labels = listing.labels
            model, history = fit_arrays(
                tc, len(classes), images[tr], labels[tr], images[va], labels[va]
            )
            mine = [i for i, r in enumerate(kept) if r.subject in held]
            probs = softmax(predict_logits(model, row_crops[mine]))
            test_logits = predict_logits(model, images[te])
            record = {
                "fold": j,
                "held_out_people": sorted(held),
                "train_images": len(tr),
                "early_stop_images": len(va),
                "epochs_run": len(history.get("loss", [])),
                "best_epoch": int(np.argmin(history["val_loss"]) + 1),
                "seconds_per_epoch_median": float(np.median(history["epoch_seconds"])),
                "held_out_train_set_images": len(te),
                "held_out_train_set_accuracy": float((test_logits.argmax(1) == labels[te]).mean()),
                "predictions": {
                    kept[i].file: dict(zip(classes, map(float, p), strict=True))
                    for i, p in zip(mine, probs, strict=True)
                },
            }
            done.write_text(json.dumps(record))
        record = json.loads(done.read_text())
        oof |= record.pop("predictions")
        folds.append(record)
    (cfg.out / OOF).write_text(json.dumps(oof))
    summary = {
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(cfg).items()},
        "classes": classes,
        "folds": folds,
    }
    (cfg.out / SUMMARY).write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def compare(rows: list[Row], oof: dict[str, dict[str, float]], folds: int = 5) -> dict[str, Any]:
    """Held-out figures of the CNN alone and of the grader without and with it (same folds)."""
    have = with_oof(rows, oof)
    classes = tuple(next(iter(oof.values())))
    cnn_score = {r.file: 1.0 - r.cnn[NORMAL] for r in have}
    out: dict[str, Any] = {"photos": len(have), "people": len({r.subject for r in have})}
    out["cnn_alone"] = aurocs(have, cnn_score)
    graded = {}
    for name, cnn in (("grader_without_cnn", ()), ("grader_with_cnn", classes)):
        graded[name] = cross_validate(have, cnn, folds)
        out[name] = score_figures(have, graded[name]) | summarise(graded[name])
    return out | weighing(have, graded["grader_without_cnn"], graded["grader_with_cnn"])

"""Train the paper's CNN on a folder-per-class set: load, split, fit, evaluate, write a run folder.

Run folder (names and typed reader in `training/run.py`): `model.keras` (final epoch),
`history.json` (written every epoch, with seconds per epoch), `split.json` (indices, leakage of
both splits), `dataset.json`, `report.json` (validation metrics), `loss.png`, `accuracy.png`,
`confusion.png`. TensorFlow is imported only when training.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from model.cnn.contract import INPUT_SIZE
from training import report, splits
from training.dataset import Listing, Prepared, list_directory, prepare

SPLITS = ("grouped", "paper")


@dataclass
class TrainConfig:
    data: Path
    out: Path
    split: str = "grouped"
    validation_split: float = 0.2
    seed: int = 123
    epochs: int = 50
    batch_size: int = 16
    augment: bool = False
    size: int = INPUT_SIZE  # the contract; smaller only for tests
    cache_dir: Path | None = Path("cache")
    learning_rate: float = 1e-3  # Keras' Adam default, as in the paper
    # Stop after the epoch that would otherwise overrun this many seconds of fitting (None: never).
    time_budget_s: float | None = None
    threads: int = 2
    progress: bool = True
    # The classifier contract's `input` (model.cnn.contract): which crop, and what the graph
    # does with it first. Defaults: the paper's (and every model before issue 21).
    align: str = "eyes"
    mirror: str = "none"
    # Stop when the validation loss has not improved for this many epochs and keep the best
    # epoch's weights (None: run every epoch, keep the last, as the paper does).
    patience: int | None = None


@dataclass
class Data:
    listing: Listing
    prepared: Prepared
    hashes: np.ndarray
    subjects: list[str] | None


def load(cfg: TrainConfig) -> Data:
    listing = list_directory(cfg.data)
    prepared = prepare(listing, cfg.size, cfg.cache_dir, progress=cfg.progress, align=cfg.align)
    return Data(listing, prepared, splits.hashes(prepared.images), listing.subjects())


def make_split(cfg: TrainConfig, data: Data) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """The chosen split, plus leakage figures for both the paper split and the grouped split."""
    n = len(data.listing.files)
    pairs = splits.near_duplicate_pairs(data.hashes)
    group_ids = splits.groups(data.subjects, pairs, n)
    candidates = {
        "paper": splits.paper_split(n, cfg.validation_split, cfg.seed),
        "grouped": splits.grouped_split(group_ids, cfg.validation_split, cfg.seed),
    }
    info: dict[str, Any] = {
        "used": cfg.split,
        "near_duplicate_pairs": len(pairs),
        "groups": len(np.unique(group_ids)),
        "group_source": "subjects.csv" if data.subjects else "pHash clusters",
    }
    for name, (tr, va) in candidates.items():
        info[name] = splits.leakage(tr, va, data.hashes, data.subjects)
        info[name]["train_images"] = len(tr)
        if data.subjects is not None:
            info[name]["train_subjects"] = len({data.subjects[i] for i in tr})
            info[name]["validation_subjects"] = len({data.subjects[i] for i in va})
    train_idx, val_idx = candidates[cfg.split]
    return train_idx, val_idx, info


def dataset_stats(data: Data) -> dict[str, Any]:
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


def _setup_tf(seed: int, threads: int) -> tuple[Any, Any]:
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        # TensorFlow already ran in this process (a second run, a notebook): keep its threads.
        pass
    import keras

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    return tf, keras


@dataclass(frozen=True)
class Augmentation:
    """`--augment` settings; the model card prints these same numbers."""

    jpeg_quality: tuple[int, int] = (40, 95)
    brightness: float = 25.0  # max shift, 0-255 scale
    contrast: tuple[float, float] = (0.8, 1.2)
    # +-1.1 deg, about the eye-levelling error left by preprocessing. More swamps the signal: at
    # 7 deg the mouth corners' height difference changes by ~0.12 IPD, a moderate palsy.
    rotation_turns: float = 0.003  # Keras RandomRotation factor (fraction of a full turn)
    blur_share: float = 0.3  # of batches, 3x3 binomial blur

    def describe(self) -> str:
        return (
            f"horizontal flip, brightness ±{self.brightness:g}, contrast {self.contrast[0]:g}–"
            f"{self.contrast[1]:g}, rotation ±{360 * self.rotation_turns:.1f}°, "
            f"JPEG quality {self.jpeg_quality[0]}–{self.jpeg_quality[1]}, a 3×3 blur on "
            f"{100 * self.blur_share:g} % of batches; new draws every epoch"
        )


AUGMENTATION = Augmentation()


def augmenter(tf: Any, keras: Any, seed: int, aug: Augmentation = AUGMENTATION) -> Any:
    """Brightness, contrast, small rotation, blur, JPEG quality and horizontal flip (batch-wise)."""
    rotate = keras.layers.RandomRotation(aug.rotation_turns, fill_mode="constant", seed=seed)
    kernel = np.outer(*(2 * [np.array([1.0, 2.0, 1.0]) / 4.0]))
    blur = tf.constant(np.tile(kernel[:, :, None, None], (1, 1, 3, 1)), tf.float32)

    def one(x: Any) -> Any:
        x = tf.image.random_jpeg_quality(x, *aug.jpeg_quality, seed=seed)
        x = tf.cast(x, tf.float32)
        x = tf.image.random_flip_left_right(x, seed=seed)
        x = tf.image.random_brightness(x, aug.brightness, seed=seed)
        x = tf.image.random_contrast(x, *aug.contrast, seed=seed)
        return tf.clip_by_value(x, 0.0, 255.0)

    def batch(x: Any, y: Any) -> Any:
        x = tf.map_fn(one, x, fn_output_signature=tf.float32)
        x = rotate(x, training=True)
        blurred = tf.nn.depthwise_conv2d(x, blur, [1, 1, 1, 1], "SAME")
        x = tf.where(tf.random.uniform([], seed=seed) < aug.blur_share, blurred, x)
        return x, y

    return batch


def fit(cfg: TrainConfig, data: Data, train_idx: np.ndarray, val_idx: np.ndarray) -> Any:
    """Fit the paper CNN; returns (model, history dict). Writes history.json every epoch."""
    images, labels = data.prepared.images, data.listing.labels
    return fit_arrays(
        cfg, len(data.listing.class_names), images[np.sort(train_idx)], labels[np.sort(train_idx)],
        images[np.sort(val_idx)], labels[np.sort(val_idx)],
    )  # fmt: skip


def fit_arrays(
    cfg: TrainConfig, n_cls: int, x_tr: np.ndarray, y_tr: np.ndarray, x_va: np.ndarray,
    y_va: np.ndarray,
) -> Any:  # fmt: skip
    """`fit` on arrays: (model, history dict); history.json in `cfg.out` every epoch."""
    tf, keras = _setup_tf(cfg.seed, cfg.threads)
    from training import run as folder  # run.py reads TrainConfig from here: import late
    from training.cnn import compile_paper, paper_cnn

    x_tr, x_va = np.asarray(x_tr), np.asarray(x_va)
    train_ds = (
        tf.data.Dataset.from_tensor_slices((x_tr, y_tr))
        .shuffle(len(x_tr), seed=cfg.seed, reshuffle_each_iteration=True)
        .batch(cfg.batch_size)
    )
    if cfg.augment:
        train_ds = train_ds.map(augmenter(tf, keras, cfg.seed))
    else:
        train_ds = train_ds.map(lambda x, y: (tf.cast(x, tf.float32), y))
    train_ds = train_ds.prefetch(2)
    val_ds = (
        tf.data.Dataset.from_tensor_slices((x_va, y_va))
        .batch(64)
        .map(lambda x, y: (tf.cast(x, tf.float32), y))
    )
    model = compile_paper(paper_cnn(n_cls, cfg.size, cfg.mirror), cfg.learning_rate)
    fit_start = time.perf_counter()
    history: dict[str, list[float]] = {}
    cfg.out.mkdir(parents=True, exist_ok=True)

    class Log(keras.callbacks.Callback):  # type: ignore[name-defined]
        def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            for k, v in (logs or {}).items():
                history.setdefault(k, []).append(float(v))
            history.setdefault("epoch_seconds", []).append(time.perf_counter() - self.t0)
            report.write_json(cfg.out / folder.HISTORY, history)
            self.model.save(cfg.out / "last.keras")
            spent = time.perf_counter() - fit_start
            if (
                cfg.time_budget_s
                and spent + np.median(history["epoch_seconds"]) > cfg.time_budget_s
            ):
                self.model.stop_training = True

    callbacks: list[Any] = [Log()]
    if cfg.patience is not None and len(x_va):
        callbacks.append(
            keras.callbacks.EarlyStopping(
                "val_loss", patience=cfg.patience, restore_best_weights=True
            )
        )
    model.fit(
        train_ds,
        validation_data=val_ds if len(x_va) else None,
        epochs=cfg.epochs,
        callbacks=callbacks,
        verbose=2 if cfg.progress else 0,
    )
    return model, history


def predict_logits(model: Any, images: np.ndarray, batch: int = 64) -> np.ndarray:
    out = [
        np.asarray(model(np.asarray(images[i : i + batch], np.float32), training=False))
        for i in range(0, len(images), batch)
    ]
    return np.concatenate(out) if out else np.zeros((0, model.output_shape[-1]), np.float32)


def run(cfg: TrainConfig) -> dict[str, Any]:
    """Load, split, fit, evaluate; returns the report written to `cfg.out/report.json`."""
    from training import run as folder  # run.py reads TrainConfig from here: import late

    if cfg.split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {cfg.split!r}")
    t0 = time.perf_counter()
    data = load(cfg)
    train_idx, val_idx, split_info = make_split(cfg, data)
    stats = dataset_stats(data)
    cfg.out.mkdir(parents=True, exist_ok=True)
    report.write_json(cfg.out / folder.DATASET, stats)
    report.write_json(
        cfg.out / folder.SPLIT,
        {
            **split_info,
            "train": sorted(map(int, train_idx)),
            "validation": sorted(map(int, val_idx)),
        },
    )
    prep_seconds = time.perf_counter() - t0
    model, history = fit(cfg, data, train_idx, val_idx)
    model.save(cfg.out / folder.MODEL)
    val_sorted = np.sort(val_idx)
    logits = predict_logits(model, data.prepared.images[val_sorted])
    result = report.metrics(logits, data.listing.labels[val_sorted], data.listing.class_names)
    secs = history.get("epoch_seconds", [])
    out = {
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(cfg).items()},
        "dataset": {k: v for k, v in stats.items() if k != "faces_not_found_files"},
        "split": split_info,
        "validation": result,
        "epochs_run": len(secs),
        "seconds_per_epoch_median": float(np.median(secs)) if secs else None,
        "preprocess_seconds": prep_seconds,
        "parameters": int(model.count_params()),
    }
    report.write_json(cfg.out / folder.REPORT, out)
    report.plot_history(history, cfg.out, f"({cfg.split} split)")
    report.plot_confusion(result["confusion_matrix"], result["classes"], cfg.out / "confusion.png")
    return out

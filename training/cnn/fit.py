"""Train the paper's CNN on a folder-per-class set: load, split, fit, evaluate, write a run folder.

Run folder (names and typed records in `training/cnn/run.py`): `model.keras` (final epoch),
`history.json` (written every epoch, with seconds per epoch), `split.json` (indices, leakage of
both splits), `dataset.json`, `report.json` (validation metrics), `loss.png`, `accuracy.png`,
`confusion.png`. TensorFlow is imported only when training.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from training.cnn import network, plots, splits
from training.cnn.data import Data, dataset_stats, load
from training.cnn.metrics import metrics
from training.cnn.run import (
    DATASET,
    HISTORY,
    MODEL,
    REPORT,
    SPLIT,
    DatasetStats,
    Metrics,
    Report,
    Split,
    SplitInfo,
    TrainConfig,
    record,
    write_json,
    write_record,
)


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
    model = network.compile_paper(network.paper_cnn(n_cls, cfg.size, cfg.mirror), cfg.learning_rate)
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
            write_json(cfg.out / HISTORY, history)
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


def train(cfg: TrainConfig) -> Report:
    """Load, split, fit, evaluate; returns the report written to `cfg.out/report.json`."""
    if cfg.split not in splits.SPLITS:
        raise ValueError(f"split must be one of {splits.SPLITS}, got {cfg.split!r}")
    t0 = time.perf_counter()
    data = load(cfg.data, cfg.size, cfg.cache_dir, cfg.progress, cfg.align)
    train_idx, val_idx, split_info = splits.make_split(
        data.hashes, data.subjects, cfg.split, cfg.validation_split, cfg.seed
    )
    info = record(SplitInfo, split_info)
    stats = dataset_stats(data)
    cfg.out.mkdir(parents=True, exist_ok=True)
    write_json(cfg.out / DATASET, stats)
    write_record(
        cfg.out / SPLIT, Split(info, sorted(map(int, train_idx)), sorted(map(int, val_idx)))
    )
    prep_seconds = time.perf_counter() - t0
    model, history = fit(cfg, data, train_idx, val_idx)
    model.save(cfg.out / MODEL)
    val_sorted = np.sort(val_idx)
    logits = predict_logits(model, data.prepared.images[val_sorted])
    validation = record(
        Metrics, metrics(logits, data.listing.labels[val_sorted], data.listing.class_names)
    )
    secs = history.get("epoch_seconds", [])
    report = Report(
        config=cfg,
        dataset=record(DatasetStats, stats),
        split=info,
        validation=validation,
        epochs_run=len(secs),
        seconds_per_epoch_median=float(np.median(secs)) if secs else None,
        preprocess_seconds=prep_seconds,
        parameters=int(model.count_params()),
    )
    write_record(cfg.out / REPORT, report)
    plots.plot_history(history, cfg.out, f"({cfg.split} split)")
    plots.plot_confusion(validation.confusion_matrix, validation.classes, cfg.out / "confusion.png")
    return report

"""Evaluation report from logits: accuracy, loss, per-class P/R/F1, confusion matrix, ECE, plots.

No TensorFlow: works on any model's logits (Keras or ONNX Runtime).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from model.cnn.softmax import softmax
from model.labels import NORMAL, parse_label

ECE_BINS = 15


def expected_calibration_error(
    probs: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS
) -> float:
    """ECE with equal-width confidence bins (top-1 confidence vs accuracy)."""
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    ece = 0.0
    for lo, hi in itertools.pairwise(edges):
        inside = (conf > lo) & (conf <= hi)
        if inside.any():
            ece += inside.mean() * abs(correct[inside].mean() - conf[inside].mean())
    return float(ece)


def metrics(logits: np.ndarray, labels: np.ndarray, class_names: Sequence[str]) -> dict[str, Any]:
    """Headline and per-class metrics of `logits` [N, C] against integer `labels` [N]."""
    labels = np.asarray(labels, np.int64)
    probs = softmax(logits)
    pred = probs.argmax(axis=1)
    n_cls = len(class_names)
    confusion = np.zeros((n_cls, n_cls), np.int64)  # rows: true, columns: predicted
    np.add.at(confusion, (labels, pred), 1)
    per_class = {}
    for i, name in enumerate(class_names):
        tp = confusion[i, i]
        precision = tp / confusion[:, i].sum() if confusion[:, i].sum() else 0.0
        recall = tp / confusion[i].sum() if confusion[i].sum() else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[name] = {
            "precision": float(precision),
            "recall": float(recall),
            "f1": float(f1),
            "support": int(confusion[i].sum()),
        }
    nll = -np.log(np.clip(probs[np.arange(len(labels)), labels], 1e-12, None))
    return {
        "n": len(labels),
        "accuracy": float((pred == labels).mean()) if len(labels) else 0.0,
        "loss": float(nll.mean()) if len(labels) else 0.0,
        "macro_f1": float(np.mean([c["f1"] for c in per_class.values()])),
        "ece": expected_calibration_error(probs, labels) if len(labels) else 0.0,
        "ece_bins": ECE_BINS,
        "per_class": per_class,
        "classes": list(class_names),
        "confusion_matrix": confusion.tolist(),
        **coarse_scores(confusion, class_names),
    }


def coarse_scores(confusion: np.ndarray, class_names: Sequence[str]) -> dict[str, Any]:
    """What triage needs from the confusion matrix: the region right, and palsy vs normal.

    `region_accuracy`: true and predicted region (eye, mouth, or normal) agree, any severity.
    With a `normal` class also `sensitivity` (palsy images given any palsy class) and
    `specificity` (normal images called normal). Unparseable class names give an empty dict.
    """
    try:
        regions = [parse_label(c).region or NORMAL for c in class_names]
    except ValueError:
        return {}
    cm = np.asarray(confusion)
    same = np.equal.outer(regions, regions)
    out: dict[str, Any] = {"region_accuracy": float(cm[same].sum() / max(1, cm.sum()))}
    if NORMAL in class_names:
        k = list(class_names).index(NORMAL)
        palsy = np.arange(len(class_names)) != k
        found = cm[np.ix_(palsy, palsy)].sum()
        out["sensitivity"] = float(found / max(1, cm[palsy].sum()))
        out["specificity"] = float(cm[k, k] / max(1, cm[k].sum()))
    return out


def write_json(path: Path, data: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


def plot_history(history: dict[str, list[float]], out_dir: Path, title: str = "") -> list[Path]:
    """Loss and accuracy curves, train vs validation (like the paper's figures 2 and 3)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    for key, label in (("loss", "Loss"), ("accuracy", "Accuracy")):
        fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
        epochs = np.arange(1, len(history.get(key, [])) + 1)
        ax.plot(epochs, history.get(key, []), label=f"training {label.lower()}")
        if f"val_{key}" in history:
            ax.plot(epochs, history[f"val_{key}"], label=f"validation {label.lower()}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label.lower())
        ax.set_title(f"{label} {title}".strip())
        ax.legend()
        fig.tight_layout()
        path = out_dir / f"{key}.png"
        fig.savefig(path)
        plt.close(fig)
        paths.append(path)
    return paths


def plot_confusion(confusion: Sequence[Sequence[int]], classes: Sequence[str], path: Path) -> Path:
    """Confusion matrix heat map with counts (like the paper's figure 4)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cm = np.asarray(confusion)
    fig, ax = plt.subplots(figsize=(7, 6), dpi=100)
    ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    limit = cm.max() / 2 if cm.size else 0
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            colour = "white" if cm[i, j] > limit else "black"
            ax.text(j, i, str(cm[i, j]), ha="center", va="center", color=colour)
    ax.set_title("Confusion matrix (validation)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path

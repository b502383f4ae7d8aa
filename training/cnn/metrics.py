"""A classifier's figures from its logits: accuracy, loss, per-class P/R/F1, confusion matrix,
ECE, and the triage view (region right, sensitivity, specificity).

No TensorFlow: works on any model's logits (Keras or ONNX Runtime).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
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

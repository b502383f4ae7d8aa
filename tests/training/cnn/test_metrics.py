"""Evaluation metrics on hand-checkable logits."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from training.cnn.metrics import expected_calibration_error, metrics
from training.cnn.plots import plot_confusion, plot_history


def test_confusion_and_per_class_scores() -> None:
    labels = np.array([0, 0, 1, 1, 2, 2])
    pred = np.array([0, 1, 1, 1, 2, 0])
    logits = np.eye(3)[pred] * 10.0
    out = metrics(logits, labels, ["a", "b", "c"])
    assert out["confusion_matrix"] == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert out["accuracy"] == pytest.approx(4 / 6)
    assert out["per_class"]["b"]["precision"] == pytest.approx(2 / 3)
    assert out["per_class"]["b"]["recall"] == pytest.approx(1.0)
    assert out["per_class"]["c"]["f1"] == pytest.approx(2 * 1 * 0.5 / 1.5)
    json.dumps(out)  # serialisable


def test_region_accuracy_sensitivity_and_specificity() -> None:
    classes = ["mild_eye", "severe_eye", "mild_mouth", "normal"]
    # true mild_eye -> severe_eye (region right), mild_mouth -> mild_eye (wrong region, but a
    # finding), mild_mouth -> normal (missed), normal -> normal, normal -> mild_mouth (false alarm)
    labels = np.array([0, 2, 2, 3, 3])
    pred = np.array([1, 0, 3, 3, 2])
    out = metrics(np.eye(4)[pred] * 10.0, labels, classes)
    assert out["region_accuracy"] == pytest.approx(2 / 5)
    assert out["sensitivity"] == pytest.approx(2 / 3)
    assert out["specificity"] == pytest.approx(1 / 2)
    assert "sensitivity" not in metrics(np.eye(2) * 5.0, np.array([0, 1]), classes[:2])
    assert "region_accuracy" not in metrics(np.eye(2) * 5.0, np.array([0, 1]), ["cat", "dog"])


def test_loss_is_mean_negative_log_likelihood() -> None:
    logits = np.array([[0.0, 0.0], [math.log(3.0), 0.0]])
    out = metrics(logits, np.array([0, 0]), ["x", "y"])
    assert out["loss"] == pytest.approx((math.log(2) + math.log(4 / 3)) / 2)


def test_ece_zero_when_confident_and_right_half_when_guessing_right() -> None:
    labels = np.array([0, 1, 0, 1])
    confident = np.eye(2)[labels]
    assert expected_calibration_error(confident, labels) == pytest.approx(0.0)
    half = np.array([[0.5, 0.5]] * 4)
    assert expected_calibration_error(half, np.zeros(4, int)) == pytest.approx(0.5)


def test_plots_are_written(tmp_path) -> None:
    history = {"loss": [2.0, 1.0], "val_loss": [2.1, 1.5], "accuracy": [0.2, 0.5]}
    for path in plot_history(history, tmp_path):
        assert path.read_bytes()[:4] == b"\x89PNG"
    png = plot_confusion([[3, 1], [0, 4]], ["a", "b"], tmp_path / "cm.png")
    assert png.stat().st_size > 1000

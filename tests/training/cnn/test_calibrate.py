"""Temperature scaling: flattens an overconfident guesser, keeps a good model sharp, and the
calibrated ONNX divides the logits exactly by T."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort

from model.cnn.classifier import Classifier
from tests.support.onnx_fixtures import build_tiny_classifier
from training.cnn.calibrate import apply_temperature, calibration_report, fit_temperature, nll


def test_confident_guesser_is_flattened() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 7, 700)
    logits = rng.normal(0, 6, (700, 7))  # confident, unrelated to the labels
    t = fit_temperature(logits, labels)
    assert t > 20
    assert nll(logits, labels, t) < nll(logits, labels, 1.0)
    assert calibration_report(logits, labels, t)["after"]["share_top_probability_ge_0.5"] == 0.0


def test_good_model_stays_confident() -> None:
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 7, 700)
    logits = rng.normal(0, 1, (700, 7))
    logits[np.arange(700), labels] += 6.0  # right nearly always
    t = fit_temperature(logits, labels)
    assert t < 2
    assert calibration_report(logits, labels, t)["after"]["share_top_probability_ge_0.5"] > 0.9


def test_calibrated_onnx_divides_logits_and_keeps_the_contract(tmp_path: Path) -> None:
    src = build_tiny_classifier(tmp_path / "c.onnx", bias={"severe_mouth": 3.0})
    dst = apply_temperature(src, tmp_path / "cal.onnx", 4.0, {"temperature": 4.0})
    x = np.random.default_rng(2).uniform(0, 255, (3, 224, 224, 3)).astype(np.float32)
    raw = ort.InferenceSession(str(src)).run(None, {"image": x})[0]
    cal = ort.InferenceSession(str(dst)).run(None, {"image": x})[0]
    np.testing.assert_allclose(cal, raw / 4.0, rtol=1e-6, atol=1e-6)
    c = Classifier(dst)  # still follows the contract
    assert json.loads(c.metadata["calibration"])["temperature"] == 4.0
    assert c.predict(x).max() < Classifier(src).predict(x).max()

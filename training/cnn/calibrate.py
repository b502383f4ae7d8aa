"""Temperature scaling (Guo et al. 2017) of an exported classifier, fitted on validation logits.

A model that memorised its training set reports confident probabilities that its validation
accuracy does not support. Dividing the logits by one temperature T, chosen to minimise the
validation negative log-likelihood, makes the shipped probabilities match what the model really
knows: for a model no better than chance, T grows and the softmax flattens, so the screener's
confidence threshold turns its guesses into "please retake" instead of confident findings.
The argmax, and so the accuracy, is unchanged.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

from model import ClassifierMetadata
from model.cnn.softmax import softmax
from training.cnn.export import ort_logits, set_metadata
from training.cnn.metrics import expected_calibration_error
from training.cnn.run import (
    CALIBRATION,
    CONFIDENT,
    CONFIDENT_KEY,
    Calibration,
    Run,
    record,
    to_json,
    write_json,
)

# Search range for T; the upper end is "as flat as makes no difference" for 7 classes.
T_MIN, T_MAX = 0.05, 1000.0


def nll(logits: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    z = logits.astype(np.float64) / temperature
    z -= z.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-log_p[np.arange(len(labels)), labels].mean())


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """T in [T_MIN, T_MAX] minimising validation NLL (golden-section search on log T)."""
    lo, hi = np.log(T_MIN), np.log(T_MAX)
    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    fa, fb = nll(logits, labels, np.exp(a)), nll(logits, labels, np.exp(b))
    for _ in range(80):
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - ratio * (hi - lo)
            fa = nll(logits, labels, np.exp(a))
        else:
            lo, a, fa = a, b, fb
            b = lo + ratio * (hi - lo)
            fb = nll(logits, labels, np.exp(b))
    return float(np.exp((lo + hi) / 2.0))


def apply_temperature(src: Path, dst: Path, temperature: float, report: dict[str, float]) -> Path:
    """Write `src` with its logits divided by `temperature`; same input, output name and contract.

    Records `temperature` and the calibration figures in the metadata (`calibration`).
    """
    model = onnx.load(str(src))
    graph = model.graph
    out = graph.output[0].name
    raw = f"{out}_uncalibrated"
    for node in graph.node:
        node.output[:] = [raw if name == out else name for name in node.output]
    t_name = "calibration_temperature"
    graph.initializer.append(numpy_helper.from_array(np.array(temperature, np.float32), t_name))
    graph.node.append(helper.make_node("Div", [raw, t_name], [out], name="temperature_scaling"))
    meta = ClassifierMetadata.from_props({p.key: p.value for p in model.metadata_props}, str(src))
    set_metadata(model, meta.with_(calibration={"method": "temperature", **report}).to_props())
    onnx.checker.check_model(model)
    dst.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(dst))
    return dst


def calibration_report(logits: np.ndarray, labels: np.ndarray, temperature: float) -> dict:
    """What the temperature changes on the validation images (accuracy does not change)."""

    def summary(t: float) -> dict[str, float]:
        p = softmax(logits / t)
        top = p.max(axis=1)
        return {
            "nll": round(nll(logits, labels, t), 4),
            "ece": round(expected_calibration_error(p, labels), 4),
            "mean_top_probability": round(float(top.mean()), 4),
            CONFIDENT_KEY: round(float((top >= CONFIDENT).mean()), 4),
        }

    return {
        "temperature": round(temperature, 4),
        "validation_images": len(labels),
        "before": summary(1.0),
        "after": summary(temperature),
    }


def calibrate_run(path: Path, models: list[Path]) -> dict[str, Calibration]:
    """`palsy-train calibrate`: fit T per model on the run's validation images, bake it into each
    file in place; writes and returns the run's calibration.json (by file name)."""
    run = Run.load(path)
    data, val = run.data(), run.split.validation
    images, labels = data.prepared.images[val], data.listing.labels[val]
    out = {}
    for model in models:
        logits = ort_logits(model, images)
        temperature = fit_temperature(logits, labels)
        report = calibration_report(logits, labels, temperature)
        apply_temperature(model, model, temperature, report)
        out[model.name] = record(Calibration, report)
    write_json(path / CALIBRATION, {name: to_json(c) for name, c in out.items()})
    return out

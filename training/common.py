"""What the three pipelines (cnn/, grader/, exam/) share, so each piece is written once.

- Person-grouped folds (`person_folds`) and the seed and count of the inner cross-validation
  that calibrates the grader and the exam (`CALIBRATION_FOLDS`, `CALIBRATION_SEED`).
- Shares and percentages as the reports and cards write them (`share`, `pct`, `no_nan`).
- Cache keys: one digest of everything in model/ that shapes a training array or a measured row
  (`model_digest`: every Python file of model/, not a hand-kept list, so a change to any of them,
  `quality.main_face` included, changes what is cropped or measured; and the face models that
  locate the face), and with the classifier in use (`code_digest`).
- Newton's method for a weighted multinomial logistic regression (`multinomial_logistic`): the
  grader's class weights and the exam's smile model.
- Calibration, fitted and measured alike for the grader and the exam: Platt maps on
  person-grouped out-of-fold scores (`platt`), with healthy and palsy weighing the same; the
  expected calibration error (ECE) over `BINS` equal-width bins with its reliability table
  (`ece`, `reliability_table`), each photo weighted so that palsy makes up a stated prior
  (`prior_weights`), and the same figures on the data's own mix and at even odds
  (`calibration_figures`): a calibration holds for one population, and these say how far it
  moves with another.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from model.decision.confidence import Platt
from model.labels import NORMAL

# Folds of the inner cross-validation whose out-of-fold scores a calibration is fitted on.
CALIBRATION_FOLDS = 5
CALIBRATION_SEED = 11


def person_folds(subjects: Sequence[str], k: int, seed: int) -> list[set[str]]:
    """`k` folds of people: a person's photos, and every warp made from them, on one side."""
    people = sorted(set(subjects))
    order = np.random.default_rng(seed).permutation(len(people))
    return [{people[i] for i in order[j::k]} for j in range(k)]


def share(n: int, d: int) -> float | None:
    return round(n / d, 4) if d else None


def pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.1%}"


def no_nan(obj: Any) -> Any:
    """JSON has no NaN: None instead."""
    if isinstance(obj, float) and math.isnan(obj):
        return None
    if isinstance(obj, dict):
        return {k: no_nan(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [no_nan(v) for v in obj]
    return obj


MODEL_DIR = Path(__file__).resolve().parents[1] / "model"
FACE_MODELS = ("assets/face_detection_yunet_2023mar.onnx", "assets/face_landmarks_478.onnx")


def model_digest(model_dir: Path = MODEL_DIR) -> Any:
    """A running SHA-256 (`hashlib` object) of model/'s code and face models; add to it."""
    digest = hashlib.sha256()
    sources = sorted(p for p in model_dir.rglob("*.py") if "__pycache__" not in p.parts)
    for path in [*sources, *(model_dir / name for name in FACE_MODELS)]:
        digest.update(str(path.relative_to(model_dir)).encode())
        digest.update(path.read_bytes() if path.is_file() else b"missing")
    return digest


def code_digest(analyser: Any) -> Any:
    """`model_digest` and the classifier `analyser` (a `model.Analyser`) runs: part of every
    cache key of measured rows."""
    digest = model_digest()
    digest.update(analyser.classifier.info.sha256.encode())
    return digest


def multinomial_logistic(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, l2: float, steps: int = 50
) -> np.ndarray:
    """Weighted multinomial logistic regression by Newton's method: theta [C, F + 1] (last
    column: the bias, not penalised), for one-hot `y` [N, C] and row weights `w` [N]."""
    n, f = x.shape
    c = y.shape[1]
    xb = np.hstack([x, np.ones((n, 1))])
    theta = np.zeros((c, f + 1))
    penalty = np.ones(f + 1)
    penalty[-1] = 0.0  # no penalty on the bias

    def loss(t: np.ndarray) -> float:
        z = xb @ t.T
        z -= z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return float(-(w[:, None] * y * logp).sum() / n + 0.5 * l2 * (penalty * t**2).sum())

    for _ in range(steps):
        z = xb @ theta.T
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        grad = ((w[:, None] * (p - y)).T @ xb) / n + l2 * penalty * theta
        # Hessian over (class, feature) pairs.
        s = w[:, None, None] * (np.einsum("ic,cd->icd", p, np.eye(c)) - p[:, :, None] * p[:, None])
        hess = np.einsum("icd,if,ig->cfdg", s, xb, xb) / n
        hess += np.einsum("cd,fg->cfdg", np.eye(c), np.diag(l2 * penalty + 1e-9))
        k = c * (f + 1)
        step = np.linalg.solve(hess.reshape(k, k), grad.reshape(k)).reshape(c, f + 1)
        before, scale = loss(theta), 1.0
        while loss(theta - scale * step) > before and scale > 1e-4:
            scale /= 2
        theta = theta - scale * step
        if np.abs(scale * step).max() < 1e-7:
            break
    return theta


BINS = 10
PLATT_L2 = 1e-4
# A fitted prior outside this range means the data separated perfectly or were too few (the
# map's slope ran away): the raw scores are kept instead, prior-shifted.
SANE_PRIOR = (0.01, 0.99)


def platt(scores: ArrayLike, targets: ArrayLike, weights: ArrayLike) -> Platt:
    """Weighted logistic regression of `targets` on the log-odds `scores` (Newton's method).
    Where the data cannot give a rising map (too few photos, or one kind only), the identity:
    the scores as they are."""
    if len(set(np.asarray(targets, bool).tolist())) < 2:
        return Platt(1.0, 0.0)
    s, t, w = (np.asarray(v, np.float64) for v in (scores, targets, weights))
    w = w / w.sum()
    a, b = 1.0, 0.0
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-np.clip(a * s + b, -500, 500)))
        grad = np.array([np.sum(w * (p - t) * s) + PLATT_L2 * a, np.sum(w * (p - t))])
        r = w * p * (1 - p)
        hess = np.array([[np.sum(r * s * s) + PLATT_L2, np.sum(r * s)], [np.sum(r * s), np.sum(r)]])
        step = np.linalg.solve(hess + 1e-12 * np.eye(2), grad)
        a, b = a - step[0], b - step[1]
        if np.abs(step).max() < 1e-10:
            break
    if not (np.isfinite(a) and np.isfinite(b)) or a <= 0:
        return Platt(1.0, 0.0)
    return Platt(float(a), float(b))


def prior_weights(labels: Sequence[str], prior: float) -> np.ndarray:
    """Per-photo weights (mean 1) so that palsy makes up `prior` of the total and each palsy
    class the same part of it."""
    labels = list(labels)
    count: dict[str, int] = {}
    for lab in labels:
        count[lab] = count.get(lab, 0) + 1
    palsy = [c for c in count if c != NORMAL]
    w = np.array(
        [(1 - prior) / count[c] if c == NORMAL else prior / (len(palsy) * count[c])
         for c in labels]
    )  # fmt: skip
    return w * len(labels) / w.sum()


def ece(
    confidence: ArrayLike, correct: ArrayLike, weights: ArrayLike | None = None
) -> tuple[float, list[dict[str, Any]]]:
    """Expected calibration error over `BINS` equal-width bins, and the reliability table."""
    c = np.asarray(confidence, np.float64)
    y = np.asarray(correct, np.float64)
    w = np.ones_like(c) if weights is None else np.asarray(weights, np.float64)
    if not len(c):
        return 0.0, []
    idx = np.minimum((c * BINS).astype(int), BINS - 1)
    total, err, table = w.sum(), 0.0, []
    for b in range(BINS):
        m = idx == b
        if not m.any():
            continue
        mean_c = float(np.average(c[m], weights=w[m]))
        acc = float(np.average(y[m], weights=w[m]))
        part = float(w[m].sum() / total)
        err += part * abs(acc - mean_c)
        table.append({
            "bin": f"{b / BINS:.1f}-{(b + 1) / BINS:.1f}", "photos": int(m.sum()),
            "weight": round(part, 4), "confidence": round(mean_c, 4), "right": round(acc, 4),
        })  # fmt: skip
    return round(err, 4), table


def calibration_figures(
    confidence: Sequence[float], correct: Sequence[bool], labels: Sequence[str], prior: float
) -> dict[str, Any]:
    """ECE and reliability table weighted to `prior`; the ECE at even odds and on the data's
    own mix beside them."""
    stated, table = ece(confidence, correct, prior_weights(labels, prior))
    return {
        "ece": stated,
        "reliability": table,
        "ece_even_odds": ece(confidence, correct, prior_weights(labels, 0.5))[0],
        "ece_data_mix": ece(confidence, correct)[0],
    }


def reliability_table(table: list[dict[str, Any]]) -> str:
    """A reliability table (`ece`'s) in Markdown, as the cards print it."""
    rows = "\n".join(
        f"| {r['bin']} | {r['photos']} | {r['weight']:.1%} | {r['confidence']:.3f} "
        f"| {r['right']:.3f} |"
        for r in table
    )
    return (
        "| top-class probability | photos | weight | mean probability | share right |\n"
        f"|---|---|---|---|---|\n{rows}"
    )

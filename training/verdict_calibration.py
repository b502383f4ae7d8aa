"""Fit the calibration of the grader's and the exam's probabilities; measure it.

What is fitted (model/decision/confidence.py applies it): Platt maps on person-grouped
out-of-fold scores (the caller makes them: `training.grader.fit` and `training.exam.fit` run an
inner cross-validation over their own fitting people), with healthy and palsy weighing the same,
then the prior at which the even bet falls midway between the decision's two thresholds.

How it is measured: the expected calibration error (ECE) of the top class's probability (is the
top class the true one?) and of the answer's confidence (is "signs" / "no signs" right?), over
10 equal-width bins, on held-out people, each photo weighted so that palsy makes up the stated
prior (healthy photos share 1 - prior, each palsy class an equal part of the prior); with a
reliability table. The same figures on the data's own mix and at even odds are reported beside
them: a calibration holds for one population, and these say how far it moves with another.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from model.decision.confidence import (
    EPS,
    Confidence,
    ExamCalibration,
    GraderCalibration,
    Platt,
    even_bet_prior,
    logit,
)
from model.labels import NORMAL

if TYPE_CHECKING:
    from training.grader import Outcome

BINS = 10
L2 = 1e-4
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
        grad = np.array([np.sum(w * (p - t) * s) + L2 * a, np.sum(w * (p - t))])
        r = w * p * (1 - p)
        hess = np.array([[np.sum(r * s * s) + L2, np.sum(r * s)], [np.sum(r * s), np.sum(r)]])
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


def _temperature(shares: np.ndarray, truth: np.ndarray, weights: np.ndarray) -> float:
    """The temperature of the palsy classes' shares (rows: palsy photos) with the least
    weighted log loss, on a log grid."""
    logs = np.log(np.maximum(shares, EPS))
    best, best_t = math.inf, 1.0
    for t in np.exp(np.linspace(math.log(0.25), math.log(4.0), 81)):
        z = logs / t
        z -= z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        loss = -float((weights * logp[np.arange(len(truth)), truth]).sum())
        if loss < best:
            best, best_t = loss, float(t)
    return best_t


def fit_grader(
    outcomes: Sequence[Outcome], classes: Sequence[str], clear_below: float, finding_at: float
) -> GraderCalibration:
    """The grader's calibration from out-of-fold grades (`training.grader.Outcome`, raw
    probabilities in `classes` order)."""
    from training.grader import _weights

    labels = [o.row.label for o in outcomes]
    w = _weights(labels)
    raw = np.array([o.probabilities for o in outcomes])
    k = list(classes).index(NORMAL)
    normal = platt([logit(p) for p in raw[:, k]], [lab == NORMAL for lab in labels], w)
    prior = even_bet_prior(normal, clear_below, finding_at)
    if not SANE_PRIOR[0] <= prior <= SANE_PRIOR[1]:
        return GraderCalibration.uncalibrated(clear_below, finding_at)
    palsy_idx = [i for i, c in enumerate(classes) if c != NORMAL]
    shares = raw[:, palsy_idx] / np.maximum(raw[:, palsy_idx].sum(axis=1, keepdims=True), EPS)
    maps: dict[str, Platt] = {}
    counts: dict[str, int] = {}
    for decision in ("finding", "unclear"):
        rows = [
            i for i, o in enumerate(outcomes)
            if o.decision == decision and labels[i] != NORMAL and _named(o) is not None
        ]  # fmt: skip
        counts[decision] = len(rows)
        if len(rows) < 10:  # too few to fit: the raw share
            maps[decision] = Platt(1.0, 0.0)
            continue
        col = [palsy_idx.index(list(classes).index(_named(outcomes[i]) or "")) for i in rows]
        maps[decision] = platt(
            [logit(shares[i, c]) for i, c in zip(rows, col, strict=True)],
            [labels[i] == _named(outcomes[i]) for i in rows],
            w[rows],
        )
    ill = [i for i, lab in enumerate(labels) if lab != NORMAL]
    truth = np.array([palsy_idx.index(list(classes).index(labels[i])) for i in ill])
    temperature = _temperature(shares[ill], truth, w[ill] / w[ill].sum()) if ill else 1.0
    return GraderCalibration(
        normal=normal,
        prior_palsy=prior,
        finding_class=maps["finding"],
        unclear_class=maps["unclear"],
        temperature=temperature,
        fitted={
            "method": "Platt maps on person-grouped out-of-fold grades (healthy and palsy "
            "weighing the same), prior shifted so the even bet falls midway between the "
            "thresholds",
            "photos": len(outcomes),
            "findings_with_palsy": counts["finding"],
            "unclear_with_palsy": counts["unclear"],
        },
    )


def _named(o: Outcome) -> str | None:
    return o.label if o.decision == "finding" else o.torn if o.decision == "unclear" else None


def fit_exam(
    p_weak: ArrayLike, weak: ArrayLike, clear_below: float, finding_at: float
) -> ExamCalibration:
    """The exam's calibration from out-of-fold P(one side weak) of healthy pairs (weak False)
    and smile failures (True), weighing the same."""
    is_weak = np.asarray(weak, bool)
    n_weak = max(1, int(is_weak.sum()))
    n_fine = max(1, int((~is_weak).sum()))
    w = np.where(is_weak, 0.5 / n_weak, 0.5 / n_fine)
    fitted = platt([logit(p) for p in np.asarray(p_weak, np.float64)], is_weak, w)
    middle = (logit(clear_below) + logit(finding_at)) / 2
    prior = 1.0 / (1.0 + math.exp(min(fitted.scale * middle + fitted.shift, 700.0)))
    if not SANE_PRIOR[0] <= prior <= SANE_PRIOR[1]:
        return ExamCalibration.uncalibrated(clear_below, finding_at)
    return ExamCalibration(
        fitted,
        prior,
        {
            "method": "Platt map on person-grouped out-of-fold P(one side weak) (healthy pairs "
            "and smile failures weighing the same), prior shifted so the even bet falls midway "
            "between the thresholds",
            "healthy_pairs": n_fine,
            "smile_failures": n_weak,
        },
    )


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
        share = float(w[m].sum() / total)
        err += share * abs(acc - mean_c)
        table.append({
            "bin": f"{b / BINS:.1f}-{(b + 1) / BINS:.1f}", "photos": int(m.sum()),
            "weight": round(share, 4), "confidence": round(mean_c, 4), "right": round(acc, 4),
        })  # fmt: skip
    return round(err, 4), table


def _figures(
    confidence: Sequence[float], correct: Sequence[bool], labels: Sequence[str], prior: float
) -> dict[str, Any]:
    stated, table = ece(confidence, correct, prior_weights(labels, prior))
    return {
        "ece": stated,
        "reliability": table,
        "ece_even_odds": ece(confidence, correct, prior_weights(labels, 0.5))[0],
        "ece_data_mix": ece(confidence, correct)[0],
    }


def grader_report(outcomes: Sequence[Outcome], classes: Sequence[str]) -> dict[str, Any]:
    """Calibration figures of held-out grades (each graded by a fold's calibrated grader): the
    top class's probability and the answer's confidence after calibration; the raw top class
    before; how often the verdict and the raw top class disagreed, and how often the
    calibrated classes needed `on_top`."""
    assert all(o.confidence is not None for o in outcomes)
    labels = [o.row.label for o in outcomes]
    prior = float(np.mean([o.confidence.prior for o in outcomes if o.confidence]))
    cal = [dict(zip(classes, o.calibrated, strict=True)) for o in outcomes]
    top = [max(p, key=p.__getitem__) for p in cal]
    agree = sum(_verdict_on_top(o, p) for o, p in zip(outcomes, cal, strict=True))
    raw = [dict(zip(classes, o.probabilities, strict=True)) for o in outcomes]
    raw_top = [max(p, key=p.__getitem__) for p in raw]
    decided = [o for o in outcomes if o.decision != "unclear"]
    conf = [o.confidence for o in outcomes if o.confidence]
    right = [
        (o.row.label == NORMAL) == (c.about == "no_signs" or c.leaning == "no_signs")
        for o, c in zip(outcomes, conf, strict=True)
    ]
    return {
        "prior_palsy": round(prior, 4),
        "photos": len(outcomes),
        "top_class": _figures(
            [max(p.values()) for p in cal], [t == lab for t, lab in zip(top, labels, strict=True)],
            labels, prior,
        ),
        "top_class_before": _figures(
            [max(p.values()) for p in raw],
            [t == lab for t, lab in zip(raw_top, labels, strict=True)], labels, prior,
        ),
        "answer": _figures([c.value for c in conf], right, labels, prior),
        "verdict_on_top": agree,
        "raw_top_disagreed_with_verdict": sum(
            not _verdict_on_top(o, p) for o, p in zip(outcomes, raw, strict=True)
        ),
        "reordered": sum(o.reordered for o in outcomes),
        "decided": len(decided),
        "bands": {
            band: sum(c.band == band for c in conf) for band in ("very_sure", "fairly_sure",
                                                                  "not_sure")
        },
    }  # fmt: skip


def _verdict_on_top(o: Outcome, probs: dict[str, float]) -> bool:
    order = sorted(probs, key=lambda c: -probs[c])
    if o.decision == "no_signs":
        return order[0] == NORMAL
    if o.decision == "finding":
        return order[0] == o.label
    return set(order[:2]) == {NORMAL, o.torn}


def exam_report(conf: Sequence[Confidence], weak: Sequence[bool]) -> dict[str, Any]:
    """The exam's calibration on held-out pairs: the answer's confidence against the truth."""
    prior = float(np.mean([c.prior for c in conf])) if conf else 0.5
    right = [
        (not w) == (c.about == "no_signs" or c.leaning == "no_signs")
        for c, w in zip(conf, weak, strict=True)
    ]
    labels = ["mild_mouth" if w else NORMAL for w in weak]
    return {
        "prior_weak": round(prior, 4),
        "pairs": len(conf),
        "answer": _figures([c.value for c in conf], right, labels, prior),
    }

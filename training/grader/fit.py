"""Fit the grader (model/decision/grader.py), and grade rows with it by person-grouped
cross-validation (its calibration is fitted on the out-of-fold grades of an inner one).

Fitting, from `training.grader.data` rows:
- healthy scale of each measure: the 95th percentile of its size on the real London photos
  (neutral and smiling, the people in the fitting data only);
- a multinomial logistic regression (Newton's method, L2 penalty `L2` on the weights) on the
  measure sizes, optionally with the CNN's log-probabilities; rows weighted so that healthy and
  palsy weigh the same, and each palsy class the same;
- the two decision thresholds on P(palsy), as quantiles of the healthy fitting photos' own
  P(palsy) at the policy rates in `Policy`: "no signs" below the `no_signs_rate` quantile, a
  finding from the `finding_rate` quantile up, unclear in between;
- the calibration of the shown probabilities: Platt maps on the out-of-fold grades of an inner
  person-grouped cross-validation (`fit_calibration`).

Cross-validation (`cross_validate`): folds grouped by person (a person's photos and every warp
made from them on one side), the grader fitted on the other folds' people only, then graded on
the held-out people; `training.grader.evaluate` turns the grades into figures.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from model import Tier, triage
from model.decision.confidence import (
    EPS,
    Confidence,
    GraderCalibration,
    Platt,
    even_bet_prior,
    logit,
)
from model.decision.grader import FEATURES, Grader, GraderParams, design_row
from model.labels import NORMAL, PAPER_CLASSES
from model.measures import asymmetry, expression
from training.common import (
    CALIBRATION_FOLDS,
    CALIBRATION_SEED,
    SANE_PRIOR,
    multinomial_logistic,
    person_folds,
    platt,
)
from training.grader.data import DATA_NOTE, Row, load_rows, out_of_fold, usable

CLASSES: tuple[str, ...] = (NORMAL, *PAPER_CLASSES)
# The measures the grader weighs: every position measure but the eye opening (the mesh does not
# follow a sagging lower lid: recovery ~0, and leaving it out raised the flagged share of
# held-out synthetic palsy from 43 % to 44 % at the same healthy rates), and every paired
# expression score (flagged 41 % without them). Person-grouped cross-validation on
# data/synth3, 2026-12-06 (`palsy-train evaluate-grader --features ...` compares sets).
GRADER_FEATURES: tuple[str, ...] = (
    *(f for f in asymmetry.FEATURES if f not in ("eye", "eye_area")),
    *expression.FEATURES,
)
L2 = 1e-3


@dataclass(frozen=True)
class Policy:
    """Target rates on the healthy fitting photos; the thresholds are fitted to meet them."""

    # Share of healthy fitting photos told "no signs" (the rest: unclear or a finding).
    no_signs_rate: float = 0.975
    # Share of healthy fitting photos below the finding threshold.
    finding_rate: float = 0.995


def healthy_scale(rows: Sequence[Row]) -> dict[str, float]:
    """95th percentile of each measure's size on real healthy photos (London originals)."""
    real = [r for r in rows if r.source == "london"]
    if not real:
        raise ValueError("no real healthy photos to calibrate the healthy range on")
    return {f: float(np.percentile([abs(r.asym[f]) for r in real], 95)) for f in FEATURES}


def class_weights(labels: Sequence[str]) -> np.ndarray:
    """Healthy and palsy weigh the same in total; within palsy, each class the same."""
    count = Counter(labels)
    palsy_classes = [c for c in count if c != NORMAL]
    w = np.array(
        [0.5 / count[c] if c == NORMAL else 0.5 / (len(palsy_classes) * count[c]) for c in labels]
    )
    return w * len(labels)


def fit(
    rows: Sequence[Row],
    cnn_classes: Sequence[str] = (),
    features: Sequence[str] = GRADER_FEATURES,
    policy: Policy = Policy(),
    version: str = "unversioned",
    record: dict[str, Any] | None = None,
    calibrate: bool = True,
) -> GraderParams:
    """Fit the grader on `rows` (healthy and palsy; rejected rows are skipped). `calibrate`:
    fit the calibration on the out-of-fold grades of an inner person-grouped cross-validation
    of these rows (else the raw probabilities, prior-shifted)."""
    rows = usable(rows)
    scale = healthy_scale(rows)
    blank = GraderParams(
        version=version, classes=CLASSES, features=tuple(features), healthy_scale=scale,
        cnn_classes=tuple(cnn_classes), weights=[[0.0] * (len(features) + len(cnn_classes))] *
        len(CLASSES), bias=[0.0] * len(CLASSES), clear_below=0.25, finding_at=0.75,
        calibration=GraderCalibration.uncalibrated(0.25, 0.75),
    )  # fmt: skip
    x = np.stack([design_row(r.asym, r.cnn, blank) for r in rows])
    labels = [r.label for r in rows]
    y = np.array([[float(lab == c) for c in CLASSES] for lab in labels])
    theta = multinomial_logistic(x, y, class_weights(labels), L2)
    params = GraderParams(
        **{**blank.__dict__, "weights": theta[:, :-1].tolist(), "bias": theta[:, -1].tolist()}
    )
    healthy = x[[lab == NORMAL for lab in labels]]
    p_palsy = 1.0 - Grader(params).probabilities(healthy)[:, CLASSES.index(NORMAL)]
    clear = float(np.quantile(p_palsy, policy.no_signs_rate))
    finding = max(clear, float(np.quantile(p_palsy, policy.finding_rate)))
    # An emergency needs a droop beyond every healthy fitting face's largest measure (of those
    # that name the side: Grader.decide compares the worst of them with this floor).
    sides = [f for f in features if f in asymmetry.FEATURES]
    severe_floor = max(abs(r.asym[f]) / scale[f] for r in rows if r.label == NORMAL for f in sides)
    fitted = {
        "date": dt.date.today().isoformat(),
        "policy": policy.__dict__,
        "l2": L2,
        "rows": {
            "healthy_real": sum(r.source == "london" for r in rows),
            "healthy_synthetic": sum(r.source == "synth" and r.label == NORMAL for r in rows),
            "palsy_synthetic": sum(r.label != NORMAL for r in rows),
            "people": len({r.subject for r in rows}),
        },
        **(record or {}),
    }
    calibration = GraderCalibration.uncalibrated(clear, finding)
    if calibrate:
        inner = cross_validate(rows, cnn_classes, CALIBRATION_FOLDS, CALIBRATION_SEED, policy,
                               features, calibrate=False)  # fmt: skip
        calibration = fit_calibration(inner, CLASSES, clear, finding)
        calibration.fitted["folds"] = CALIBRATION_FOLDS
    return GraderParams(
        **{
            **params.__dict__,
            "clear_below": clear,
            "finding_at": finding,
            "severe_floor": severe_floor,
            "fitted": fitted,
            "calibration": calibration,
        }
    )


@dataclass
class Outcome:
    """One held-out photo's grade."""

    row: Row
    decision: str
    label: str | None
    side: str | None
    tier: Tier
    p_palsy: float = 0.0
    # The grader's raw and calibrated class probabilities (in `CLASSES` order).
    probabilities: tuple[float, ...] = ()
    calibrated: tuple[float, ...] = ()
    confidence: Confidence | None = None
    torn: str | None = None  # "unclear": the class a finding would have had
    reordered: bool = False  # the calibration's `on_top` had to act


def grade_rows(params: GraderParams, rows: Sequence[Row]) -> list[Outcome]:
    grader = Grader(params)
    out = []
    for r in rows:
        probs = grader.probabilities(design_row(r.asym, r.cnn, params))[0]
        graded = grader.graded(probs.tolist(), r.asym)
        f = graded.finding
        loose = grader.calibration.apply(graded.raw_probabilities, f.decision, f.label or f.torn,
                                         ordered=False)  # fmt: skip
        out.append(Outcome(
            r, f.decision, f.label, f.side, triage(f.label), f.p_palsy, tuple(probs.tolist()),
            tuple(graded.probabilities[c] for c in params.classes), graded.confidence, f.torn,
            any(abs(loose[c] - graded.probabilities[c]) > 1e-12 for c in params.classes),
        ))  # fmt: skip
    return out


def cross_validate(
    rows: Sequence[Row],
    cnn_classes: Sequence[str] = (),
    folds: int = 5,
    seed: int = 7,
    policy: Policy = Policy(),
    features: Sequence[str] = GRADER_FEATURES,
    calibrate: bool = True,
) -> list[Outcome]:
    """Every usable row graded by a grader fitted without its person (its calibration too:
    fitted on an inner cross-validation of the fold's own people)."""
    rows = usable(rows)
    outcomes: list[Outcome] = []
    for held in person_folds([r.subject for r in rows], folds, seed):
        train = [r for r in rows if r.subject not in held]
        test = [r for r in rows if r.subject in held]
        fitted = fit(train, cnn_classes, features, policy, calibrate=calibrate)
        outcomes += grade_rows(fitted, test)
    return outcomes


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


def fit_calibration(
    outcomes: Sequence[Outcome], classes: Sequence[str], clear_below: float, finding_at: float
) -> GraderCalibration:
    """The grader's calibration from out-of-fold grades (raw probabilities in `classes` order):
    Platt maps with healthy and palsy weighing the same, the prior at which the even bet falls
    midway between the two thresholds (model/decision/confidence.py applies it)."""
    labels = [o.row.label for o in outcomes]
    w = class_weights(labels)
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


def fit_command(
    london: Path, synth: Path, out: Path, cache: Path, version: str, use_cnn: bool = False,
    classifier: Path | None = None, limit: int | None = None,
    features: tuple[str, ...] = GRADER_FEATURES, cnn_oof: Path | None = None,
) -> GraderParams:  # fmt: skip
    """Fit on every person and write the grader parameters. With `cnn_oof`, the CNN's weight
    is learned from its out-of-fold probabilities (as serving will see it on new people)."""
    rows, screener = load_rows(london, synth, cache, classifier, limit)
    rows = out_of_fold(rows, cnn_oof)
    record = {
        "data": DATA_NOTE,
        "london": str(london),
        "synthetic": str(synth),
        "classifier": screener.classifier.info.version if use_cnn else None,
        "command": f"palsy-train fit-grader --synth {synth} --version {version}"
        + (" --cnn" if use_cnn else "")
        + (f" --cnn-oof {cnn_oof}" if cnn_oof else "")
        + ("" if features == GRADER_FEATURES else f" --features {','.join(features)}"),
    }
    cnn = tuple(screener.classifier.classes) if use_cnn else ()
    params = fit(rows, cnn, features, version=version, record=record)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(params.to_json() + "\n")
    return params

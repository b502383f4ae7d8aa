"""Fit the grader (model/decision/grader.py) and evaluate it by person-grouped cross-validation.

Fitting, from `training.grader_data` rows:
- healthy scale of each measure: the 95th percentile of its size on the real London photos
  (neutral and smiling, the people in the fitting data only);
- a multinomial logistic regression (Newton's method, L2 penalty `L2` on the weights) on the
  measure sizes, optionally with the CNN's log-probabilities; rows weighted so that healthy and
  palsy weigh the same, and each palsy class the same;
- the two decision thresholds on P(palsy), as quantiles of the healthy fitting photos' own
  P(palsy) at the policy rates in `Policy`: "no signs" below the `no_signs_rate` quantile, a
  finding from the `finding_rate` quantile up, unclear in between.

Evaluation: folds grouped by person (a person's photos and every warp made from them on one side),
the grader fitted on the other folds' people only, then scored on the held-out people.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from model.decision.confidence import Confidence, GraderCalibration
from model.decision.grader import FEATURES, Grader, GraderParams, design_row
from model.decision.triage import Tier, triage
from model.labels import NORMAL, PAPER_CLASSES, SEVERITIES, parse_label
from model.measures import asymmetry, expression
from model.measures.asymmetry import MM_PER_IPD
from training import verdict_calibration as vc
from training.grader_data import Row

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
# Folds of the inner cross-validation whose out-of-fold grades the calibration is fitted on.
CALIBRATION_FOLDS = 5
CALIBRATION_SEED = 11


@dataclass(frozen=True)
class Policy:
    """Target rates on the healthy fitting photos; the thresholds are fitted to meet them."""

    # Share of healthy fitting photos told "no signs" (the rest: unclear or a finding).
    no_signs_rate: float = 0.975
    # Share of healthy fitting photos below the finding threshold.
    finding_rate: float = 0.995


def usable(rows: Sequence[Row]) -> list[Row]:
    return [r for r in rows if r.rejected is None]


def healthy_scale(rows: Sequence[Row]) -> dict[str, float]:
    """95th percentile of each measure's size on real healthy photos (London originals)."""
    real = [r for r in rows if r.source == "london"]
    if not real:
        raise ValueError("no real healthy photos to calibrate the healthy range on")
    return {f: float(np.percentile([abs(r.asym[f]) for r in real], 95)) for f in FEATURES}


def _weights(labels: Sequence[str]) -> np.ndarray:
    """Healthy and palsy weigh the same in total; within palsy, each class the same."""
    count = Counter(labels)
    palsy_classes = [c for c in count if c != NORMAL]
    w = np.array(
        [0.5 / count[c] if c == NORMAL else 0.5 / (len(palsy_classes) * count[c]) for c in labels]
    )
    return w * len(labels)


def _newton(x: np.ndarray, y: np.ndarray, w: np.ndarray, l2: float, steps: int = 50) -> np.ndarray:
    """Multinomial logistic regression: theta [C, F + 1] (last column: bias)."""
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
    theta = _newton(x, y, _weights(labels), L2)
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
        calibration = vc.fit_grader(inner, CLASSES, clear, finding)
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


def person_folds(subjects: Sequence[str], k: int, seed: int) -> list[set[str]]:
    people = sorted(set(subjects))
    order = np.random.default_rng(seed).permutation(len(people))
    return [{people[i] for i in order[j::k]} for j in range(k)]


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


def share(n: int, d: int) -> float | None:
    return round(n / d, 4) if d else None


def pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.1%}"


def summarise(outcomes: Sequence[Outcome], rows: Sequence[Row] = ()) -> dict[str, Any]:
    """The figures the issue and the card ask for."""
    out: dict[str, Any] = {}
    for name, keep in (
        ("healthy_real", lambda o: o.row.source == "london"),
        ("healthy_real_neutral", lambda o: o.row.source == "london" and o.row.photo == "neutral"),
        ("healthy_real_smiling", lambda o: o.row.source == "london" and o.row.photo == "smiling"),
        ("healthy_synthetic", lambda o: o.row.source == "synth" and o.row.label == NORMAL),
    ):
        group = [o for o in outcomes if keep(o)]
        n = len(group)
        decisions = Counter(o.decision for o in group)
        out[name] = {
            "photos": n,
            "no_signs": share(decisions["no_signs"], n),
            "unclear": share(decisions["unclear"], n),
            "finding": share(decisions["finding"], n),
            "emergencies": sum(o.tier is Tier.EMERGENCY for o in group),
        }
    palsy: dict[str, Any] = {}
    for severity in SEVERITIES:
        for region in ("eye", "mouth", "any"):
            group = [
                o for o in outcomes if o.row.label != NORMAL
                and parse_label(o.row.label).severity == severity
                and (region == "any" or parse_label(o.row.label).region == region)
            ]  # fmt: skip
            palsy[f"{severity}_{region}"] = _palsy_figures(group)
    palsy["all"] = _palsy_figures([o for o in outcomes if o.row.label != NORMAL])
    out["palsy_synthetic"] = palsy
    if rows:
        out["recovery"] = recovery(rows)
    return out


def _palsy_figures(group: Sequence[Outcome]) -> dict[str, Any]:
    n = len(group)
    flagged = [o for o in group if o.decision == "finding"]
    f = len(flagged)
    order = {s: i for i, s in enumerate(SEVERITIES)}

    def steps(o: Outcome) -> int:
        assert o.label is not None
        got, want = parse_label(o.label).severity, parse_label(o.row.label).severity
        assert got is not None and want is not None
        return abs(order[got] - order[want])

    return {
        "photos": n,
        "flagged": share(f, n),
        "unclear": share(sum(o.decision == "unclear" for o in group), n),
        "told_no_signs": share(sum(o.decision == "no_signs" for o in group), n),
        "region_right": share(
            sum(o.label is not None and o.label.endswith(o.row.label.split("_")[1])
                for o in flagged), f),
        "side_right": share(sum(o.side == o.row.side for o in flagged), f),
        "severity_exact": share(sum(steps(o) == 0 for o in flagged), f),
        "severity_within_one": share(sum(steps(o) <= 1 for o in flagged), f),
    }  # fmt: skip


def recovery(rows: Sequence[Row]) -> dict[str, Any]:
    """Measured / applied size of the synthetic droop: the mesh's pull toward symmetry.

    Measured: the warped photo's signed measure toward the palsied side, minus the same measure
    on the source London photo (its own natural asymmetry).
    """
    rows = usable(rows)
    base = {(r.subject, r.photo): r.asym for r in rows if r.source == "london"}
    pairs = {"corner_drop": "mouth", "brow_drop": "brow", "lid_drop": "eye"}
    out: dict[str, Any] = {}
    for applied_key, measure in pairs.items():
        ratios, applied_sizes = [], []
        for r in rows:
            src = base.get((r.subject, r.photo))
            if r.side is None or applied_key not in r.applied or src is None:
                continue
            sign = 1.0 if r.side == "left" else -1.0
            applied = r.applied[applied_key]
            ratios.append(sign * (r.asym[measure] - src[measure]) / applied)
            applied_sizes.append(applied)
        if ratios:
            q = np.percentile(ratios, [25, 50, 75])
            out[measure] = {
                "applied": applied_key,
                "photos": len(ratios),
                "median_applied_mm": round(float(np.median(applied_sizes)) * MM_PER_IPD, 1),
                "measured_over_applied_median": round(float(q[1]), 3),
                "measured_over_applied_iqr": [round(float(q[0]), 3), round(float(q[2]), 3)],
            }
    return out


def estimated_droop(rows: Sequence[Row], folds: int = 5, seed: int = 7) -> dict[str, Any]:
    """How much of a realised mouth droop the mesh and the expression scores recover together.

    A linear estimate of the applied corner drop (IPD) from the mouth's position measures and
    paired expression scores (turned as the grader turns them), fitted by least squares on the
    other people's mouth warps only and scored on held-out people: the median estimate / applied
    and the held-out R^2. The mesh alone is `recovery`'s "mouth" figure.
    """
    rows = [r for r in usable(rows) if "corner_drop" in r.applied and r.side]
    names = [f for f in FEATURES if FEATURES[f] == "mouth"]

    def design(r: Row) -> np.ndarray:
        turn = 1.0 if r.side == "left" else -1.0  # the applied side, as a droop would be read
        return np.array([1.0, *(turn * r.asym[f] for f in names)])

    ratios, truth, guess = [], [], []
    for held in person_folds([r.subject for r in rows], folds, seed):
        train = [r for r in rows if r.subject not in held]
        coef, *_ = np.linalg.lstsq(
            np.stack([design(r) for r in train]),
            np.array([r.applied["corner_drop"] for r in train]),
            rcond=None,
        )
        for r in rows:
            if r.subject in held:
                est = float(design(r) @ coef)
                ratios.append(est / r.applied["corner_drop"])
                truth.append(r.applied["corner_drop"])
                guess.append(est)
    t, g = np.array(truth), np.array(guess)
    r2 = 1.0 - float(((t - g) ** 2).sum() / ((t - t.mean()) ** 2).sum()) if len(t) > 1 else None
    q = np.percentile(ratios, [25, 50, 75]) if ratios else [float("nan")] * 3
    return {
        "photos": len(ratios),
        "measures": names,
        "estimate_over_applied_median": round(float(q[1]), 3),
        "estimate_over_applied_iqr": [round(float(q[0]), 3), round(float(q[2]), 3)],
        "held_out_r2": None if r2 is None else round(r2, 3),
    }


def severity_bands(rows: Sequence[Row]) -> dict[str, Any]:
    """Applied and measured size per synthetic class, IPD and mm: the card's severity bands."""
    out: dict[str, Any] = {}
    for label in PAPER_CLASSES:
        region = parse_label(label).region
        measure = "mouth" if region == "mouth" else "brow"
        group = [r for r in usable(rows) if r.label == label and r.side]
        if not group:
            continue
        measured = [abs(r.asym[measure]) for r in group]
        key = "corner_drop" if region == "mouth" else "brow_drop"
        applied = [r.applied[key] for r in group]
        out[label] = {
            "measure": measure,
            "applied_ipd": [round(min(applied), 3), round(max(applied), 3)],
            "applied_mm": [
                round(min(applied) * MM_PER_IPD, 1),
                round(max(applied) * MM_PER_IPD, 1),
            ],
            "measured_median_ipd": round(float(np.median(measured)), 4),
            "measured_median_mm": round(float(np.median(measured)) * MM_PER_IPD, 1),
        }
    return out


def no_nan(obj: Any) -> Any:
    """JSON has no NaN: None instead."""
    if isinstance(obj, float) and math.isnan(obj):
        return None
    if isinstance(obj, dict):
        return {k: no_nan(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [no_nan(v) for v in obj]
    return obj

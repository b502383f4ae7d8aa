"""Person-grouped cross-validation of the grader: its figures, and `palsy-train evaluate-grader`
(the report JSON and, with `--card`, the grader card).

On held-out people (`training.grader.fit.cross_validate`): the healthy photos told "no signs",
"unclear" or a finding; the synthetic palsy flagged, with region, side and severity right; how
much of a realised droop the measures recover (`recovery`, `estimated_droop`); the severity
bands; the calibration's figures (`grader_report`); with and without the CNN
(`training.grader.weighing`).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from model import Tier
from model.decision.grader import FEATURES
from model.labels import NORMAL, PAPER_CLASSES, SEVERITIES, parse_label
from model.measures.asymmetry import MM_PER_IPD
from training.common import calibration_figures, no_nan, person_folds, share
from training.grader.card import card_text, external_results, headline_table
from training.grader.data import DATA_NOTE, Row, load_rows, out_of_fold, usable
from training.grader.fit import (
    CLASSES,
    GRADER_FEATURES,
    Outcome,
    Policy,
    cross_validate,
    healthy_scale,
)
from training.grader.weighing import score_figures, weighing


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
        "top_class": calibration_figures(
            [max(p.values()) for p in cal], [t == lab for t, lab in zip(top, labels, strict=True)],
            labels, prior,
        ),
        "top_class_before": calibration_figures(
            [max(p.values()) for p in raw],
            [t == lab for t, lab in zip(raw_top, labels, strict=True)], labels, prior,
        ),
        "answer": calibration_figures([c.value for c in conf], right, labels, prior),
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


def _cnn_holdout(screener: Any) -> set[str]:
    return set(screener.classifier.contract.validation_subjects or ())


def evaluate_command(
    london: Path, synth: Path, out: Path, cache: Path, classifier: Path | None = None,
    folds: int = 5, limit: int | None = None, card: Path | None = None,
    features: tuple[str, ...] = GRADER_FEATURES, cnn_oof: Path | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Person-grouped cross-validation of the grader with and without the CNN (with
    `cnn_oof`, the CNN's out-of-fold probabilities: a fair test of its weight)."""
    rows, screener = load_rows(london, synth, cache, classifier, limit)
    rows = out_of_fold(rows, cnn_oof)
    kept = usable(rows)
    cnn_classes = tuple(next(iter(kept)).cnn) if cnn_oof else tuple(screener.classifier.classes)
    without_cnn = cross_validate(kept, (), folds, features=features)

    report: dict[str, Any] = {
        "data": {
            "note": DATA_NOTE,
            "photos": len(rows),
            "people": len({r.subject for r in rows}),
            "rejected_by_quality_gate": dict(Counter(r.rejected for r in rows if r.rejected)),
            "folds": folds,
            "features": list(features),
            "policy": Policy().__dict__,
            "classifier": screener.classifier.info.version,
            "cnn_out_of_fold": str(cnn_oof) if cnn_oof else None,
            "healthy_scale": healthy_scale(kept),
        },
        "without_cnn": summarise(without_cnn, rows) | score_figures(kept, without_cnn),
        "calibration": grader_report(without_cnn, CLASSES),
        "severity_bands": severity_bands(rows),
        "estimated_droop": estimated_droop(rows, folds),
    }
    with_cnn = cross_validate(kept, cnn_classes, folds, features=features)
    report["with_cnn"] = summarise(with_cnn) | score_figures(kept, with_cnn)
    if cnn_oof:
        report["weighing"] = weighing(kept, without_cnn, with_cnn)
    # The CNN trained on most of these people: only its held-out people are a fair comparison
    # (out-of-fold probabilities are fair on everyone).
    held = set() if cnn_oof else _cnn_holdout(screener)
    if held:
        fair = [r for r in kept if r.subject in held]
        without = [o for o in without_cnn if o.row.subject in held]
        report["cnn_held_out_people"] = {
            "people": len({r.subject for r in fair}),
            "without_cnn": summarise(without),
            "with_cnn": summarise([o for o in with_cnn if o.row.subject in held]),
        }
    out.mkdir(parents=True, exist_ok=True)
    (out / "grader_evaluation.json").write_text(json.dumps(no_nan(report), indent=1) + "\n")
    print(headline_table(report))
    if card is not None:
        card.write_text(card_text(report, external_results(london)))
    return report

"""Person-grouped cross-validation of the FAST exam, and `palsy-train evaluate-exam` (the report
JSON and, with `--card`, the exam card): healthy pairs, warped smile failures, the patterns of a
complete failure with raised brows, the same-person check under camera changes, and the
calibration of the exam's confidence, on people neither the exam nor its calibration saw.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from model.decision.confidence import Confidence
from model.decision.exam import decide, shape_distance
from model.labels import NORMAL
from model.measures.asymmetry import MM_PER_IPD
from training.common import calibration_figures, person_folds
from training.common import share as shared
from training.exam.card import card_text
from training.exam.data import STRENGTHS, Person, people
from training.exam.fit import exprs, fit, smile_outcomes


def evaluate(people: Sequence[Person], k: int = 5) -> dict[str, Any]:
    """Person-grouped cross-validation: everything fitted without the held-out people."""
    healthy: list[str | None] = []
    found: dict[float, list[bool]] = {s: [] for s in STRENGTHS}
    told_none: dict[float, list[bool]] = {s: [] for s in STRENGTHS}
    side_right: dict[float, list[bool]] = {s: [] for s in STRENGTHS}
    kept: dict[str, list[bool]] = {}
    refused_other: list[bool] = []
    pattern_checks: dict[str, list[str | None]] = {"stroke_type": [], "bells_type": []}
    no_smile_refused = 0
    confidences: list[Confidence] = []
    truly_weak: list[bool] = []
    for held in person_folds([p.subject for p in people], k, seed=7):
        params = fit([p for p in people if p.subject not in held], "cv")
        test = [p for p in people if p.subject in held]
        assert params.calibration is not None
        for told, p_weak, is_weak in smile_outcomes(params, test):
            confidences.append(params.calibration.confidence(told, p_weak))
            truly_weak.append(is_weak)
        for p in test:
            reason, _, pattern, *_ = decide(
                params, p.rest[0], p.smile[0], None, *exprs(p.rest, p.smile)
            )
            healthy.append(pattern if reason is None else reason.value)
            reason, *_ = decide(params, p.rest[0], p.rest[0], None, p.rest[1], p.rest[1])
            no_smile_refused += reason is not None and reason.value == "no_smile"
            for key, shape in p.shapes.items():
                if key.startswith("smile"):
                    kind = key.partition(":")[2] or "none"
                    ok = shape_distance(p.shapes["rest"], shape, params) <= params.same_person_max
                    kept.setdefault(kind, []).append(ok)
            for (s, weak), m in p.failed_smiles.items():
                reason, _, pattern, side, *_ = decide(
                    params, p.rest[0], m[0], None, *exprs(p.rest, m)
                )
                flagged = reason is None and pattern == "lower_face"
                found[s].append(flagged)
                told_none[s].append(reason is None and pattern == "none")
                if flagged:
                    side_right[s].append(side == weak)
            full = p.failed_smiles.get((1.0, "right")) or p.failed_smiles.get((1.0, "left"))
            if full is not None:
                for kind, want in (("both", "stroke_type"), ("one", "bells_type")):
                    if kind in p.brows:
                        reason, _, pattern, *_ = decide(params, p.rest[0], full[0], p.brows[kind],
                                                        *exprs(p.rest, full))  # fmt: skip
                        pattern_checks[want].append(pattern if reason is None else reason.value)
        others = [q for q in people if q.subject not in held]
        for p in test:
            for q in others[:10]:
                refused_other.append(
                    shape_distance(p.shapes["rest"], q.shapes["smile"], params)
                    > params.same_person_max
                )
    n = len(healthy)

    def share(values: list[bool]) -> float | None:
        return shared(sum(values), len(values))

    return {
        "people": len(people),
        "folds": k,
        "healthy_pairs": {
            "pairs": n,
            "no_signs": share([h == "none" for h in healthy]),
            "unclear": share([h == "unclear" for h in healthy]),
            "finding": share([h == "lower_face" for h in healthy]),
            "asked_to_smile_again": share([h == "no_smile" for h in healthy]),
            "emergencies": sum(h == "lower_face" for h in healthy),
        },
        "identical_smile_refused": round(no_smile_refused / n, 4),
        "same_person_kept": {kind: share(v) for kind, v in kept.items()},
        "same_person_kept_all": share([x for v in kept.values() for x in v]),
        "other_person_refused": share(refused_other),
        "smile_failure": {
            str(s): {
                "photos": len(found[s]),
                "found": share(found[s]),
                "told_no_signs": share(told_none[s]),
                "side_right": share(side_right[s]),
            }
            for s in STRENGTHS
        },
        "patterns_complete_failure": {
            want: {"photos": len(got), "right_pattern": share([g == want for g in got])}
            for want, got in pattern_checks.items()
        },
        "mm_per_ipd": MM_PER_IPD,
        "calibration": exam_report(confidences, truly_weak),
    }


def report_json(report: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "exam_evaluation.json").write_text(json.dumps(report, indent=1) + "\n")


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
        "answer": calibration_figures([c.value for c in conf], right, labels, prior),
    }


def evaluate_command(
    london: Path, out: Path, folds: int, cache: Path, limit: int | None = None,
    card: Path | None = None,
) -> dict[str, Any]:  # fmt: skip
    """`palsy-train evaluate-exam`: person-grouped cross-validation, report JSON and the card."""
    report = evaluate(people(london, True, cache, limit), folds)
    report_json(report, out)
    if card is not None:
        card.write_text(card_text(report))
    return report

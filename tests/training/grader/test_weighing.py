"""The CNN's cross-validation figures and the rule that decides whether the grader weighs it."""

from __future__ import annotations

import numpy as np
import pytest

from training.grader.data import Row
from training.grader.weighing import MIN_FOUND_GAIN, MIN_GAIN, adds, auroc, found_at


def test_auroc_counts_pairs_and_half_counts_ties() -> None:
    rng = np.random.default_rng(0)
    pos = rng.normal(1, 1, 300).round(1).tolist()
    neg = rng.normal(0, 1, 400).round(1).tolist()
    brute = np.mean([(p > n) + 0.5 * (p == n) for p in pos for n in neg])
    assert auroc(pos, neg) == pytest.approx(brute, abs=1e-12)
    assert auroc([1.0], [1.0]) == 0.5 and auroc([], [0.0]) is None


def test_found_at_fixes_the_healthy_rate_from_the_healthy_scores() -> None:
    healthy = [Row(f"h{i}", "p", "london", "neutral", "normal") for i in range(100)]
    ill = [Row(f"x{i}", "p", "synth", "neutral", "mild_mouth") for i in range(10)]
    score = {r.file: i / 100 for i, r in enumerate(healthy)}
    score |= {r.file: 0.995 if i < 4 else 0.5 for i, r in enumerate(ill)}
    assert found_at(healthy + ill, score, 0.975) == 0.4


def _comparison(auc_without: float, auc_with: float, found: tuple[float, float]) -> dict:
    def grader(auc: float, share: float) -> dict:
        groups = {"healthy_london": {"all": auc}, "healthy_copies": {"all": auc}}
        return {"auroc_p_palsy": groups, "found_at_healthy_rate": share}

    return {
        "grader_without_cnn": grader(auc_without, found[0]),
        "grader_with_cnn": grader(auc_with, found[1]),
        "operating_specificity": 0.975,
    }


@pytest.mark.parametrize(
    ("auc_gain", "found_gain", "weighed"),
    [
        (MIN_GAIN, MIN_FOUND_GAIN, True),
        (MIN_GAIN / 2, MIN_FOUND_GAIN, False),  # separates no better
        (0.01, 0.002, False),  # a better curve, but no more palsy found where the screen works
        (-0.01, 0.05, False),
    ],
)
def test_the_cnn_is_weighed_only_when_it_adds_on_both_counts(
    auc_gain: float, found_gain: float, weighed: bool
) -> None:
    yes, sentence = adds(_comparison(0.89, 0.89 + auc_gain, (0.55, 0.55 + found_gain)))
    assert yes is weighed
    assert ("does not add" in sentence) is not weighed and "97.5%" in sentence

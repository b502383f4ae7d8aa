"""The calibration's fitting and measuring, on data whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from model.decision.confidence import Platt, logit
from training import verdict_calibration as vc


def _sample(n: int, scale: float, shift: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Scores whose true P(target) is sigmoid(scale * logit(score) + shift)."""
    rng = np.random.default_rng(seed)
    scores = rng.uniform(0.01, 0.99, n)
    truth = Platt(scale, shift)
    targets = rng.uniform(size=n) < np.array([truth(p) for p in scores])
    return scores, targets


def test_platt_recovers_the_map_that_made_the_data() -> None:
    scores, targets = _sample(20_000, 0.6, -0.8)
    fitted = vc.platt([logit(p) for p in scores], targets, np.ones(len(scores)))
    assert fitted.scale == pytest.approx(0.6, abs=0.05)
    assert fitted.shift == pytest.approx(-0.8, abs=0.08)


def test_platt_without_both_kinds_or_with_a_falling_map_is_the_identity() -> None:
    assert vc.platt([0.1, 0.5], [True, True], [1, 1]) == Platt(1.0, 0.0)
    scores, targets = _sample(2_000, 1.0, 0.0)
    falling = vc.platt([logit(p) for p in scores], ~targets, np.ones(len(scores)))
    assert falling == Platt(1.0, 0.0)  # a map that falls would turn the verdict over


def test_ece_is_small_for_calibrated_and_large_for_overconfident_scores() -> None:
    scores, targets = _sample(20_000, 1.0, 0.0, seed=1)
    calibrated, table = vc.ece(scores, targets)
    assert calibrated < 0.02 and sum(r["weight"] for r in table) == pytest.approx(1, abs=1e-3)
    sharp = np.where(scores > 0.5, 0.99, 0.01)
    overconfident, _ = vc.ece(sharp, targets == (scores > 0.5))
    assert overconfident > 0.1


def test_prior_weights_give_palsy_its_share_and_each_class_the_same() -> None:
    labels = ["normal"] * 30 + ["mild_eye"] * 10 + ["severe_mouth"] * 60
    w = vc.prior_weights(labels, 0.2)
    arr = np.array(labels)
    assert w.mean() == pytest.approx(1.0)
    assert w[arr == "normal"].sum() / w.sum() == pytest.approx(0.8)
    assert w[arr == "mild_eye"].sum() == pytest.approx(w[arr == "severe_mouth"].sum())


def test_exam_calibration_puts_the_even_bet_between_the_thresholds() -> None:
    rng = np.random.default_rng(2)
    weak = rng.uniform(size=600) < 0.5
    p = np.clip(np.where(weak, rng.beta(5, 2, 600), rng.beta(2, 5, 600)), 0.01, 0.99)
    cal = vc.fit_exam(p, weak, 0.7, 0.95)
    cal.check(0.7, 0.95, "test")
    assert cal.p_weak(0.7) < 0.5 < cal.p_weak(0.95)
    assert cal.confidence("none", 0.2).about == "no_signs"
    assert cal.confidence("stroke_type", 0.99).about == "signs"

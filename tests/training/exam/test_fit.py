"""The exam's calibration (training/exam/fit.py), on data whose answer is known."""

from __future__ import annotations

import numpy as np

from training.exam.fit import fit_calibration


def test_exam_calibration_puts_the_even_bet_between_the_thresholds() -> None:
    rng = np.random.default_rng(2)
    weak = rng.uniform(size=600) < 0.5
    p = np.clip(np.where(weak, rng.beta(5, 2, 600), rng.beta(2, 5, 600)), 0.01, 0.99)
    cal = fit_calibration(p, weak, 0.7, 0.95)
    cal.check(0.7, 0.95, "test")
    assert cal.p_weak(0.7) < 0.5 < cal.p_weak(0.95)
    assert cal.confidence("none", 0.2).about == "no_signs"
    assert cal.confidence("stroke_type", 0.99).about == "signs"

"""Behaviour of the shipped classifier on the London people it never trained on.

Directional: a one-sided eye or mouth palsy warp (the synthetic generator's severe mid-range, no
other randomisation) raises the probability of that region. Invariance: mirroring the photo or
changing its brightness by 10 % barely moves the region probabilities. The held-out people come
from the model's own metadata (`validation_subjects`), so a retrained model is checked on its own
held-out set. "Most" means at least 3 in 4 (person, side) pairs, and the median rise must be at
least MIN_RISE: a flat model (the first shipped one, calibrated to T = 1000) moves by ~1e-4.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageEnhance

from model.pipeline import Screener
from tests.support.palsy_photos import Source, source, with_palsy

pytestmark = pytest.mark.data
MOST = 0.75
MIN_RISE = 0.05  # of probability, median over held-out people
SEVERE = {  # region -> (class, sizes in IPD)
    "eye": ("severe_eye", {"lid_drop": 0.055, "brow_drop": 0.09}),
    "mouth": ("severe_mouth", {"corner_drop": 0.17, "flatten": 0.8}),
}


@pytest.fixture(scope="module")
def screener() -> Screener:
    return Screener(shadow_cnn=True)  # the CNN has no weight in the shipped grader


@pytest.fixture(scope="module")
def held_out(screener: Screener, london_dir: Path) -> list[Source]:
    people = screener.classifier.contract.validation_subjects or ()
    if len(people) < 8:
        pytest.skip("the shipped model does not name enough held-out people")
    return [source(london_dir / "neutral" / f"{person}_03.jpg") for person in people]


def _regions(screener: Screener, rgb: np.ndarray) -> dict[str, float]:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=92)
    result = screener.screen(buf.getvalue())
    assert result.cnn_probabilities, result.reason
    probs = dict(result.cnn_probabilities)  # the CNN's own, not the grader's
    return {
        r: sum(p for c, p in probs.items() if c.endswith(r)) for r in ("eye", "mouth", "normal")
    }


@pytest.fixture(scope="module")
def baseline(screener: Screener, held_out: list[Source]) -> list[dict[str, float]]:
    return [_regions(screener, s.rgb) for s in held_out]


# 2026.11-synthetic-2 learned the old warp and barely responded here (eye median +0.02, mouth
# +0.01 of P(region)); 2026.12-mirror-1, trained on the corrected warp, passes.
@pytest.mark.parametrize("region", ["eye", "mouth"])
def test_a_one_sided_warp_raises_that_region(
    region: str, screener: Screener, held_out: list[Source], baseline: list[dict]
) -> None:
    rises = []
    label, params = SEVERE[region]
    for i, (original, before) in enumerate(zip(held_out, baseline, strict=True)):
        warped = with_palsy(original, label, i % 2, params, seed=i)  # both sides
        rises.append(_regions(screener, warped)[region] - before[region])
    assert np.mean(np.array(rises) > 0) >= MOST, rises
    assert np.median(rises) >= MIN_RISE, rises


def test_mirror_and_brightness_barely_move_the_regions(
    screener: Screener, held_out: list[Source], baseline: list[dict]
) -> None:
    shifts = []
    for original, before in zip(held_out, baseline, strict=True):
        brighter = ImageEnhance.Brightness(Image.fromarray(original.rgb)).enhance(1.1)
        for changed in (original.rgb[:, ::-1].copy(), np.asarray(brighter)):
            after = _regions(screener, changed)
            shifts += [abs(after[r] - before[r]) for r in before]
    # A severe one-sided eye warp moves P(eye) by about 0.2 on these people.
    assert np.median(shifts) < 0.05, sorted(shifts)[-5:]

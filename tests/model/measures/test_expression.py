"""Expression scores per side (model/measures/expression.py), through the real ONNX models.

Parity: the converted blendshape model against the TFLite original's stored outputs
(`python tools/convert_face_models.py --reference ...` wrote them). Sides: a one-sided brow droop
moves that side's scores, and a mirrored photo swaps the sides. Face images: DeBruine & Jones
(2017), Face Research Lab London Set, CC BY 4.0 (warped on the fly).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from model.face.locate import FaceLocator
from model.measures.expression import NAMES, PAIRED, SUBSET, Expression, ExpressionModel
from tests.support.palsy_photos import source, with_palsy

REFERENCE = Path(__file__).resolve().parents[2] / "support" / "data" / "blendshapes_reference.json"


@pytest.fixture(scope="module")
def model() -> ExpressionModel:
    return ExpressionModel()


def test_onnx_matches_mediapipes_own_model(model: ExpressionModel) -> None:
    cases = json.loads(REFERENCE.read_text())["cases"]
    assert len(cases) >= 3
    for case in cases:
        mesh = np.zeros((478, 2), np.float32)
        mesh[list(SUBSET)] = np.array(case["points"], np.float32)
        got = np.array([model.scores(mesh)[name] for name in NAMES])
        np.testing.assert_allclose(got, case["tflite"], atol=1e-4, err_msg=case["photo"])


def test_pairs_are_read_by_the_subjects_side() -> None:
    scores = {name: 0.0 for name in NAMES} | {"mouthSmileLeft": 0.7, "mouthSmileRight": 0.2}
    expression = Expression.from_scores(scores)
    assert expression.left["mouthSmile"] == 0.7 and expression.right["mouthSmile"] == 0.2
    assert expression.differences()["expr_mouthSmile"] == pytest.approx(0.5)
    assert set(expression.to_dict()) == {
        f"expr_{side}_{name}" for side in ("left", "right") for name in PAIRED
    }


def test_a_drooping_brow_lowers_its_own_sides_score_and_a_mirror_swaps_them(
    model: ExpressionModel, london_neutral: list[Path]
) -> None:
    locator = FaceLocator()
    lowered, swapped = [], []
    for k, photo in enumerate(london_neutral[:6]):
        original = source(photo)
        image_side = k % 2  # image-left is the subject's right
        params = {"lid_drop": 0.045, "brow_drop": 0.09}
        warped = with_palsy(original, "severe_eye", image_side, params, seed=k)
        before = model.expression(locator.locate(original.rgb).mesh)
        after = model.expression(locator.locate(warped).mesh)
        weak, strong = ("right", "left") if image_side == 0 else ("left", "right")
        drop = getattr(before, weak)["browOuterUp"] - getattr(after, weak)["browOuterUp"]
        other = getattr(before, strong)["browOuterUp"] - getattr(after, strong)["browOuterUp"]
        lowered.append(drop > other)
        # The mesh refits a mirrored photo, so scores shift; the weaker side must swap.
        mirrored = model.expression(locator.locate(np.ascontiguousarray(warped[:, ::-1])).mesh)
        plain_gap = after.differences()["expr_browOuterUp"]
        mirror_gap = mirrored.differences()["expr_browOuterUp"]
        swapped.append(plain_gap * mirror_gap < 0)
    assert sum(lowered) >= 5, lowered
    assert sum(swapped) >= 5, swapped

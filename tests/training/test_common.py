"""training/common.py: the helpers the three pipelines share, on data whose answer is known.

Person folds keep a person on one side; the cache key follows every file of model/ that could
shape a row; Newton's multinomial logistic regression finds the weights that made its data; the
calibration's Platt map, ECE and prior weights.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from model.decision.confidence import Platt, logit
from training import common


def test_folds_keep_each_person_on_one_side() -> None:
    people = [f"{i:03d}" for i in range(17)]
    folds = common.person_folds(people * 3, k=5, seed=1)
    assert sorted(p for fold in folds for p in fold) == sorted(people)
    assert all(not (a & b) for i, a in enumerate(folds) for b in folds[i + 1 :])


def test_multinomial_logistic_recovers_the_weights_that_made_the_data() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(6000, 2))
    truth = np.array([[0.0, 0.0, 0.0], [1.5, -1.0, 0.5], [-1.0, 2.0, -0.5]])  # [C, F + 1]
    z = np.hstack([x, np.ones((len(x), 1))]) @ truth.T
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    labels = np.array([rng.choice(3, p=row) for row in p])
    theta = common.multinomial_logistic(x, np.eye(3)[labels], np.ones(len(x)), l2=1e-6)
    # Softmax weights are fixed only up to a shift shared by the classes: compare differences.
    np.testing.assert_allclose(theta[1:] - theta[0], truth[1:] - truth[0], atol=0.15)


@pytest.fixture()
def model_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "model"
    shutil.copytree(
        common.MODEL_DIR, copy, ignore=shutil.ignore_patterns("__pycache__", "classifier*")
    )
    return copy


@pytest.mark.parametrize("name", ["face/quality.py", "measures/asymmetry.py", "pipeline.py"])
def test_changing_any_model_module_changes_the_key(model_copy: Path, name: str) -> None:
    before = common.model_digest(model_copy).hexdigest()
    path = model_copy / name
    path.write_text(path.read_text() + "\n# changed\n")
    assert common.model_digest(model_copy).hexdigest() != before


def test_the_key_is_stable_and_follows_the_face_models(model_copy: Path) -> None:
    assert (
        common.model_digest(model_copy).hexdigest() == common.model_digest(model_copy).hexdigest()
    )
    before = common.model_digest(model_copy).hexdigest()
    (model_copy / "assets" / "face_landmarks_478.onnx").write_bytes(b"another mesh")
    assert common.model_digest(model_copy).hexdigest() != before


def _sample(n: int, scale: float, shift: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Scores whose true P(target) is sigmoid(scale * logit(score) + shift)."""
    rng = np.random.default_rng(seed)
    scores = rng.uniform(0.01, 0.99, n)
    truth = Platt(scale, shift)
    targets = rng.uniform(size=n) < np.array([truth(p) for p in scores])
    return scores, targets


def test_platt_recovers_the_map_that_made_the_data() -> None:
    scores, targets = _sample(20_000, 0.6, -0.8)
    fitted = common.platt([logit(p) for p in scores], targets, np.ones(len(scores)))
    assert fitted.scale == pytest.approx(0.6, abs=0.05)
    assert fitted.shift == pytest.approx(-0.8, abs=0.08)


def test_platt_without_both_kinds_or_with_a_falling_map_is_the_identity() -> None:
    assert common.platt([0.1, 0.5], [True, True], [1, 1]) == Platt(1.0, 0.0)
    scores, targets = _sample(2_000, 1.0, 0.0)
    falling = common.platt([logit(p) for p in scores], ~targets, np.ones(len(scores)))
    assert falling == Platt(1.0, 0.0)  # a map that falls would turn the verdict over


def test_ece_is_small_for_calibrated_and_large_for_overconfident_scores() -> None:
    scores, targets = _sample(20_000, 1.0, 0.0, seed=1)
    calibrated, table = common.ece(scores, targets)
    assert calibrated < 0.02 and sum(r["weight"] for r in table) == pytest.approx(1, abs=1e-3)
    sharp = np.where(scores > 0.5, 0.99, 0.01)
    overconfident, _ = common.ece(sharp, targets == (scores > 0.5))
    assert overconfident > 0.1


def test_prior_weights_give_palsy_its_share_and_each_class_the_same() -> None:
    labels = ["normal"] * 30 + ["mild_eye"] * 10 + ["severe_mouth"] * 60
    w = common.prior_weights(labels, 0.2)
    arr = np.array(labels)
    assert w.mean() == pytest.approx(1.0)
    assert w[arr == "normal"].sum() / w.sum() == pytest.approx(0.8)
    assert w[arr == "mild_eye"].sum() == pytest.approx(w[arr == "severe_mouth"].sum())

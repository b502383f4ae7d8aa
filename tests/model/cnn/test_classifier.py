"""Classifier: contract checks with clear errors, metadata -> ModelInfo, softmax, threads."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import onnx
import pytest

from model.cnn.classifier import Classifier, ContractError, ModelMissingError
from model.labels import NORMAL, PAPER_CLASSES
from tests.support.onnx_fixtures import build_tiny_classifier

ALL = (*PAPER_CLASSES, NORMAL)


def _batch(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 255, (n, 224, 224, 3)).astype(np.float32)


def test_loads_a_contract_model(tmp_path: Path) -> None:
    path = build_tiny_classifier(tmp_path / "m.onnx", version="1.2.3")
    clf = Classifier(path)
    assert clf.classes == ALL
    assert clf.info.version == "1.2.3"
    assert clf.info.name == "tiny-test-classifier"
    assert clf.info.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert clf.info.clinically_validated is False


def test_input_spec_round_trips_and_defaults_to_the_paper(tmp_path: Path) -> None:
    """A model without `input` (every model before issue 21) wants the pupil-levelled crop."""
    midline = Classifier(build_tiny_classifier(tmp_path / "a.onnx", align="midline"))
    assert (midline.contract.align, midline.contract.mirror) == ("midline", "none")
    path = build_tiny_classifier(tmp_path / "b.onnx")
    model = onnx.load(path)
    _set_meta("input", None)(model)
    onnx.save(model, path)
    assert (Classifier(path).contract.align, Classifier(path).contract.mirror) == ("eyes", "none")


@pytest.mark.parametrize(
    ("value", "validated"),
    [("none", False), ("None", False), ("", False), ("prospective study, n=412, 2027", True)],
)
def test_clinical_validation_flag(tmp_path: Path, value: str, validated: bool) -> None:
    path = build_tiny_classifier(tmp_path / "m.onnx", clinical_validation=value)
    assert Classifier(path).info.clinically_validated is validated


def test_softmax_probabilities_follow_the_logits(tmp_path: Path) -> None:
    clf = Classifier(build_tiny_classifier(tmp_path / "m.onnx", bias={"moderate_eye": 4.0}))
    probs = clf.predict(_batch(3))
    assert probs.shape == (3, len(ALL)) and probs.dtype == np.float32
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert np.all(probs.argmax(axis=1) == ALL.index("moderate_eye"))
    assert np.all(probs > 0)


def test_uint8_batch_gives_the_same_result(tmp_path: Path) -> None:
    clf = Classifier(build_tiny_classifier(tmp_path / "m.onnx"))
    batch = _batch(2).round()
    assert np.allclose(clf.predict(batch), clf.predict(batch.astype(np.uint8)))


def test_wrong_batch_shape_is_a_value_error(tmp_path: Path) -> None:
    clf = Classifier(build_tiny_classifier(tmp_path / "m.onnx"))
    with pytest.raises(ValueError, match="224, 224, 3"):
        clf.predict(np.zeros((1, 3, 224, 224), np.float32))


def test_one_session_shared_by_threads(tmp_path: Path) -> None:
    clf = Classifier(build_tiny_classifier(tmp_path / "m.onnx"))
    batches = [_batch(1, seed) for seed in range(8)]
    serial = [clf.predict(b) for b in batches]
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(clf.predict, batches))
    for a, b in zip(serial, parallel, strict=True):
        assert np.array_equal(a, b)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelMissingError, match="not found"):
        Classifier(tmp_path / "absent.onnx")


def test_not_onnx(tmp_path: Path) -> None:
    path = tmp_path / "junk.onnx"
    path.write_bytes(b"not a model")
    with pytest.raises(ContractError, match="not a loadable ONNX model"):
        Classifier(path)


def _set_meta(key: str, value: str | None) -> Callable[[onnx.ModelProto], None]:
    def mutate(model: onnx.ModelProto) -> None:
        props = {p.key: p.value for p in model.metadata_props}
        if value is None:
            props.pop(key)
        else:
            props[key] = value
        del model.metadata_props[:]
        onnx.helper.set_model_props(model, props)

    return mutate


def _wrong_size(model: onnx.ModelProto) -> None:
    dims = model.graph.input[0].type.tensor_type.shape.dim
    dims[1].dim_value = dims[2].dim_value = 256


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (_set_meta("classes", None), "'classes' is missing"),
        (_set_meta("classes", "mild_eye, normal"), "not JSON"),
        (_set_meta("classes", json.dumps({"a": 1})), "JSON list of strings"),
        (_set_meta("classes", json.dumps([*PAPER_CLASSES, "sleepy_eye"])), "unknown class"),
        (_set_meta("classes", json.dumps(list(PAPER_CLASSES))), "7 logits but 6 class names"),
        (_set_meta("classes", json.dumps(["normal"] * 7)), "distinct"),
        (_wrong_size, r"\[N, 224, 224, 3\]"),
        (_set_meta("input", json.dumps({"align": "nose"})), "align in"),
        (_set_meta("input", json.dumps({"align": "eyes", "mirror": "rotate"})), "mirror in"),
        (_set_meta("input", json.dumps({"align": "eyes", "zoom": 2})), "align, mirror"),
    ],
    ids=[
        "no-classes",
        "not-json",
        "not-list",
        "bad-name",
        "count",
        "duplicates",
        "size",
        "align",
        "mirror",
        "input-key",
    ],
)
def test_contract_violations_are_named(
    tmp_path: Path, mutate: Callable[[onnx.ModelProto], None], message: str
) -> None:
    path = build_tiny_classifier(tmp_path / "m.onnx")
    model = onnx.load(path)
    mutate(model)
    onnx.save(model, path)
    with pytest.raises(ContractError, match=message):
        Classifier(path)

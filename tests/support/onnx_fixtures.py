"""Tiny ONNX classifiers that follow the classifier contract, built with onnx.helper.

For tests only: they are untrained and say so in their metadata. The contract (see
docs/ARCHITECTURE.md): one float32 input [N, 224, 224, 3] of RGB 0-255, one output of logits
[N, C], metadata `classes` (JSON list in output order), `version`, `clinical_validation`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from model.cnn.contract import ClassifierMetadata
from model.labels import NORMAL, PAPER_CLASSES

if TYPE_CHECKING:
    from model.pipeline import Screener

# ONNX Runtime 1.32 runs this opset; ReduceMean still takes `axes` as an attribute here.
OPSET = 17
IR_VERSION = 8
INPUT_NAME = "image"
OUTPUT_NAME = "logits"
SIZE = 224


def _bias_vector(classes: Sequence[str], bias: Sequence[float] | Mapping[str, float] | None):
    if bias is None:
        return np.zeros(len(classes), np.float32)
    if isinstance(bias, Mapping):
        unknown = set(bias) - set(classes)
        if unknown:
            raise ValueError(f"bias names unknown classes: {sorted(unknown)}")
        return np.array([bias.get(c, 0.0) for c in classes], np.float32)
    vec = np.asarray(bias, np.float32)
    if vec.shape != (len(classes),):
        raise ValueError(f"bias needs {len(classes)} values, got shape {vec.shape}")
    return vec


def build_tiny_classifier(
    path: Path | str,
    classes: Sequence[str] = (*PAPER_CLASSES, NORMAL),
    bias: Sequence[float] | Mapping[str, float] | None = None,
    version: str = "test",
    clinical_validation: str = "none",
    align: str = "eyes",
) -> Path:
    """Write a contract-following classifier to `path` and return it (`align`: the crop its
    contract asks for).

    Graph: x/255 -> mean over H, W -> [N, 3] @ W [3, C] + bias [C]. W is small and fixed
    (|W| <= 0.1, so inputs move a logit by at most 0.3): a bias gap of 1 or more decides the top
    class, e.g. `bias={"severe_mouth": 5.0}` forces `severe_mouth` on any image.
    """
    classes = tuple(classes)
    n_cls = len(classes)
    weight = np.random.default_rng(0).uniform(-0.1, 0.1, size=(3, n_cls)).astype(np.float32)
    nodes = [
        helper.make_node("Mul", [INPUT_NAME, "inv255"], ["scaled"]),
        helper.make_node("ReduceMean", ["scaled"], ["pooled"], axes=[1, 2], keepdims=0),
        helper.make_node("MatMul", ["pooled", "W"], ["mm"]),
        helper.make_node("Add", ["mm", "b"], [OUTPUT_NAME]),
    ]
    inits = [
        numpy_helper.from_array(np.array(1.0 / 255.0, np.float32), "inv255"),
        numpy_helper.from_array(weight, "W"),
        numpy_helper.from_array(_bias_vector(classes, bias), "b"),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_contract_classifier",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["N", SIZE, SIZE, 3])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["N", n_cls])],
        initializer=inits,
    )
    return _save(graph, path, classes, version, clinical_validation, "tiny-test-classifier", align)


def build_paper_shaped_classifier(
    path: Path | str,
    classes: Sequence[str] = (*PAPER_CLASSES, NORMAL),
    seed: int = 0,
) -> Path:
    """The paper's CNN shape with random weights, for benchmarks only (never a screening model).

    x/255 -> 4 x [Conv 3x3 'same' + ReLU, MaxPool 2] (16, 32, 64, 128 filters) -> Flatten ->
    Dense 256 ReLU -> Dense C: 6.5 M parameters, like training/cnn/network.py, in NHWC like
    Keras' export.
    """
    rng = np.random.default_rng(seed)
    classes = tuple(classes)
    inits = [numpy_helper.from_array(np.array(1.0 / 255.0, np.float32), "inv255")]
    nodes = [
        helper.make_node("Mul", [INPUT_NAME, "inv255"], ["scaled"]),
        helper.make_node("Transpose", ["scaled"], ["x0"], perm=[0, 3, 1, 2]),
    ]
    channels, side = 3, SIZE
    for i, filters in enumerate((16, 32, 64, 128)):
        fan_in = channels * 9
        w = rng.normal(0, (2 / fan_in) ** 0.5, (filters, channels, 3, 3)).astype(np.float32)
        inits += [
            numpy_helper.from_array(w, f"conv{i}_w"),
            numpy_helper.from_array(np.zeros(filters, np.float32), f"conv{i}_b"),
        ]
        nodes += [
            helper.make_node(
                "Conv", [f"x{i}", f"conv{i}_w", f"conv{i}_b"], [f"c{i}"], pads=[1, 1, 1, 1]
            ),
            helper.make_node("Relu", [f"c{i}"], [f"r{i}"]),
            helper.make_node(
                "MaxPool", [f"r{i}"], [f"x{i + 1}"], kernel_shape=[2, 2], strides=[2, 2]
            ),
        ]
        channels, side = filters, side // 2
    flat = channels * side * side
    for name, shape in (("fc1", (flat, 256)), ("fc2", (256, len(classes)))):
        w = rng.normal(0, (2 / shape[0]) ** 0.5, shape).astype(np.float32)
        inits += [
            numpy_helper.from_array(w, f"{name}_w"),
            numpy_helper.from_array(np.zeros(shape[1], np.float32), f"{name}_b"),
        ]
    nodes += [
        helper.make_node("Transpose", ["x4"], ["nhwc"], perm=[0, 2, 3, 1]),  # Keras flattens NHWC
        helper.make_node("Flatten", ["nhwc"], ["flat"], axis=1),
        helper.make_node("Gemm", ["flat", "fc1_w", "fc1_b"], ["h"]),
        helper.make_node("Relu", ["h"], ["hr"]),
        helper.make_node("Gemm", ["hr", "fc2_w", "fc2_b"], [OUTPUT_NAME]),
    ]
    graph = helper.make_graph(
        nodes,
        "paper_shaped_random_classifier",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["N", SIZE, SIZE, 3])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["N", len(classes)])],
        initializer=inits,
    )
    return _save(graph, path, classes, "bench", "none", "paper-shaped-random-weights")


def _save(
    graph: onnx.GraphProto,
    path: Path | str,
    classes: Sequence[str],
    version: str,
    clinical_validation: str,
    name: str,
    align: str = "eyes",
) -> Path:
    path = Path(path)
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="tests.support.onnx_fixtures",
    )
    model.ir_version = IR_VERSION
    metadata = ClassifierMetadata(
        classes=tuple(classes),
        name=name,
        version=version,
        clinical_validation=clinical_validation,
        description="untrained test fixture; not a screening model",
        align=align,
    )
    helper.set_model_props(model, metadata.to_props())
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, path)
    return path


def build_passthrough_grader(
    path: Path | str,
    classes: Sequence[str] = (*PAPER_CLASSES, NORMAL),
    clear_below: float = 0.5,
    finding_at: float = 0.9,
) -> Path:
    """Write grader parameters that give the CNN all the weight, and return the path.

    Weight 1 on each class's CNN log-probability and 0 on every measure: softmax(log p) = p, so
    the grader's probabilities are the classifier's. With a tiny classifier's `bias` a test
    then chooses the finding: a bias of 6 on a palsy class gives P(palsy) > 0.99 (a finding), on
    `normal` P(palsy) < 0.02 (no signs); no bias gives P(palsy) = 6/7 (unclear).
    """
    from model.decision.confidence import GraderCalibration
    from model.decision.grader import GraderParams
    from model.measures.asymmetry import FEATURES

    classes = tuple(classes)
    nf = len(FEATURES)
    params = GraderParams(
        version="test-passthrough",
        classes=classes,
        features=tuple(FEATURES),
        healthy_scale=dict.fromkeys(FEATURES, 1.0),
        cnn_classes=classes,
        weights=[
            [0.0] * nf + [float(i == j) for j in range(len(classes))] for i in range(len(classes))
        ],
        bias=[0.0] * len(classes),
        clear_below=clear_below,
        finding_at=finding_at,
        fitted={"data": "none: a test fixture that passes the CNN's probabilities through"},
        calibration=GraderCalibration.uncalibrated(clear_below, finding_at),
    )
    path = Path(path)
    path.write_text(params.to_json())
    return path


def passthrough_screener(classifier: Path) -> Screener:
    """A real Screener whose grader passes `classifier`'s probabilities through (see above)."""
    from model.pipeline import Screener

    grader = build_passthrough_grader(Path(classifier).with_suffix(".grader.json"))
    return Screener(classifier, grader_path=grader)

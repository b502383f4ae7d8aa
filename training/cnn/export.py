"""Keras run -> ONNX classifier that follows the classifier contract, with a parity check.

tf2onnx `from_function` with an explicit input signature (`from_keras` breaks on Keras 3, tf2onnx
issue #2448), opset 17, dynamic batch. Metadata: `classes`, `version`, `description`,
`clinical_validation`, `metrics`, `name`. The export fails unless the largest |logit difference|
between Keras and ONNX Runtime over the validation images is <= `PARITY_TOLERANCE`.
Optional int8 variant: dynamic quantisation of the MatMul ops only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from model import Classifier, ClassifierMetadata
from training.cnn import network
from training.cnn.fit import predict_logits
from training.cnn.run import EXPORT, Export, Int8Export, Report, Run, record, write_record

OPSET = 17
PARITY_TOLERANCE = 1e-4
INPUT_NAME = "image"


class ParityError(RuntimeError):
    """Keras and ONNX Runtime disagree by more than the tolerance."""


@dataclass
class ExportResult:
    path: Path
    max_abs_logit_diff: float
    n_checked: int
    int8_path: Path | None = None
    int8: dict[str, Any] | None = None


def set_metadata(model: Any, metadata: dict[str, str]) -> None:
    """Replace an ONNX ModelProto's metadata_props with `metadata`."""
    del model.metadata_props[:]
    for key, value in metadata.items():
        model.metadata_props.add(key=key, value=value)


def to_onnx(model: Any, path: Path, metadata: dict[str, str]) -> Path:
    import tensorflow as tf
    import tf2onnx

    size = int(model.input_shape[1])
    spec = (tf.TensorSpec([None, size, size, 3], tf.float32, name=INPUT_NAME),)

    @tf.function(input_signature=spec)
    def serve(image: Any) -> Any:
        return {"logits": model(image, training=False)}

    proto, _ = tf2onnx.convert.from_function(serve, input_signature=spec, opset=OPSET)
    # tf2onnx names the dynamic batch dimension "unk__NN"; call it N on both ends.
    for value in (*proto.graph.input, *proto.graph.output):
        value.type.tensor_type.shape.dim[0].dim_param = "N"
    set_metadata(proto, metadata)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(proto.SerializeToString())
    return path


def ort_logits(path: Path, images: np.ndarray, batch: int = 64, threads: int = 2) -> np.ndarray:
    """The logits of an ONNX classifier, opened as serving opens it (`model.Classifier`, which
    also holds the file to the contract)."""
    clf = Classifier(path, threads)
    out = [
        clf.session.run(None, {clf.input_name: np.asarray(images[i : i + batch], np.float32)})[0]
        for i in range(0, len(images), batch)
    ]
    return np.concatenate(out)


def quantize_int8(src: Path, dst: Path) -> Path:
    """Dynamic int8 quantisation of MatMul weights only (the Dense layers hold 98% of them)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(src, dst, op_types_to_quantize=["MatMul"], weight_type=QuantType.QInt8)
    # quantize_dynamic keeps metadata_props in current releases; make sure, and mark the variant.
    original = ClassifierMetadata.from_props(
        {p.key: p.value for p in onnx.load(str(src)).metadata_props}, str(src)
    )
    model = onnx.load(str(dst))
    set_metadata(model, original.with_(version=original.version + "+int8").to_props())
    onnx.save(model, str(dst))
    return dst


def export(
    model: Any,
    images: np.ndarray,
    path: Path,
    metadata: dict[str, str],
    int8_path: Path | None = None,
    labels: np.ndarray | None = None,
) -> ExportResult:
    """Write the ONNX file, check parity on `images` (raises `ParityError`), optionally int8."""
    to_onnx(model, path, metadata)
    keras_logits = predict_logits(model, images)
    onnx_logits = ort_logits(path, images)
    diff = float(np.abs(keras_logits - onnx_logits).max()) if len(images) else 0.0
    if not diff <= PARITY_TOLERANCE:
        path.unlink(missing_ok=True)
        raise ParityError(f"max |logit(Keras) - logit(ONNX)| = {diff:.3g} > {PARITY_TOLERANCE}")
    result = ExportResult(path, diff, len(images))
    if int8_path is not None:
        quantize_int8(path, int8_path)
        q_logits = ort_logits(int8_path, images)
        agree = float((q_logits.argmax(1) == onnx_logits.argmax(1)).mean()) if len(images) else 1.0
        result.int8_path = int8_path
        result.int8 = {
            "bytes": int8_path.stat().st_size,
            "f32_bytes": path.stat().st_size,
            "top1_agreement_with_f32": agree,
            "max_abs_logit_diff_vs_f32": float(np.abs(q_logits - onnx_logits).max()),
        }
        if labels is not None and len(labels):
            result.int8["accuracy"] = float((q_logits.argmax(1) == labels).mean())
    return result


def metadata_for(
    classes: list[str], version: str, description: str, metrics: dict[str, Any],
    clinical_validation: str = "none", name: str = "palsy-cnn",
    validation_subjects: list[str] | None = None, align: str = "eyes", mirror: str = "none",
) -> dict[str, str]:  # fmt: skip
    """The ONNX metadata_props (model.cnn.contract). `validation_subjects`: the people the model
    never trained on, so behavioural checks can use exactly those (only when the data names its
    people)."""
    return ClassifierMetadata(
        classes=tuple(classes),
        name=name,
        version=version,
        description=description,
        clinical_validation=clinical_validation,
        metrics=metrics,
        validation_subjects=None if validation_subjects is None else tuple(validation_subjects),
        align=align,
        mirror=mirror,
    ).to_props()


COARSE = ("region_accuracy", "sensitivity", "specificity")


def headline(report: Report) -> dict[str, Any]:
    """The run's figures that travel in the ONNX metadata (`metrics`)."""
    val, split = report.validation, report.split
    coarse = {k: getattr(val, k) for k in COARSE}
    return {
        "split": split.used,
        "validation_images": val.n,
        "accuracy": round(val.accuracy, 4),
        "macro_f1": round(val.macro_f1, 4),
        "loss": round(val.loss, 4),
        "ece": round(val.ece, 4),
        **{k: round(v, 4) for k, v in coarse.items() if v is not None},
        "epochs": report.epochs_run,
        "paper_split_val_with_near_duplicate_in_train": split.paper.near_duplicate_in_train,
    }


def export_run(
    path: Path, out: Path, int8: Path | None = None, version: str | None = None,
    description: str = "", clinical_validation: str = "none",
) -> Export:  # fmt: skip
    """`palsy-train export`: the run's final model to ONNX, parity-checked on its validation
    images (raises `ParityError`); writes and returns the run's export.json."""
    run = Run.load(path)
    data, val = run.data(), run.split.validation
    model = network.load(run.model_path)
    conf = run.report.config
    meta = metadata_for(
        data.listing.class_names, version or run.name, description, headline(run.report),
        clinical_validation, validation_subjects=run.held_out(data.subjects),
        align=conf.align, mirror=conf.mirror,
    )  # fmt: skip
    res = export(model, data.prepared.images[val], out, meta, int8, data.listing.labels[val])
    summary = Export(
        onnx=res.path,
        bytes=res.path.stat().st_size,
        parity_max_abs_logit_diff=res.max_abs_logit_diff,
        parity_images=res.n_checked,
        int8=None if res.int8 is None else record(Int8Export, res.int8),
        metadata=meta,
    )
    write_record(path / EXPORT, summary)
    return summary

"""The palsy classifier: any ONNX model that follows the classifier contract.

Contract (shared with training; keys documented in docs/ARCHITECTURE.md):
- one float32 input [N, 224, 224, 3], RGB 0-255 (the model rescales internally);
- one output, logits [N, C];
- metadata `classes`: JSON list of C class names in output order (see model.labels);
  optional `name`, `version`, `clinical_validation`, `description`, `metrics`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from model.labels import parse_label
from model.onnx_session import make_session
from model.result import ModelInfo
from model.softmax import softmax

# The int8 export by default: the shipped grader gives the CNN no weight (its output is only
# logged), and int8 runs ~1.5 ms faster per photo, loads faster and keeps ~40 MB less resident;
# it agrees with float32 on 99.3 % of validation images (MODEL_CARD.md). classifier.onnx, the
# float32 original, stays beside it for PALSY_MODEL_PATH / --model.
DEFAULT_CLASSIFIER = Path(__file__).resolve().parent / "assets" / "classifier.int8.onnx"
INPUT_SIZE = 224
# `clinical_validation` values that mean "not validated on real patients". Anything else is taken
# as a description of a validation study, so a missing or empty key counts as unvalidated.
NOT_VALIDATED = frozenset({"", "none", "no", "false", "unvalidated", "not validated"})


class ModelMissingError(FileNotFoundError):
    """The classifier file does not exist."""


class ContractError(ValueError):
    """The ONNX file does not follow the classifier contract."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _static(dim: object) -> int | None:
    return dim if isinstance(dim, int) and dim > 0 else None


class Classifier:
    """One ONNX Runtime session, shared by all threads (`InferenceSession.run` is thread-safe)."""

    def __init__(self, path: Path | str | None = None, threads: int = 1) -> None:
        self.path = Path(path) if path is not None else DEFAULT_CLASSIFIER
        if not self.path.is_file():
            raise ModelMissingError(
                f"classifier model not found: {self.path} (the default ships as "
                f"model/assets/{DEFAULT_CLASSIFIER.name}; use --model PATH for another)"
            )
        try:
            self.session = make_session(self.path, threads)
        except Exception as exc:  # ONNX Runtime raises its own types for unreadable files
            raise ContractError(f"{self.path}: not a loadable ONNX model: {exc}") from None
        self.metadata: dict[str, str] = dict(self.session.get_modelmeta().custom_metadata_map)
        self.classes: tuple[str, ...] = self._check_contract()
        self.input_name: str = self.session.get_inputs()[0].name
        validation = self.metadata.get("clinical_validation", "").strip()
        self.info = ModelInfo(
            name=self.metadata.get("name") or self.path.stem,
            version=self.metadata.get("version", "unknown"),
            sha256=sha256_of(self.path),
            clinically_validated=validation.lower() not in NOT_VALIDATED,
        )

    def _check_contract(self) -> tuple[str, ...]:
        where = f"{self.path}: classifier contract:"
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        if len(inputs) != 1 or len(outputs) != 1:
            raise ContractError(
                f"{where} needs one input and one output, has {len(inputs)} and {len(outputs)}"
            )
        inp, out = inputs[0], outputs[0]
        if inp.type != "tensor(float)":
            raise ContractError(f"{where} input must be float32, is {inp.type}")
        want = [INPUT_SIZE, INPUT_SIZE, 3]
        if len(inp.shape) != 4 or [_static(d) for d in inp.shape[1:]] != want:
            raise ContractError(f"{where} input must be [N, 224, 224, 3], is {inp.shape}")
        if out.type != "tensor(float)" or len(out.shape) != 2:
            raise ContractError(f"{where} output must be float32 logits [N, C], is {out.shape}")
        raw = self.metadata.get("classes")
        if raw is None:
            raise ContractError(f"{where} metadata key 'classes' is missing")
        try:
            classes = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ContractError(f"{where} 'classes' is not JSON: {exc}") from None
        if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
            raise ContractError(f"{where} 'classes' must be a JSON list of strings")
        if len(classes) < 2 or len(set(classes)) != len(classes):
            raise ContractError(f"{where} 'classes' needs two or more distinct names: {classes}")
        for name in classes:
            try:
                parse_label(name)
            except ValueError as exc:
                raise ContractError(f"{where} {exc}") from None
        width = _static(out.shape[1])
        if width is not None and width != len(classes):
            raise ContractError(f"{where} {width} logits but {len(classes)} class names")
        return tuple(classes)

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """Softmax probabilities [N, C] for a batch [N, 224, 224, 3] of RGB 0-255."""
        batch = np.asarray(batch)
        if batch.ndim != 4 or batch.shape[1:] != (INPUT_SIZE, INPUT_SIZE, 3):
            raise ValueError(f"expected a batch [N, 224, 224, 3], got {batch.shape}")
        (logits,) = self.session.run(None, {self.input_name: batch.astype(np.float32, copy=False)})
        if logits.shape != (batch.shape[0], len(self.classes)):
            raise ContractError(
                f"{self.path}: classifier contract: output {logits.shape}, "
                f"want ({batch.shape[0]}, {len(self.classes)})"
            )
        return softmax(logits).astype(np.float32)

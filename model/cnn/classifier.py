"""The palsy classifier: any ONNX model that follows the classifier contract (cnn.contract)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from model.cnn.contract import INPUT_SIZE, ClassifierMetadata, ContractError
from model.cnn.softmax import softmax
from model.onnx_session import make_session
from model.result import ModelInfo

# The int8 export by default: the shipped grader gives the CNN no weight (so serving skips it
# unless asked to run it in shadow), and int8 runs ~1.5 ms faster per photo, loads faster and
# keeps ~40 MB less resident; it agrees with float32 on 99.3 % of validation images
# (MODEL_CARD.md). classifier.onnx, the float32 original, stays beside it for
# PALSY_MODEL_PATH / --model.
DEFAULT_CLASSIFIER = Path(__file__).resolve().parents[1] / "assets" / "classifier.int8.onnx"
__all__ = ["INPUT_SIZE", "Classifier", "ContractError", "ModelMissingError", "sha256_of"]


class ModelMissingError(FileNotFoundError):
    """The classifier file does not exist."""


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
        self.contract = ClassifierMetadata.from_props(self.metadata, str(self.path))
        self.classes: tuple[str, ...] = self.contract.classes
        self._check_shapes()
        self.input_name: str = self.session.get_inputs()[0].name
        self.info = ModelInfo(
            name=self.contract.name or self.path.stem,
            version=self.contract.version,
            sha256=sha256_of(self.path),
            clinically_validated=self.contract.clinically_validated,
        )

    def _check_shapes(self) -> None:
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
            raise ContractError(
                f"{where} input must be [N, {INPUT_SIZE}, {INPUT_SIZE}, 3], is {inp.shape}"
            )
        if out.type != "tensor(float)" or len(out.shape) != 2:
            raise ContractError(f"{where} output must be float32 logits [N, C], is {out.shape}")
        width = _static(out.shape[1])
        if width is not None and width != len(self.classes):
            raise ContractError(f"{where} {width} logits but {len(self.classes)} class names")

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """Softmax probabilities [N, C] for a batch [N, 224, 224, 3] of RGB 0-255."""
        batch = np.asarray(batch)
        if batch.ndim != 4 or batch.shape[1:] != (INPUT_SIZE, INPUT_SIZE, 3):
            raise ValueError(
                f"expected a batch [N, {INPUT_SIZE}, {INPUT_SIZE}, 3], got {batch.shape}"
            )
        (logits,) = self.session.run(None, {self.input_name: batch.astype(np.float32, copy=False)})
        if logits.shape != (batch.shape[0], len(self.classes)):
            raise ContractError(
                f"{self.path}: classifier contract: output {logits.shape}, "
                f"want ({batch.shape[0]}, {len(self.classes)})"
            )
        return softmax(logits).astype(np.float32)

"""Screening core: photo bytes in, a screening result out. Imports no sibling package.

Sub-packages by concern: `face` (decode, find, gate, mesh, crop), `measures` (facial asymmetry),
`cnn` (the image classifier and its contract), `decision` (grader, FAST exam, tiers); `pipeline`
puts them together. The public API is importable from here, and is what other packages use
(tests/repo/test_layers.py holds training/ to it, beside the few modules named there); it loads
ONNX Runtime only when first used.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what the names are, for type checkers; at run time, loaded on first use
    from model.cnn.classifier import Classifier
    from model.cnn.contract import INPUT_SIZE, ClassifierMetadata, ContractError
    from model.decision.exam import ExamResult
    from model.decision.grader import Finding
    from model.decision.triage import Tier, triage
    from model.pipeline import Analyser, Screener
    from model.reasons import Reason, Rejected
    from model.result import FaceBox, ModelInfo, ScreeningResult

# name -> module that defines it
_PUBLIC = {
    "Analyser": "model.pipeline",
    "Screener": "model.pipeline",
    "ScreeningResult": "model.result",
    "ModelInfo": "model.result",
    "FaceBox": "model.result",
    "Reason": "model.reasons",
    "Rejected": "model.reasons",
    "Tier": "model.decision.triage",
    "triage": "model.decision.triage",
    "Finding": "model.decision.grader",
    "ExamResult": "model.decision.exam",
    "Classifier": "model.cnn.classifier",
    "ClassifierMetadata": "model.cnn.contract",
    "ContractError": "model.cnn.contract",
    "INPUT_SIZE": "model.cnn.contract",
}
__all__ = [  # the same names (tests/repo/test_layers.py checks)
    "INPUT_SIZE",
    "Analyser",
    "Classifier",
    "ClassifierMetadata",
    "ContractError",
    "ExamResult",
    "FaceBox",
    "Finding",
    "ModelInfo",
    "Reason",
    "Rejected",
    "Screener",
    "ScreeningResult",
    "Tier",
    "triage",
]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'model' has no attribute {name!r}")

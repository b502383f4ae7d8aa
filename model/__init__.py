"""Screening core: photo bytes in, a screening result out. Imports no sibling package.

Sub-packages by concern: `face` (decode, find, gate, mesh, crop), `measures` (facial asymmetry),
`cnn` (the image classifier and its contract), `decision` (grader, FAST exam, tiers), `words`
(the catalogs and results in words, for the bot and palsy-check); `pipeline` puts them together.

The public API is importable from here, and is what other packages use (tests/repo/test_layers.py
holds bot/ and training/ to it): these names, plus `model.words`, the pure rules the conversation
is built on (`model.decision.onset`, `.followup`, `.distress`) and the few modules training/ names
there. It loads ONNX Runtime only when first used.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what the names are, for type checkers; at run time, loaded on first use
    from model.cnn.classifier import Classifier
    from model.cnn.contract import INPUT_SIZE, ClassifierMetadata, ContractError
    from model.decision.exam import ExamParams, ExamResult, Step, StepMeasures, examine_steps
    from model.decision.grader import Finding
    from model.decision.triage import Tier, triage
    from model.face.decode import IMAGE_EXTENSIONS, DecodeLimits
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
    "ExamParams": "model.decision.exam",
    "StepMeasures": "model.decision.exam",
    "Step": "model.decision.exam",
    "examine_steps": "model.decision.exam",
    "DecodeLimits": "model.face.decode",
    "IMAGE_EXTENSIONS": "model.face.decode",
    "Classifier": "model.cnn.classifier",
    "ClassifierMetadata": "model.cnn.contract",
    "ContractError": "model.cnn.contract",
    "INPUT_SIZE": "model.cnn.contract",
}
__all__ = [  # the same names (tests/repo/test_layers.py checks)
    "IMAGE_EXTENSIONS",
    "INPUT_SIZE",
    "Analyser",
    "Classifier",
    "ClassifierMetadata",
    "ContractError",
    "DecodeLimits",
    "ExamParams",
    "ExamResult",
    "FaceBox",
    "Finding",
    "ModelInfo",
    "Reason",
    "Rejected",
    "Screener",
    "ScreeningResult",
    "Step",
    "StepMeasures",
    "Tier",
    "examine_steps",
    "triage",
]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'model' has no attribute {name!r}")

"""Screening core: photo bytes in, a screening result out. Imports no sibling package.

Sub-packages by concern: `face` (decode, find, gate, mesh, crop), `measures` (facial asymmetry),
`cnn` (the image classifier and its contract), `decision` (grader, FAST exam, tiers); `pipeline`
puts them together. The public API is importable from here; it loads ONNX Runtime only when
first used.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

# name -> module that defines it
_PUBLIC = {
    "Analyser": "model.pipeline",
    "Screener": "model.pipeline",
    "ScreeningResult": "model.result",
    "ModelInfo": "model.result",
    "FaceBox": "model.result",
    "Reason": "model.reasons",
    "Tier": "model.decision.triage",
    "Finding": "model.decision.grader",
    "ExamResult": "model.decision.exam",
    "ClassifierMetadata": "model.cnn.contract",
    "ContractError": "model.cnn.contract",
    "INPUT_SIZE": "model.cnn.contract",
}
__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'model' has no attribute {name!r}")

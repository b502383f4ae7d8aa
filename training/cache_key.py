"""One digest of everything in model/ that shapes a training array or a measured row.

Every Python file of model/ (not a hand-kept list: a change to any of them, `quality.main_face`
included, changes what is cropped or measured) and the face models that locate the face.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

MODEL_DIR = Path(__file__).resolve().parents[1] / "model"
FACE_MODELS = ("assets/face_detection_yunet_2023mar.onnx", "assets/face_landmarks_478.onnx")


def model_digest(model_dir: Path = MODEL_DIR) -> Any:
    """A running SHA-256 (`hashlib` object) of model/'s code and face models; add to it."""
    digest = hashlib.sha256()
    sources = sorted(p for p in model_dir.rglob("*.py") if "__pycache__" not in p.parts)
    for path in [*sources, *(model_dir / name for name in FACE_MODELS)]:
        digest.update(str(path.relative_to(model_dir)).encode())
        digest.update(path.read_bytes() if path.is_file() else b"missing")
    return digest

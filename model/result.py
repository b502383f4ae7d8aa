"""The screening result: what `palsy-check --json` prints and what the bot renders and logs."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from model.reasons import Reason
from model.triage import Tier

Status = Literal["ok", "rejected"]


@dataclass(frozen=True)
class ModelInfo:
    name: str
    version: str
    sha256: str
    # False unless the model's metadata says it was validated on real patients.
    clinically_validated: bool = False


@dataclass(frozen=True)
class FaceBox:
    """Face box in pixels of the decoded (EXIF-rotated) image."""

    x: float
    y: float
    width: float
    height: float
    score: float


@dataclass
class ScreeningResult:
    status: Status
    tier: Tier
    model: ModelInfo | None = None
    reason: Reason | None = None
    label: str | None = None
    region: str | None = None
    severity: str | None = None
    # Class -> softmax probability, best first.
    probabilities: dict[str, float] = field(default_factory=dict)
    # Measure name -> value; values are in units of inter-pupil distance (see model.asymmetry).
    asymmetry: dict[str, float | str] = field(default_factory=dict)
    face: FaceBox | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def top_probability(self) -> float | None:
        return next(iter(self.probabilities.values()), None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (enums as their string values)."""
        out = asdict(self)
        out["tier"] = self.tier.value
        out["reason"] = self.reason.value if self.reason else None
        return out

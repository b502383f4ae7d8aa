"""The screening result: what `palsy-check --json` prints and what the bot renders and logs."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from model.decision.confidence import Confidence
from model.decision.grader import Finding
from model.decision.triage import Tier
from model.reasons import Reason

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
    """Face box in pixels of the photo (EXIF-rotated), whatever scale it was decoded at."""

    x: float
    y: float
    width: float
    height: float
    score: float


@dataclass
class ScreeningResult:
    """`status` "ok": a decision (finding or no signs). "rejected": no decision, with `reason`;
    an unclear grade is rejected with LOW_CONFIDENCE but keeps its measures and finding."""

    status: Status
    tier: Tier
    model: ModelInfo | None = None
    reason: Reason | None = None
    label: str | None = None
    region: str | None = None
    severity: str | None = None
    # The grader's class -> calibrated probability, best first: the verdict's class first (for
    # "unclear", `normal` and the torn class first); see model.decision.confidence.
    probabilities: dict[str, float] = field(default_factory=dict)
    # Measure name -> value, IPD units (see model.measures.asymmetry.Measures.to_dict).
    asymmetry: dict[str, float] = field(default_factory=dict)
    face: FaceBox | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
    finding: Finding | None = None
    # The CNN's own softmax, best first; empty when it did not run (a grader that gives it no
    # weight skips it unless asked: `Screener(shadow_cnn=True)`, `palsy-check --cnn`).
    cnn_probabilities: dict[str, float] = field(default_factory=dict)
    grader_version: str | None = None
    # How sure the answer is (band, number in 10); None when no face was graded (a rejection).
    confidence: Confidence | None = None

    @classmethod
    def rejected(
        cls,
        reason: Reason,
        model: ModelInfo | None,
        timings_ms: dict[str, float],
        face: FaceBox | None = None,
        grader_version: str | None = None,
    ) -> ScreeningResult:
        """The one constructor of a photo that could not be screened."""
        return cls(
            status="rejected",
            tier=Tier.RETAKE,
            model=model,
            reason=reason,
            face=face,
            timings_ms=timings_ms,
            grader_version=grader_version,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (enums as their string values)."""
        out = asdict(self)
        out["tier"] = self.tier.value
        out["reason"] = self.reason.value if self.reason else None
        out["finding"] = self.finding.to_dict() if self.finding else None
        out["confidence"] = self.confidence.to_dict() if self.confidence else None
        return out

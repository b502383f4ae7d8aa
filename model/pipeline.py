"""Photo bytes -> ScreeningResult: decode, detect, quality gate, landmarks, align, classify, triage.

`Screener` holds one ONNX Runtime session per model and no other state, so one instance serves
many threads. Bad input never raises: every `Rejected` becomes a "rejected" result with its reason
and tier RETAKE. A classifier that is unsure (top probability under `min_confidence`) gives a
"rejected" result with reason LOW_CONFIDENCE that keeps the probabilities and measures, but no
label, so nobody acts on a guess.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.asymmetry import measures
from model.classifier import Classifier
from model.decode import DecodeLimits, decode_image
from model.faces import Face, FaceDetector
from model.labels import parse_label
from model.landmarks import KeyPoints, LandmarkModel, key_points
from model.preprocess import classifier_input
from model.quality import QualityThresholds, check_pose, check_quality
from model.reasons import Reason, Rejected
from model.result import FaceBox, ScreeningResult
from model.triage import MIN_CONFIDENCE, Tier, triage

STAGES = ("decode", "detect", "quality", "landmarks", "preprocess", "classify")


class _Clock:
    """Milliseconds per stage; `pending` names the stage now running (it gets the time if it
    fails)."""

    def __init__(self) -> None:
        self.start = self.last = time.perf_counter()
        self.timings: dict[str, float] = {}
        self.pending = STAGES[0]

    def lap(self, stage: str, then: str = "") -> None:
        now = time.perf_counter()
        spent = self.timings.get(stage, 0.0) + (now - self.last) * 1000
        self.timings[stage] = round(spent, 3)
        self.last = now
        self.pending = then

    def done(self) -> dict[str, float]:
        self.timings["total"] = round((time.perf_counter() - self.start) * 1000, 3)
        return self.timings


@dataclass
class _Analysis:
    """What the stages before the classifier found; filled in as they run."""

    face: Face | None = None
    points: KeyPoints | None = None
    crop: np.ndarray | None = None


class Screener:
    def __init__(
        self,
        classifier_path: Path | str | None = None,
        limits: DecodeLimits = DecodeLimits(),  # noqa: B008 (frozen dataclass)
        threads: int = 1,
        thresholds: QualityThresholds = QualityThresholds(),  # noqa: B008
        min_confidence: float = MIN_CONFIDENCE,
    ) -> None:
        """Load every model. Raises `ModelMissingError` / `ContractError` for a bad classifier."""
        self.classifier = Classifier(classifier_path, threads)
        self.detector = FaceDetector(threads=threads)
        self.mesh = LandmarkModel(threads=threads)
        self.limits = limits
        self.thresholds = thresholds
        self.min_confidence = min_confidence

    def _analyse(self, data: bytes, clock: _Clock, found: _Analysis) -> None:
        """Run every stage up to the classifier input, filling `found`; raises `Rejected`."""
        rgb = decode_image(bytes(data), self.limits)
        clock.lap("decode", then="detect")
        faces = self.detector.detect(rgb)
        clock.lap("detect", then="quality")
        face, _ = check_quality(rgb, faces, self.thresholds)
        found.face = face
        clock.lap("quality", then="landmarks")
        points = key_points(self.mesh.landmarks(rgb, face))
        found.points = points
        clock.lap("landmarks", then="quality")
        eyes = points.eyes
        check_pose(eyes[0], eyes[1], points.nose_tip, self.thresholds)
        clock.lap("quality", then="preprocess")
        found.crop = classifier_input(rgb, eyes)
        clock.lap("preprocess", then="classify")

    def prepare(self, data: bytes) -> np.ndarray:
        """The exact classifier input (uint8 [224, 224, 3]) `screen` would use; raises `Rejected`.

        Training builds its arrays with the same functions (`decode_image`, `main_face`, the mesh's
        `KeyPoints.eyes`, `classifier_input`): tests compare the two paths byte for byte.
        """
        found = _Analysis()
        self._analyse(data, _Clock(), found)
        assert found.crop is not None
        return found.crop

    def screen(self, data: bytes, sudden_onset: bool | None = None) -> ScreeningResult:
        """Screen one photo. Never raises for bad input."""
        clock, found = _Clock(), _Analysis()
        info = self.classifier.info
        try:
            self._analyse(data, clock, found)
        except Rejected as rejected:
            clock.lap(clock.pending)
            return ScreeningResult(
                status="rejected",
                tier=Tier.RETAKE,
                model=info,
                reason=rejected.reason,
                face=_face_box(found.face),
                timings_ms=clock.done(),
            )
        assert found.crop is not None and found.points is not None
        probs = self.classifier.predict(found.crop[None].astype(np.float32))[0]
        clock.lap("classify")
        ranked = sorted(zip(self.classifier.classes, probs.tolist(), strict=True), key=_by_p)
        probabilities = dict(ranked)
        asymmetry = {
            k: round(v, 4) if isinstance(v, float) else v for k, v in measures(found.points).items()
        }
        label, top = ranked[0]
        tier = triage(label, top, sudden_onset, min_confidence=self.min_confidence)
        if top < self.min_confidence:
            return ScreeningResult(
                status="rejected",
                tier=tier,
                model=info,
                reason=Reason.LOW_CONFIDENCE,
                probabilities=probabilities,
                asymmetry=asymmetry,
                face=_face_box(found.face),
                timings_ms=clock.done(),
            )
        region, severity = parse_label(label)
        return ScreeningResult(
            status="ok",
            tier=tier,
            model=info,
            label=label,
            region=region,
            severity=severity,
            probabilities=probabilities,
            asymmetry=asymmetry,
            face=_face_box(found.face),
            timings_ms=clock.done(),
        )


def _by_p(item: tuple[str, float]) -> float:
    return -item[1]


def _face_box(face: Face | None) -> FaceBox | None:
    if face is None:
        return None
    x, y, w, h = (round(float(v), 1) for v in face.box)
    return FaceBox(x, y, w, h, round(float(face.score), 4))

"""Photo bytes -> ScreeningResult: decode, detect, quality gate, mesh, measure, grade, triage;
the CNN (classifier crop and softmax) only when the grader weighs it or it runs in shadow.

`Screener` holds one ONNX Runtime session per model, the grader's parameters and no other state,
so one instance serves many threads. Bad input never raises: every `Rejected` becomes a
"rejected" result with its reason and tier RETAKE. A grader torn between "no signs" and a finding
gives a "rejected" result with reason LOW_CONFIDENCE that keeps the probabilities, measures and
the (unclear) finding, but no label, so nobody acts on a guess.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from model.cnn.classifier import Classifier
from model.decision.exam import ExamParams, ExamResult, StepMeasures, examine
from model.decision.grader import Grader
from model.decision.triage import triage
from model.face.decode import DecodeLimits, decode
from model.face.faces import Face, FaceDetector
from model.face.landmarks import LandmarkModel
from model.face.locate import FaceLocator
from model.face.preprocess import classifier_input, midline_eyes
from model.face.quality import QualityThresholds
from model.measures.asymmetry import Measures, face_shape, measure
from model.measures.expression import Expression, ExpressionModel
from model.reasons import Reason, Rejected
from model.result import FaceBox, ScreeningResult

# "preprocess" and "classify" run only when the CNN does (`Screener.runs_cnn`).
STAGES = ("decode", "detect", "quality", "landmarks", "measure", "preprocess", "classify", "grade")


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
class Analysis:
    """What the stages before the classifier found; filled in as they run."""

    # Photo pixels per decoded pixel (a large JPEG is decoded at a reduced scale): `face` and
    # `mesh` are in decoded pixels; multiply by `scale` for the photo's own.
    scale: float = 1.0
    face: Face | None = None
    mesh: np.ndarray | None = None
    measures: Measures | None = None
    expression: Expression | None = None
    crop: np.ndarray | None = None


class Analyser:
    """Photo -> face, mesh, measures, classifier crop and CNN probabilities: what both serving
    and the grader's fitting need."""

    def __init__(
        self,
        classifier_path: Path | str | None = None,
        limits: DecodeLimits = DecodeLimits(),  # noqa: B008 (frozen dataclass)
        threads: int = 1,
        thresholds: QualityThresholds = QualityThresholds(),  # noqa: B008
    ) -> None:
        """Load the models. Raises `ModelMissingError` / `ContractError` for a bad classifier."""
        self.classifier = Classifier(classifier_path, threads)
        self.locator = FaceLocator(threads)
        self.expressions = ExpressionModel(threads=threads)
        self.limits = limits
        self.thresholds = thresholds

    @property
    def detector(self) -> FaceDetector:
        return self.locator.detector

    @property
    def mesh(self) -> LandmarkModel:
        return self.locator.mesh

    def _analyse(self, data: bytes, clock: _Clock, found: Analysis, crop: bool = True) -> None:
        """Run every stage up to the classifier input (without it when not `crop`), filling
        `found`; raises `Rejected`."""
        decoded = decode(bytes(data), self.limits)
        rgb, found.scale = decoded.rgb, decoded.scale
        clock.lap("decode", then="detect")
        faces = self.detector.detect(rgb)
        clock.lap("detect", then="quality")
        # `min_face_px` counts the photo's own pixels: a reduced decode refuses what a full would.
        face = found.face = self.locator.choose(rgb, faces, self.thresholds, decoded.scale)
        clock.lap("quality", then="landmarks")
        located = self.locator.fit(rgb, face, self.thresholds)  # the pose check included
        found.mesh = located.mesh
        eyes = located.points.eyes
        clock.lap("landmarks", then="measure")
        try:
            found.measures = measure(found.mesh)
        except ValueError as exc:  # a degenerate mesh (pupils on one point): no face to measure
            raise Rejected(Reason.NO_FACE, str(exc)) from None
        found.expression = self.expressions.expression(found.mesh)
        clock.lap("measure", then="preprocess" if crop else "grade")
        if crop:
            # The crop the classifier's contract names (`input.align`), as training made it.
            midline = self.classifier.contract.align == "midline"
            anchor = midline_eyes(found.mesh) if midline else eyes
            found.crop = classifier_input(rgb, anchor)
            clock.lap("preprocess", then="classify")

    def analyse(self, data: bytes) -> Analysis:
        """Every stage up to the classifier input (face, mesh, measures, crop); raises `Rejected`.

        Training builds its arrays and grader features through this same call, so train and
        serve cannot drift apart (tests compare the two paths byte for byte).
        """
        found = Analysis()
        self._analyse(data, _Clock(), found)
        return found

    def cnn_probabilities(self, crop: np.ndarray) -> dict[str, float]:
        """The classifier's softmax for one crop, class -> probability."""
        probs = self.classifier.predict(crop[None].astype(np.float32))[0]
        return dict(zip(self.classifier.classes, probs.tolist(), strict=True))


class Screener(Analyser):
    """The whole screen: analysis, then the grader and the tier."""

    def __init__(
        self,
        *args: Any,
        grader_path: Path | str | None = None,
        exam_path: Path | str | None = None,
        shadow_cnn: bool = False,
        **kwargs: Any,
    ) -> None:
        """`Analyser`'s arguments, plus the grader's and the exam's parameter files (default:
        the shipped ones). `shadow_cnn` runs the CNN even when the grader gives it no weight, so
        its softmax is in `cnn_probabilities` (it still has no say in the finding). Raises
        `ModelMissingError` / `ContractError` for a bad classifier, `GraderError` / `ExamError`
        for bad grader or exam parameters."""
        super().__init__(*args, **kwargs)
        self.grader = Grader.load(grader_path)
        self.exam_params = ExamParams.load(exam_path)
        # A CNN without weight would only cost time: 6.5 of 24 ms per photo (bench.pipeline).
        self.runs_cnn = self.grader.uses_cnn or shadow_cnn

    def screen(self, data: bytes, sudden_onset: bool | None = None) -> ScreeningResult:
        """Screen one photo. Never raises for bad input."""
        return self._screen(data, sudden_onset)[0]

    def exam(
        self,
        rest: bytes,
        smile: bytes,
        brows: bytes | None = None,
        sudden_onset: bool | None = None,
    ) -> ExamResult:
        """The FAST face test (model.decision.exam). Never raises for bad input: a failed photo
        fails its step with its own reason."""
        photos = {"rest": rest, "smile": smile} | ({"brows": brows} if brows else {})
        steps, measured = {}, {}
        for name, data in photos.items():
            steps[name], step = self.exam_step(data, sudden_onset if name == "rest" else None)
            if step is not None:
                measured[name] = step
        return examine(self.exam_params, steps, measured, sudden_onset)

    def exam_step(
        self, data: bytes, sudden_onset: bool | None = None
    ) -> tuple[ScreeningResult, StepMeasures | None]:
        """Screen one photo and keep what an exam needs of it (None: no face measured). The bot
        stores the StepMeasures instead of the photo and finishes with
        `model.decision.exam.examine_steps`. Never raises for bad input."""
        result, found = self._screen(data, sudden_onset)
        if found.measures is None or found.mesh is None:
            return result, None
        shape = face_shape(found.mesh)
        return result, StepMeasures.of(result, found.measures, shape, found.expression)

    def _screen(self, data: bytes, sudden_onset: bool | None) -> tuple[ScreeningResult, Analysis]:
        clock, found = _Clock(), Analysis()
        info, version = self.classifier.info, self.grader.params.version
        try:
            self._analyse(data, clock, found, crop=self.runs_cnn)
        except Rejected as rejected:
            clock.lap(clock.pending)
            result = ScreeningResult.rejected(
                rejected.reason, info, clock.done(), _face_box(found.face, found.scale), version
            )
            return result, found
        assert found.measures is not None
        cnn = None if found.crop is None else self.cnn_probabilities(found.crop)
        if cnn is not None:
            clock.lap("classify")
        graded = self.grader.grade(found.measures, cnn, found.expression)
        clock.lap("grade")
        finding = graded.finding
        label = finding.label
        result = ScreeningResult(
            status="rejected" if label is None else "ok",
            tier=triage(label, sudden_onset, unclear=finding.decision == "unclear"),
            model=info,
            reason=Reason.LOW_CONFIDENCE if label is None else None,
            label=label,
            region=finding.region,
            severity=finding.severity,
            probabilities=_ranked(graded.probabilities),
            asymmetry=found.measures.to_dict()
            | (found.expression.to_dict() if found.expression else {}),
            face=_face_box(found.face, found.scale),
            timings_ms=clock.done(),
            finding=finding,
            cnn_probabilities=_ranked(cnn or {}),
            grader_version=version,
            confidence=graded.confidence,
        )
        return result, found


def _ranked(probs: dict[str, float]) -> dict[str, float]:
    """Best first, rounded for JSON and the database."""
    return {k: round(v, 4) for k, v in sorted(probs.items(), key=lambda kv: -kv[1])}


def _face_box(face: Face | None, scale: float) -> FaceBox | None:
    """The face box in the photo's own pixels."""
    if face is None:
        return None
    x, y, w, h = (round(float(v) * scale, 1) for v in face.box)
    return FaceBox(x, y, w, h, round(float(face.score), 4))

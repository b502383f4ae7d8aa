"""The FAST face test: rest, big smile and (optionally) raised brows, movement measured per side.

Clinicians grade a palsy by how far each side *moves* from rest, divided by the other side's
movement (eFACE, Sunnybrook): anatomy that is uneven at rest cancels out. A stroke usually spares
the forehead (both brows still rise while the lower face is weak); Bell's palsy takes the
forehead on the same side too. Some strokes look like Bell's palsy, so a Bell's-type pattern never
rules a stroke out.

How the smile is read: per side, how far the mouth corner rose (the mesh) and how much each
paired expression score changed from rest (`MOVEMENT_SCORES`: the smile itself, the stretch, the
cheek, ...; `model.measures.expression`). Each left-right difference is turned by the sign of the
lift difference (positive: the subject's left moved less), scaled by its healthy spread, and a
logistic model gives P(one side weak). Every number is data in `model/assets/exam.json`, fitted
by `palsy-train fit-exam` on healthy London rest -> smile pairs and synthetic smile failures (see
`ExamParams` and the exam card); the brow rule alone is a stated rule, not calibrated (there are
no healthy brow-raise photos to fit it on).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np

from model.decision.confidence import CalibrationError, Confidence, ExamCalibration
from model.decision.triage import Tier, exam_tier, triage
from model.measures.asymmetry import MM_PER_IPD, SHAPE_PAIRS, Measures, SideMeasures
from model.measures.expression import Expression
from model.reasons import Reason
from model.result import ScreeningResult

DEFAULT_EXAM = Path(__file__).resolve().parents[1] / "assets" / "exam.json"
FORMAT = "palsy-exam/3"  # 3: `calibration` (issue 21)
# Paired expression scores whose change from rest to smile is compared between the sides.
MOVEMENT_SCORES = (
    "mouthSmile", "mouthStretch", "mouthDimple", "cheekSquint", "mouthPress", "mouthFrown",
    "mouthUpperUp", "mouthLowerDown", "eyeSquint", "noseSneer",
)  # fmt: skip
MOVEMENT = ("lift", *MOVEMENT_SCORES)

Step = Literal["rest", "smile", "brows"]
Pattern = Literal["none", "unclear", "lower_face", "stroke_type", "bells_type"]
Side = Literal["left", "right"]


class ExamError(ValueError):
    """The exam parameter file is missing or does not follow its format."""


@dataclass(frozen=True)
class ExamParams:
    version: str
    # A smile: one mouth corner moves at least this far (IPD); below, "no smile made".
    min_smile: float
    # The smile's symmetry (`weak_probability`): each `MOVEMENT` difference over its healthy
    # scale (95th percentile of its size on healthy pairs), a logistic model's weights and bias.
    movement_scale: list[float]
    weights: list[float]
    bias: float
    # P(one side weak) below `clear_below`: no signs; from `finding_at`: the side that moved
    # less is weak; between: unclear.
    clear_below: float
    finding_at: float
    # Raised brows: one brow rises at least this far (IPD); below, "no brow raise made".
    min_brow_raise: float
    # Stated rule (not calibrated): a brow that rises less than this fraction of the other's is
    # weak.
    brow_fraction: float
    # Same person: RMS of face-shape differences, each over its spread between people.
    shape_spread: list[float]
    same_person_max: float
    fitted: dict[str, Any] = field(default_factory=dict)
    # P(one side weak) calibrated, and how sure the pattern is; required in the file.
    calibration: ExamCalibration | None = None

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, **asdict(self)}, indent=1)

    @classmethod
    def load(cls, path: Path | str | None = None) -> ExamParams:
        path = Path(path) if path is not None else DEFAULT_EXAM
        if not path.is_file():
            raise ExamError(f"exam parameters not found: {path} (fit with palsy-train fit-exam)")
        try:
            raw = json.loads(path.read_text())
            if raw.pop("format", None) != FORMAT:
                raise ExamError(f"{path}: not a {FORMAT} file")
            if not raw.get("calibration"):
                raise ExamError(f"{path}: no calibration (fit with palsy-train fit-exam)")
            params = cls(**{**raw, "calibration": ExamCalibration.from_dict(raw["calibration"])})
        except (json.JSONDecodeError, TypeError, KeyError, AttributeError) as exc:
            raise ExamError(f"{path}: unreadable exam parameters: {exc!r}") from None
        params.check(str(path))
        return params

    def check(self, where: str = "exam") -> None:
        if not 0 <= self.clear_below <= self.finding_at <= 1:
            raise ExamError(f"{where}: need 0 <= clear_below <= finding_at <= 1")
        if not len(self.movement_scale) == len(self.weights) == len(MOVEMENT):
            raise ExamError(f"{where}: movement_scale and weights need {len(MOVEMENT)} values")
        if self.calibration is None:
            raise ExamError(f"{where}: no calibration (fit with palsy-train fit-exam)")
        try:
            self.calibration.check(self.clear_below, self.finding_at, where)
        except CalibrationError as exc:
            raise ExamError(str(exc)) from None


@dataclass(frozen=True)
class SideMovement:
    """One side's movement from rest, IPD units (mm at 63 mm between the pupils): how far the
    mouth corner moved, how far it rose, how far the brow rose."""

    smile: float
    lift: float
    brow: float | None = None

    def to_dict(self) -> dict[str, float | None]:
        return {
            "smile_ipd": round(self.smile, 4),
            "smile_mm": round(self.smile * MM_PER_IPD, 1),
            "lift_ipd": round(self.lift, 4),
            "lift_mm": round(self.lift * MM_PER_IPD, 1),
            "brow_ipd": None if self.brow is None else round(self.brow, 4),
            "brow_mm": None if self.brow is None else round(self.brow * MM_PER_IPD, 1),
        }


@dataclass
class ExamResult:
    """`status` "ok": all steps usable; "rejected": `failed_step` must be taken again."""

    status: Literal["ok", "rejected"]
    tier: Tier
    steps: dict[str, ScreeningResult]
    failed_step: Step | None = None
    reason: Reason | None = None
    pattern: Pattern | None = None
    weak_side: Side | None = None
    smile_ratio: float | None = None
    left: SideMovement | None = None
    right: SideMovement | None = None
    exam_version: str | None = None
    # P(one side weak) of the smile (`weak_probability`, raw: what the thresholds act on), when
    # the exam got that far.
    p_weak: float | None = None
    # How sure the pattern is (calibrated P(weak)); None when the exam was not decided.
    confidence: Confidence | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "tier": self.tier.value,
            "failed_step": self.failed_step,
            "reason": self.reason.value if self.reason else None,
            "pattern": self.pattern,
            "weak_side": self.weak_side,
            "smile_ratio": None if self.smile_ratio is None else round(self.smile_ratio, 3),
            "left": self.left.to_dict() if self.left else None,
            "right": self.right.to_dict() if self.right else None,
            "exam_version": self.exam_version,
            "p_weak": None if self.p_weak is None else round(self.p_weak, 4),
            "confidence": self.confidence.to_dict() if self.confidence else None,
            "steps": {k: v.to_dict() for k, v in self.steps.items()},
        }


@dataclass(frozen=True)
class StepMeasures:
    """What an exam keeps of one finished step, so it can go on without the photo (after a
    restart, on another replica): the measures, the face shape and the step's own outcome."""

    measures: Measures
    shape: np.ndarray
    status: Literal["ok", "rejected"]
    label: str | None = None
    reason: Reason | None = None
    # The expression scores (None in a step stored before they were measured).
    expression: Expression | None = None

    @classmethod
    def of(
        cls,
        result: ScreeningResult,
        measures: Measures,
        shape: np.ndarray,
        expression: Expression | None = None,
    ) -> StepMeasures:
        return cls(measures, np.asarray(shape, np.float64), result.status, result.label,
                   result.reason, expression)  # fmt: skip

    def result(self) -> ScreeningResult:
        """The step's screening outcome, as much of it as `examine` reads."""
        tier = triage(self.label) if self.status == "ok" else Tier.RETAKE
        return ScreeningResult(self.status, tier, reason=self.reason, label=self.label)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; `from_dict` reads it back."""
        return {
            "measures": self.measures.to_dict(),
            "shape": [round(float(v), 6) for v in self.shape],
            "status": self.status,
            "label": self.label,
            "reason": self.reason.value if self.reason else None,
            "expression": None
            if self.expression is None
            else {"left": self.expression.left, "right": self.expression.right},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StepMeasures:
        """Raises ValueError for anything `to_dict` did not write."""
        try:
            status = data["status"]
            shape = np.asarray(data["shape"], np.float64)
            if status not in ("ok", "rejected") or shape.shape != (len(SHAPE_PAIRS),):
                raise ValueError(f"bad step: status {status!r}, shape {shape.shape}")
            reason = Reason(data["reason"]) if data.get("reason") else None
            measures = Measures.from_dict(data["measures"])
            ok = cast(Literal["ok", "rejected"], status)
            scores = data.get("expression")
            expression = None
            if scores is not None:
                sides = {k: {n: float(v) for n, v in scores[k].items()} for k in ("left", "right")}
                expression = Expression(sides["left"], sides["right"])
            return cls(measures, shape, ok, data.get("label"), reason, expression)
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"bad step: {exc!r}") from None


def corner_movement(rest: SideMeasures, moved: SideMeasures) -> float:
    """How far the mouth corner moved (IPD), in the face frame of each photo."""
    up = moved.corner_height - rest.corner_height
    out = moved.corner_midline - rest.corner_midline
    return float(np.hypot(up, out))


def shape_distance(a: np.ndarray, b: np.ndarray, params: ExamParams) -> float:
    return float(np.sqrt(np.mean(((a - b) / np.asarray(params.shape_spread)) ** 2)))


def smile_ratio(left: float, right: float) -> float:
    stronger = max(left, right)
    return min(left, right) / stronger if stronger > 0 else 1.0


def movement_gaps(
    rest: Measures,
    smile: Measures,
    rest_expression: Expression | None = None,
    smile_expression: Expression | None = None,
) -> np.ndarray:
    """How much less the subject's left moved than the right, per `MOVEMENT` measure: the
    mouth corner's rise (IPD), then each expression score's change from rest (0 where a step has
    no expression scores)."""
    # y points down the face: a corner that rises gets smaller.
    lift_l = rest.left.corner_height - smile.left.corner_height
    lift_r = rest.right.corner_height - smile.right.corner_height
    gaps = [lift_r - lift_l]
    for name in MOVEMENT_SCORES:
        if rest_expression is None or smile_expression is None:
            gaps.append(0.0)
            continue
        left = smile_expression.left[name] - rest_expression.left[name]
        right = smile_expression.right[name] - rest_expression.right[name]
        gaps.append(right - left)
    return np.array(gaps)


def weak_probability(params: ExamParams, gaps: np.ndarray) -> float:
    """P(one side weak) from `movement_gaps`, each turned by the lift's sign (so the lift is a
    size) and scaled by its healthy spread."""
    turn = 1.0 if gaps[0] >= 0 else -1.0
    x = turn * np.asarray(gaps) / np.asarray(params.movement_scale)
    z = float(np.dot(params.weights, x) + params.bias)
    return 1.0 / (1.0 + math.exp(-z)) if z > -500 else 0.0


def decide(
    params: ExamParams,
    rest: Measures,
    smile: Measures,
    brows: Measures | None,
    rest_expression: Expression | None = None,
    smile_expression: Expression | None = None,
) -> tuple[Reason | None, Step | None, Pattern | None, Side | None, SideMovement, SideMovement,
           float | None]:  # fmt: skip
    """Movement per side, the pattern and P(one side weak); or the step to take again and why."""
    left = corner_movement(rest.left, smile.left)
    right = corner_movement(rest.right, smile.right)
    lift_l = rest.left.corner_height - smile.left.corner_height
    lift_r = rest.right.corner_height - smile.right.corner_height
    brow_l = brow_r = None
    if brows is not None:
        brow_l, brow_r = brows.left.brow - rest.left.brow, brows.right.brow - rest.right.brow
    moves = SideMovement(left, lift_l, brow_l), SideMovement(right, lift_r, brow_r)
    if max(left, right) < params.min_smile:
        return Reason.NO_SMILE, "smile", None, None, *moves, None
    if brow_l is not None and brow_r is not None and max(brow_l, brow_r) < params.min_brow_raise:
        return Reason.NO_BROW_RAISE, "brows", None, None, *moves, None
    gaps = movement_gaps(rest, smile, rest_expression, smile_expression)
    p_weak = weak_probability(params, gaps)
    weak: Side = "left" if gaps[0] >= 0 else "right"
    if p_weak < params.clear_below:
        return None, None, "none", None, *moves, p_weak
    if p_weak < params.finding_at:
        return None, None, "unclear", weak, *moves, p_weak
    if brow_l is None or brow_r is None:
        return None, None, "lower_face", weak, *moves, p_weak
    weak_brow, strong_brow = (brow_l, brow_r) if weak == "left" else (brow_r, brow_l)
    if weak_brow < params.brow_fraction * strong_brow:
        return None, None, "bells_type", weak, *moves, p_weak
    return None, None, "stroke_type", weak, *moves, p_weak


def examine(
    params: ExamParams,
    steps: dict[str, ScreeningResult],
    measured: dict[str, StepMeasures],
    sudden_onset: bool | None = None,
) -> ExamResult:
    """The exam from each step's screening result and, where a face was measured, its
    measures and face shape (see Screener.exam)."""
    version = params.version
    for name, result in steps.items():
        if result.status == "rejected" and name not in measured:
            return ExamResult("rejected", Tier.RETAKE, steps, name, result.reason,  # type: ignore[arg-type]
                              exam_version=version)  # fmt: skip
    rest_shape = measured["rest"].shape
    for name in steps:
        if name != "rest" and shape_distance(rest_shape, measured[name].shape, params) > (
            params.same_person_max
        ):
            return ExamResult("rejected", Tier.RETAKE, steps, name, Reason.NOT_SAME_PERSON,  # type: ignore[arg-type]
                              exam_version=version)  # fmt: skip
    brows = measured.get("brows")
    rest, smile = measured["rest"], measured["smile"]
    reason, step, pattern, weak, left, right, p_weak = decide(
        params,
        rest.measures,
        smile.measures,
        None if brows is None else brows.measures,
        rest.expression,
        smile.expression,
    )
    if reason is not None:
        return ExamResult("rejected", Tier.RETAKE, steps, step, reason, left=left, right=right,
                          exam_version=version)  # fmt: skip
    assert pattern is not None and p_weak is not None and params.calibration is not None
    tier = exam_tier(pattern, steps["rest"].label, sudden_onset)
    return ExamResult(
        "ok", tier, steps, pattern=pattern, weak_side=weak,
        smile_ratio=smile_ratio(left.smile, right.smile), left=left, right=right,
        exam_version=version, p_weak=p_weak,
        confidence=params.calibration.confidence(pattern, p_weak),
    )  # fmt: skip


def examine_steps(
    params: ExamParams,
    steps: dict[str, StepMeasures],
    sudden_onset: bool | None = None,
) -> ExamResult:
    """The exam from stored steps (no photos): rest and smile, brows optional. With only rest
    and smile it is the "brows skipped" exam (pattern "lower_face" when one side is weak)."""
    results = {name: step.result() for name, step in steps.items()}
    return examine(params, results, steps, sudden_onset)

"""The grader: facial measures (and, if it earned a weight, the CNN) -> a graded finding.

Every number here is data, fitted by `palsy-train fit-grader` and shipped as
`model/assets/grader.json` with a version and a record of the data behind it (see
`GraderParams.fitted` and the model card). Nothing in this module is a hand-set decision
constant.

How a photo is graded:
1. Each signed measure (`model.measures.asymmetry.FEATURES`: mouth-corner, eye and brow
   positions; `model.measures.expression.FEATURES`: the left-right difference of each paired
   expression score) is divided by its healthy scale (the 95th percentile of its size on
   healthy faces), so 1.0 means "at the edge of the healthy range". Each region's measures are
   turned so that its key measure (`ORIENT`: the mouth-corner height, the brow height) is
   positive, as if the face were mirrored to put the lower side on the left: a droop whose
   measures agree adds up, healthy asymmetries that point different ways cancel.
2. A multinomial logistic regression on those sizes (and optionally the CNN's log-probabilities)
   gives probabilities over the seven classes (`normal` plus the paper's six).
3. P(palsy) = 1 - P(normal). Below `clear_below`: no signs. At or above `finding_at`: a finding.
   Between the two the grader is torn between "no signs" and a finding: unclear. A finding is
   graded severe (an emergency) only beyond `severe_floor`, the largest measure seen on a
   healthy fitting face; below it, at most moderate.
4. A finding's region is the region with the most probability; its severity the most probable
   within that region; its side the side that droops on the region's *position* measure that
   stands furthest outside the healthy range (expression scores move up on a weak side for some
   pairs and down for others, so they never name the side). "Unclear" names the class a finding
   would have had (`Finding.torn`): the grader is torn between it and `normal`.
5. The probabilities shown (`Graded.probabilities`) are the raw ones calibrated on held-out
   people with the verdict on top, and `Graded.confidence` says how sure the answer is
   (`model.decision.confidence`, parameters in `GraderParams.calibration`). The decision itself
   is taken on the raw probabilities: calibration never changes a verdict or a tier.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from model.cnn.softmax import softmax
from model.decision.confidence import CalibrationError, Confidence, GraderCalibration
from model.labels import NORMAL, REGIONS, SEVERITIES, Region, Severity, parse_label
from model.measures import asymmetry, expression
from model.measures.asymmetry import MM_PER_IPD, Measures
from model.measures.expression import Expression

DEFAULT_GRADER = Path(__file__).resolve().parents[1] / "assets" / "grader.json"
FORMAT = "palsy-grader/3"  # 3: `calibration` (issue 21)

Side = Literal["left", "right"]
Decision = Literal["no_signs", "finding", "unclear"]

# Each region's key measure: its sign turns the region's features (see the module docstring).
ORIENT: dict[str, str] = {"mouth": "mouth", "eye": "brow"}
# Every feature a grader may weigh: name -> region.
FEATURES: dict[str, str] = {**asymmetry.FEATURES, **expression.FEATURES}
# Measures that a person is told about, in words, when they stand outside the healthy range.
# Not the eye opening: the mesh does not follow a one-sided lid change (see the grader card).
TOLD: dict[str, Region] = {"mouth": "mouth", "brow": "eye"}


class GraderError(ValueError):
    """The grader file is missing or does not follow its format."""


@dataclass(frozen=True)
class Observation:
    """One measure, for a sentence: `side` is the weaker-looking side (the subject's, as if the
    photo were not mirrored); `relative` is its size over its healthy scale (1.0 = the edge of
    the healthy range)."""

    measure: str
    side: Side
    size_ipd: float
    relative: float = 0.0

    @property
    def size_mm(self) -> float:
        return self.size_ipd * MM_PER_IPD


@dataclass(frozen=True)
class Finding:
    """What the grader decided. `region`, `severity` and `side` are set only for a finding;
    `torn`, only for "unclear": the class a finding would have had. `p_palsy` is the raw score
    the thresholds act on, not a probability to show (see `Graded.confidence`)."""

    decision: Decision
    p_palsy: float
    region: Region | None = None
    severity: Severity | None = None
    side: Side | None = None
    observations: tuple[Observation, ...] = ()
    # The measure that gave a finding its side and held back "severe": the region's measure
    # furthest outside the healthy range.
    decided_by: Observation | None = None
    torn: str | None = None

    @property
    def label(self) -> str | None:
        """The class name: `normal`, `<severity>_<region>`, or None when unclear."""
        if self.decision == "no_signs":
            return NORMAL
        if self.decision == "finding":
            return f"{self.severity}_{self.region}"
        return None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["p_palsy"] = round(self.p_palsy, 4)
        out["observations"] = [_rounded(o) for o in self.observations]
        out["decided_by"] = _rounded(self.decided_by) if self.decided_by else None
        return out


def _rounded(o: Observation) -> dict[str, Any]:
    return {**asdict(o), "size_ipd": round(o.size_ipd, 4), "size_mm": round(o.size_mm, 1),
            "relative": round(o.relative, 3)}  # fmt: skip


@dataclass(frozen=True)
class GraderParams:
    """The fitted grader, as stored in `grader.json`."""

    version: str
    classes: tuple[str, ...]
    features: tuple[str, ...]
    healthy_scale: dict[str, float]
    cnn_classes: tuple[str, ...]  # empty: the CNN has no weight
    weights: list[list[float]]  # [classes, features + cnn_classes]
    bias: list[float]
    clear_below: float
    finding_at: float
    # A finding is graded severe (an emergency) only when a region measure's size exceeds this:
    # the largest size seen on any healthy fitting photo. Below it, at most moderate.
    severe_floor: float = 0.0
    fitted: dict[str, Any] = field(default_factory=dict)
    # Calibrated probabilities and how sure (model.decision.confidence); required in the file.
    calibration: GraderCalibration | None = None

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, **asdict(self)}, indent=1)

    @classmethod
    def from_json(cls, text: str, where: str = "grader") -> GraderParams:
        try:
            raw = json.loads(text)
            if raw.pop("format", None) != FORMAT:
                raise GraderError(f"{where}: not a {FORMAT} file")
            if not raw.get("calibration"):
                raise GraderError(f"{where}: no calibration (fit with palsy-train fit-grader)")
            params = cls(
                **{
                    **raw,
                    "classes": tuple(raw["classes"]),
                    "features": tuple(raw["features"]),
                    "cnn_classes": tuple(raw["cnn_classes"]),
                    "calibration": GraderCalibration.from_dict(raw["calibration"]),
                }
            )
        except (json.JSONDecodeError, TypeError, KeyError, AttributeError) as exc:
            raise GraderError(f"{where}: unreadable grader parameters: {exc!r}") from None
        params.check(where)
        return params

    def check(self, where: str = "grader") -> None:
        width = len(self.features) + len(self.cnn_classes)
        try:
            for name in (*self.classes, *self.cnn_classes):
                parse_label(name)
        except ValueError as exc:
            raise GraderError(f"{where}: {exc}") from None
        if NORMAL not in self.classes:
            raise GraderError(f"{where}: classes must include 'normal': {self.classes}")
        unknown = set(self.features) - set(FEATURES)
        if unknown or set(self.features) - set(self.healthy_scale):
            raise GraderError(f"{where}: unknown or unscaled features {sorted(unknown)}")
        if np.shape(self.weights) != (len(self.classes), width):
            raise GraderError(f"{where}: weights must be [{len(self.classes)}, {width}]")
        if len(self.bias) != len(self.classes):
            raise GraderError(f"{where}: bias must have {len(self.classes)} values")
        if not 0.0 <= self.clear_below <= self.finding_at <= 1.0:
            raise GraderError(f"{where}: need 0 <= clear_below <= finding_at <= 1")
        if self.calibration is None:
            raise GraderError(f"{where}: no calibration (fit with palsy-train fit-grader)")
        try:
            self.calibration.check(self.clear_below, self.finding_at, where)
        except CalibrationError as exc:
            raise GraderError(str(exc)) from None


def features_of(measures: Measures, scores: Expression | None = None) -> dict[str, float]:
    """Every grader feature of one photo (`FEATURES`; the expression ones only with `scores`)."""
    return measures.asymmetries() | (scores.differences() if scores is not None else {})


def feature_sizes(asymmetries: Mapping[str, float], params: GraderParams) -> np.ndarray:
    """Each grader feature over its healthy scale (1.0 = the edge of the healthy range), turned
    by the sign of its region's key measure (so the key measures themselves are sizes)."""
    turn = {r: 1.0 if asymmetries[key] >= 0 else -1.0 for r, key in ORIENT.items()}
    return np.array(
        [turn[FEATURES[f]] * asymmetries[f] / params.healthy_scale[f] for f in params.features]
    )


def design_row(
    asymmetries: Mapping[str, float], cnn: Mapping[str, float] | None, params: GraderParams
) -> np.ndarray:
    """The grader's input vector: feature sizes, then the CNN's log-probabilities if weighted."""
    x = feature_sizes(asymmetries, params)
    if not params.cnn_classes:
        return x
    if cnn is None:
        raise GraderError("this grader weighs the CNN, but no CNN probabilities were given")
    logp = [math.log(max(float(cnn[c]), 1e-6)) for c in params.cnn_classes]
    return np.concatenate([x, logp])


class Grader:
    """Loaded once; `grade` is pure and thread-safe."""

    def __init__(self, params: GraderParams) -> None:
        params.check()
        assert params.calibration is not None  # check() refuses a grader without one
        self.params = params
        self.calibration = params.calibration
        self.weights = np.asarray(params.weights, np.float64)
        self.bias = np.asarray(params.bias, np.float64)
        self.normal = params.classes.index(NORMAL)

    @classmethod
    def load(cls, path: Path | str | None = None) -> Grader:
        path = Path(path) if path is not None else DEFAULT_GRADER
        if not path.is_file():
            raise GraderError(f"grader parameters not found: {path} (fit with palsy-train)")
        return cls(GraderParams.from_json(path.read_text(), str(path)))

    @property
    def uses_cnn(self) -> bool:
        return bool(self.params.cnn_classes)

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        """[N, classes] for design rows [N, width]."""
        return softmax(np.atleast_2d(rows) @ self.weights.T + self.bias)

    def grade(
        self,
        measures: Measures,
        cnn: Mapping[str, float] | None = None,
        scores: Expression | None = None,
    ) -> Graded:
        asym = features_of(measures, scores)
        probs = self.probabilities(design_row(asym, cnn, self.params))[0]
        return self.graded(probs, asym)

    def graded(self, probs: Sequence[float], asym: Mapping[str, float]) -> Graded:
        """The verdict on raw probabilities, with the calibrated ones and how sure it is."""
        finding = self.decide(probs, asym)
        raw = dict(zip(self.params.classes, map(float, probs), strict=True))
        calibrated = self.calibration.apply(raw, finding.decision, finding.label or finding.torn)
        return Graded(
            probabilities=calibrated,
            finding=finding,
            confidence=Confidence.of(
                calibrated[NORMAL], finding.decision, self.calibration.prior_palsy
            ),
            raw_probabilities=raw,
        )

    def decide(self, probs: Sequence[float], asym: Mapping[str, float]) -> Finding:
        p = self.params
        by_class = dict(zip(p.classes, probs, strict=True))
        p_palsy = float(1.0 - by_class[NORMAL])
        observations = self.observations(asym)
        if p_palsy < p.clear_below:
            return Finding("no_signs", p_palsy, observations=observations)
        region, severity, worst = self._would_find(by_class, asym)
        if p_palsy < p.finding_at:
            return Finding("unclear", p_palsy, observations=observations,
                           torn=f"{severity}_{region}")  # fmt: skip
        return Finding("finding", p_palsy, region, severity, worst.side, observations, worst)

    def _would_find(
        self, by_class: Mapping[str, float], asym: Mapping[str, float]
    ) -> tuple[Region, Severity, Observation]:
        """Region, severity and the deciding measure (its side is the finding's) of a finding
        on these probabilities and measures."""
        p = self.params
        in_region = {r: {s: by_class.get(f"{s}_{r}", 0.0) for s in SEVERITIES} for r in REGIONS}
        region = max(REGIONS, key=lambda r: sum(in_region[r].values()))
        severity = max(SEVERITIES, key=lambda s: in_region[region][s])
        # The region's measure furthest outside the healthy range (size 1 = its edge) gives the
        # weaker-looking side, and holds back "severe" unless beyond every healthy face.
        scale = p.healthy_scale
        names = [f for f in p.features if asymmetry.FEATURES.get(f) == region] or [
            f for f, r in asymmetry.FEATURES.items() if r == region and f in scale
        ]
        worst = self._observed(max(names, key=lambda f: abs(asym[f]) / scale[f]), asym)
        if severity == "severe" and worst.relative <= p.severe_floor:
            severity = "moderate"
        return region, severity, worst

    def _observed(self, name: str, asym: Mapping[str, float]) -> Observation:
        value = asym[name]
        relative = abs(value) / self.params.healthy_scale[name]
        return Observation(name, "left" if value > 0 else "right", abs(value), relative)

    def observations(self, asym: Mapping[str, float]) -> tuple[Observation, ...]:
        """Told measures outside the healthy range (beyond their healthy scale), largest first."""
        scale = self.params.healthy_scale
        out = [self._observed(name, asym) for name in TOLD if name in scale]
        return tuple(sorted((o for o in out if o.relative > 1.0), key=lambda o: -o.relative))


@dataclass(frozen=True)
class Graded:
    """`probabilities`: calibrated, the verdict on top; `raw_probabilities`: the fitted model's
    own (what the thresholds act on)."""

    probabilities: dict[str, float]
    finding: Finding
    confidence: Confidence
    raw_probabilities: dict[str, float] = field(default_factory=dict)

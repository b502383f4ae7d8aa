"""How sure the screen is: calibrated probabilities that agree with the verdict, and the words.

The grader's raw class scores are not probabilities to show people: it is fitted with healthy
and palsy photos weighing the same, and its thresholds sit where the policy rates put them (a
photo is told "no signs" up to a raw P(palsy) of ~0.77). `GraderCalibration` turns them into
probabilities that are calibrated on held-out people and put the verdict on top:

1. P(normal): a Platt map of the raw P(normal) (its log-odds scaled and shifted), fitted on
   person-grouped out-of-fold grades with healthy and palsy weighing the same, then a prior
   shift to `prior_palsy`, the share of palsy at which the even bet P(normal) = 1/2 falls midway
   (in log-odds) between the two thresholds. So "no signs" always has P(normal) > 1/2, a
   finding P(normal) < 1/2, and "unclear" is the band around the even bet. The probabilities
   are calibrated for a population with that share of palsy, and say so (`prior_palsy`).
2. The palsy classes share 1 - P(normal): the verdict's class (a finding's, or for "unclear"
   the class a finding would have had) gets a Platt map of its raw share of the palsy
   probability (fitted on that decision path's out-of-fold grades); the other classes split the
   rest in proportion to their raw shares raised to 1 / `temperature`.
3. The verdict on top (`on_top`): "no signs" has `normal` first, a finding its class, "unclear"
   `normal` and the torn class as the first two. Where the steps above leave another class at
   or above them (the card counts how often), the probabilities are mixed with an even split
   over the verdict's classes, by the least share that puts them on top.

`Confidence` is what a person is told: how likely the screen's answer (signs, or no signs) is
right, as a band (`BANDS`: a key the bot's catalogs word, "very_sure" ...) and a number in 10.
"Unclear" is always "not_sure". The FAST exam's `ExamCalibration` does the same for P(one side
weak). Every number is fitted by `palsy-train` (training/grader/fit.py, training/exam/fit.py)
and stored with the grader's and the exam's parameters.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from model.labels import NORMAL

# A probability is never shown as exactly 0 or 1; log-odds are taken inside these bounds.
EPS = 1e-6
# How far (in probability) a class the verdict does not name stays below the verdict's: enough
# to survive rounding to 4 decimals in JSON and the database.
MARGIN = 1e-3
# Rounding allowed when checking that the even bet sits between the thresholds.
TIE = 1e-9

Band = Literal["very_sure", "fairly_sure", "not_sure"]
About = Literal["no_signs", "signs", "unclear"]
# (band, the least number in 10 it takes), first match wins. The number in 10 is the rounded
# probability, so the words and the number always agree.
BANDS: tuple[tuple[Band, int], ...] = (("very_sure", 9), ("fairly_sure", 7), ("not_sure", 0))
IN_10_MOST = 9  # the most a person is told
# palsy-check's words (the bot words the same keys in its own catalogs, in each language).
WORDS: dict[Band, str] = {
    "very_sure": "very sure",
    "fairly_sure": "fairly sure",
    "not_sure": "not sure",
}


class CalibrationError(ValueError):
    """Calibration parameters that cannot put the verdict on top."""


def logit(p: float) -> float:
    p = min(max(float(p), EPS), 1.0 - EPS)
    return math.log(p / (1.0 - p))


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z > -500 else 0.0


def band_of(in_10: int, decided: bool = True) -> Band:
    """The band of a number in 10; an undecided answer ("unclear") is always "not_sure"."""
    if not decided:
        return "not_sure"
    return next(band for band, least in BANDS if in_10 >= least)


@dataclass(frozen=True)
class Confidence:
    """How sure the screen is of its answer. `value`: the calibrated probability that the answer
    is right ("no_signs": P(normal); "signs": P(any palsy class)); for "unclear", the larger of
    the two, with `leaning` saying which. `in_10`: `value` rounded to tenths (at most 9), as
    said to people. `prior`: the share of palsy (or of a weak side) the probability is
    calibrated for."""

    about: About
    value: float
    prior: float
    leaning: Literal["no_signs", "signs"] | None = None

    @property
    def in_10(self) -> int:
        """`value` rounded to tenths, never "10 in 10": a photo cannot rule a stroke in or out,
        and the screen is not validated on real patients."""
        return min(IN_10_MOST, round(self.value * 10))

    @property
    def band(self) -> Band:
        return band_of(self.in_10, self.about != "unclear")

    def words(self) -> str:
        """palsy-check's words (English): "fairly sure, 8 in 10 that there are no signs"."""
        what = "no signs" if (self.leaning or self.about) == "no_signs" else "signs"
        return f"{WORDS[self.band]}, {self.in_10} in 10 that there are {what}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "band": self.band,
            "value": round(self.value, 4),
            "in_10": self.in_10,
            "about": self.about,
            "leaning": self.leaning,
            "prior": round(self.prior, 4),
        }

    @classmethod
    def of(cls, p_no_signs: float, decision: str, prior: float) -> Confidence:
        """From the calibrated probability of "no signs" and the decision path."""
        if decision == "no_signs":
            return cls("no_signs", p_no_signs, prior)
        if decision == "finding":
            return cls("signs", 1.0 - p_no_signs, prior)
        leaning: Literal["no_signs", "signs"] = "no_signs" if p_no_signs >= 0.5 else "signs"
        return cls("unclear", max(p_no_signs, 1.0 - p_no_signs), prior, leaning)


def on_top(probs: Mapping[str, float], verdict: Sequence[str]) -> dict[str, float]:
    """`probs` with every class in `verdict` above every other class by at least `MARGIN`:
    mixed with an even split over the verdict's classes, by the least share that does it (the
    other classes keep their ratios). Unchanged where that already holds."""
    out = dict(probs)
    named = [c for c in dict.fromkeys(verdict) if c in out]
    others = [c for c in out if c not in named]
    if not named or not others:
        return out
    top = max(out[c] for c in others)
    even = 1.0 / len(named)
    # p + mix * (even - p) >= (1 - mix) * top + MARGIN, for each named class: linear in mix.
    needs = [(top + MARGIN - out[c]) / (even - out[c] + top) for c in named]
    mix = max(0.0, *needs) if any(n > 0 for n in needs) else 0.0
    if mix == 0.0:
        return out
    mix = min(1.0, mix * (1 + 1e-9) + 1e-12)  # clear the margin after rounding in float
    return {c: out[c] + mix * ((even if c in named else 0.0) - out[c]) for c in out}


@dataclass(frozen=True)
class Platt:
    """p -> sigmoid(scale * logit(p) + shift)."""

    scale: float
    shift: float

    def __call__(self, p: float, extra: float = 0.0) -> float:
        return sigmoid(self.scale * logit(p) + self.shift + extra)


@dataclass(frozen=True)
class GraderCalibration:
    """The grader's calibration (stored in `grader.json`, fitted by `palsy-train fit-grader`)."""

    normal: Platt  # raw P(normal) -> P(normal), healthy and palsy weighing the same
    prior_palsy: float  # the share of palsy the shown probabilities are calibrated for
    finding_class: Platt  # a finding's class: its raw share of P(palsy) -> its share
    unclear_class: Platt  # "unclear": the torn class's raw share -> its share
    temperature: float  # the other palsy classes: raw shares ** (1 / temperature)
    fitted: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def uncalibrated(cls, clear_below: float, finding_at: float) -> GraderCalibration:
        """The raw probabilities, with only the prior shift that puts the even bet midway
        between the thresholds (for graders fitted without out-of-fold data, e.g. tests)."""
        identity = Platt(1.0, 0.0)
        prior = even_bet_prior(identity, clear_below, finding_at)
        return cls(identity, prior, identity, identity, 1.0,
                   {"method": "none: the raw probabilities, prior-shifted"})  # fmt: skip

    @property
    def prior_shift(self) -> float:
        """Added to the log-odds of normal (fitted at even odds) for `prior_palsy`."""
        return math.log((1.0 - self.prior_palsy) / self.prior_palsy)

    def p_normal(self, raw_normal: float) -> float:
        return self.normal(raw_normal, self.prior_shift)

    def check(self, clear_below: float, finding_at: float, where: str) -> None:
        """Refuse parameters that could disagree with the verdict."""
        if not 0.0 < self.prior_palsy < 1.0 or self.temperature <= 0:
            raise CalibrationError(f"{where}: need 0 < prior_palsy < 1 and temperature > 0")
        if min(self.normal.scale, self.finding_class.scale, self.unclear_class.scale) <= 0:
            raise CalibrationError(f"{where}: every Platt scale must be positive (monotone)")
        # The map rises with the raw P(normal): checking it at the two thresholds covers every
        # photo on either side of them (equal thresholds: the even bet is the threshold).
        low, high = self.p_normal(1.0 - finding_at), self.p_normal(1.0 - clear_below)
        if high < 0.5 - TIE or low > 0.5 + TIE:
            raise CalibrationError(
                f"{where}: the even bet must fall between the thresholds (no signs above it, a "
                f"finding below): P(normal) {self.p_normal(1.0 - clear_below):.3f} at "
                f"clear_below, {self.p_normal(1.0 - finding_at):.3f} at finding_at"
            )

    def apply(
        self, raw: Mapping[str, float], decision: str, named: str | None, ordered: bool = True
    ) -> dict[str, float]:
        """Calibrated probabilities over `raw`'s classes, the verdict on top. `named`: the
        verdict's palsy class (a finding's label, or the torn class of "unclear"). `ordered`
        False skips step 3 (training counts how often it acts)."""
        p_normal = self.p_normal(raw[NORMAL])
        palsy = [c for c in raw if c != NORMAL]
        total = sum(raw[c] for c in palsy)
        share = {c: raw[c] / total if total > 0 else 1.0 / len(palsy) for c in palsy}
        weight = {c: max(share[c], EPS) ** (1.0 / self.temperature) for c in palsy}
        if decision == "no_signs" or named is None:
            norm = sum(weight.values())
            split = {c: weight[c] / norm for c in palsy}
        else:
            platt = self.finding_class if decision == "finding" else self.unclear_class
            own = platt(share[named])
            rest = sum(weight[c] for c in palsy if c != named)
            split = {c: own if c == named else (1.0 - own) * weight[c] / rest for c in palsy}
        probs = {NORMAL: p_normal} | {c: (1.0 - p_normal) * split[c] for c in palsy}
        if not ordered:
            return probs
        verdict: dict[str, list[str | None]] = {
            "no_signs": [NORMAL], "finding": [named], "unclear": [NORMAL, named],
        }  # fmt: skip
        return on_top(probs, [c for c in verdict.get(decision, []) if c is not None])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> GraderCalibration:
        """Raises KeyError / TypeError for anything `to_dict` did not write."""
        return cls(
            normal=Platt(**raw["normal"]),
            prior_palsy=float(raw["prior_palsy"]),
            finding_class=Platt(**raw["finding_class"]),
            unclear_class=Platt(**raw["unclear_class"]),
            temperature=float(raw["temperature"]),
            fitted=dict(raw.get("fitted", {})),
        )


def even_bet_prior(normal: Platt, clear_below: float, finding_at: float) -> float:
    """The share of palsy at which P(normal) = 1/2 falls midway (in log-odds) between the raw
    P(normal) at the two thresholds, for a map fitted at even odds."""
    middle = (logit(1.0 - clear_below) + logit(1.0 - finding_at)) / 2
    # sigmoid(scale * middle + shift + log((1 - prior) / prior)) = 1/2
    return sigmoid(normal.scale * middle + normal.shift)


@dataclass(frozen=True)
class ExamCalibration:
    """P(one side weak) of the FAST exam's smile, calibrated (stored in `exam.json`)."""

    weak: Platt  # raw P(weak) -> P(weak), healthy pairs and smile failures weighing the same
    prior_weak: float  # the share of weak smiles it is calibrated for (even bet mid-band)
    fitted: dict[str, Any] = field(default_factory=dict)

    @property
    def prior_shift(self) -> float:
        return math.log(self.prior_weak / (1.0 - self.prior_weak))

    def p_weak(self, raw: float) -> float:
        return self.weak(raw, self.prior_shift)

    def check(self, clear_below: float, finding_at: float, where: str) -> None:
        if not 0.0 < self.prior_weak < 1.0 or self.weak.scale <= 0:
            raise CalibrationError(f"{where}: need 0 < prior_weak < 1 and a positive scale")
        if self.p_weak(clear_below) > 0.5 + TIE or self.p_weak(finding_at) < 0.5 - TIE:
            raise CalibrationError(
                f"{where}: the even bet must fall between the thresholds: P(weak) "
                f"{self.p_weak(clear_below):.3f} at clear_below, {self.p_weak(finding_at):.3f} "
                "at finding_at"
            )

    def confidence(self, pattern: str, raw_p_weak: float) -> Confidence:
        """How sure the exam is of its pattern: "none" is "no signs", a weak side is "signs"."""
        p_fine = 1.0 - self.p_weak(raw_p_weak)
        decision = {"none": "no_signs", "unclear": "unclear"}.get(pattern, "finding")
        return Confidence.of(p_fine, decision, self.prior_weak)

    @classmethod
    def uncalibrated(cls, clear_below: float, finding_at: float) -> ExamCalibration:
        identity = Platt(1.0, 0.0)
        middle = (logit(clear_below) + logit(finding_at)) / 2
        return cls(identity, sigmoid(-middle), {"method": "none: raw, prior-shifted"})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ExamCalibration:
        return cls(Platt(**raw["weak"]), float(raw["prior_weak"]), dict(raw.get("fitted", {})))

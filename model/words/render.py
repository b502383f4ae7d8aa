"""Results -> reply text (HTML), in the user's language and wording. Pure functions.

Every reply puts what to do first. An emergency is short (the number first, why, the one thing
seen, the other signs, the disclaimer) and carries nothing else: no offer, no notice that could
make a person doubt the one instruction that matters. Other outcomes end with the
not-validated notice and the disclaimer. What is said, offered and when is decided in
model.decision (onset, followup, told); here it only becomes words.
"""

from __future__ import annotations

from collections.abc import Mapping

from model.decision.confidence import Confidence
from model.decision.exam import ExamResult
from model.decision.grader import Finding
from model.decision.onset import OnsetAdvice
from model.decision.told import photo_side, told
from model.decision.triage import Tier
from model.labels import NORMAL, PAPER_CLASSES
from model.measures.asymmetry import MM_PER_IPD
from model.reasons import Reason
from model.result import ModelInfo, ScreeningResult
from model.words.catalog import Texts


def seen_lines(t: Texts, finding: Finding | None) -> list[str]:
    """The one finding that decided, in words, named by its side in the photo; a second part
    only beside it (model.decision.told)."""
    fact = told(finding)
    if fact is None:
        return []
    side, how = t(f"side.{fact.photo_side}"), t(f"size.{fact.size}")
    lines = [t(f"seen.{fact.part}", side=side, how=how)]
    if fact.also is not None:
        lines.append(t(f"seen.also.{fact.also}"))
    return lines


def sure_lines(t: Texts, confidence: Confidence | None) -> list[str]:
    """How sure the screen is, in words with the number in 10 (model.decision.confidence); none
    where nothing was graded."""
    if confidence is None:
        return []
    return [t("sure.line", how=t(f"sure.{confidence.band}"), n=confidence.in_10)]


def measured_even(finding: Finding | None) -> bool:
    """Measures were taken and none is past healthy variation."""
    return finding is not None and not finding.observations


def notices(t: Texts, model: ModelInfo | None) -> list[str]:
    """Closes every reply with an outcome that is not an emergency."""
    validated = model is not None and model.clinically_validated
    return [t("disclaimer")] if validated else [t("not_validated"), t("disclaimer")]


def emergency(t: Texts, *why: str) -> str:
    """The emergency reply: the number, why, the other stroke signs, the disclaimer."""
    return "\n".join([t("emergency.first"), *why, "", t("befast"), t("disclaimer")])


def distress_text(t: Texts) -> str:
    """Words of distress in a message: the number, why it matters, then (only then) a photo."""
    return "\n".join([t("emergency.first"), t("distress.reply"), "", t("distress.photo")])


def rejection(t: Texts, reason: Reason | None) -> str:
    """The photo could not be checked: why, and what to try."""
    tip = [t(f"reject.{reason.value}")] if reason else []
    return "\n".join([t("reject.title"), *tip, "", t("emergency.footer"), t("disclaimer")])


def unclear_text(t: Texts, result: ScreeningResult, closer: bool) -> str:
    """Checked, but no clear answer: the face test helps most here (when it can be offered)."""
    next_step = t("exam.more") if closer else t("reject.low_confidence")
    lines = [t("unclear.title"), *sure_lines(t, result.confidence), next_step, "",
             t("emergency.footer")]  # fmt: skip
    return "\n".join([*lines, *notices(t, result.model)])


def result_text(t: Texts, result: ScreeningResult, closer: bool = False) -> str:
    """The whole reply for one photo; `closer`: the reply carries the closer-check button."""
    if result.reason is Reason.LOW_CONFIDENCE:
        return unclear_text(t, result, closer)
    if result.tier is Tier.RETAKE or result.status != "ok" or not result.label:
        return rejection(t, result.reason)
    seen = seen_lines(t, result.finding)
    if result.tier is Tier.EMERGENCY:  # how sure is not said: nothing may weigh against "call"
        return emergency(t, t("tier.emergency"), *seen)
    sure = sure_lines(t, result.confidence)
    if result.tier is Tier.NO_SIGNS:
        even = [t("asym.even")] if measured_even(result.finding) else []
        lines = [t("result.no_signs"), *even, *sure, "", t("tier.no_signs")]
        offer = t("exam.still_worried")
    else:
        lines = [t(f"tier.{result.tier.value}"), "", t("result.finding"), *seen, *sure]
        offer = t("exam.more")
    if closer:
        lines += ["", offer]
    return "\n".join([*lines, "", *notices(t, result.model)])


def onset_when_text(t: Texts) -> str:
    """The second onset question; the number stays in sight while the person answers."""
    return "\n".join([t("onset.when"), "", t("emergency.footer")])


def onset_answer_text(t: Texts, advice: OnsetAdvice, model: ModelInfo | None) -> str:
    """The answer once the onset questions are done (model.decision.onset): it says back what
    the person answered, then what to do."""
    said = t(f"onset.said.{advice.said}")
    if advice.tier is Tier.EMERGENCY:
        return emergency(t, said)
    return "\n".join([said, t("onset.worse"), "", *notices(t, model)])


# Patterns whose own sentence says why it is an emergency.
STROKE_SIGNS = ("stroke_type", "lower_face", "bells_type")


def exam_seen(t: Texts, exam: ExamResult) -> list[str]:
    """What the face test found, in words: the pattern, the weak side by its place in the
    photos (sizes in mm are not shown: they mean little to most readers)."""
    side = t(f"side.{photo_side(exam.weak_side)}") if exam.weak_side else ""
    lines = [t("exam.title"), t(f"exam.pattern.{exam.pattern}", side=side)]
    if exam.pattern == "lower_face":  # only when the brow step was skipped
        lines.append(t("exam.brows_skipped"))
    return lines


def exam_text(t: Texts, exam: ExamResult, model: ModelInfo | None) -> str:
    """The one reply to a finished face test: the action first, then what was seen."""
    seen = exam_seen(t, exam)
    if exam.tier is Tier.EMERGENCY:
        # An even smile under an emergency: the resting photo alone decided it.
        why = [] if exam.pattern in STROKE_SIGNS else [t("tier.emergency")]
        return emergency(t, *why, *seen)
    seen += sure_lines(t, exam.confidence)
    if exam.tier is Tier.RETAKE:  # pattern "unclear": neither clearly even nor one-sided
        lines = [*seen, "", t("exam.again"), t("emergency.footer")]
    elif exam.tier is Tier.NO_SIGNS:
        lines = [*seen, "", t("tier.no_signs")]
    else:
        lines = [t(f"tier.{exam.tier.value}"), "", *seen]
    return "\n".join([*lines, "", *notices(t, model)])


# The measures the details show, in the order a person looks: mouth, eyebrows, eyes.
DETAIL_MEASURES = ("mouth", "brow", "eye")


def percent(p: float) -> str:
    """A probability as a whole percentage, in Telegram's HTML; never "0%" or "100%" (a photo
    rules nothing out)."""
    return "&lt;1%" if p < 0.005 else "&gt;99%" if p > 0.995 else f"{round(p * 100)}%"


def details_text(
    t: Texts, probabilities: Mapping[str, float], asymmetry: Mapping[str, float]
) -> str:
    """The "Details" of a checked photo, from what the result log keeps of it: how likely each
    of the seven answers is (calibrated, most likely first), and the left-right differences in
    mm."""
    known = [c for c in (NORMAL, *PAPER_CLASSES) if c in probabilities]
    ranked = sorted(known, key=lambda c: -float(probabilities[c]))
    lines = [t("details.title"), "", t("details.chances")]
    lines += [f"{t(f'details.class.{c}')}: {percent(float(probabilities[c]))}" for c in ranked]
    sizes = [
        t(f"details.{m}", size=f"{abs(float(asymmetry[m])) * MM_PER_IPD:.0f}")
        for m in DETAIL_MEASURES
        if m in asymmetry
    ]
    if sizes:
        lines += ["", t("details.measured"), *sizes, t("details.assumed")]
    return "\n".join([*lines, "", t("disclaimer")])

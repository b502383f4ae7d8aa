"""ScreeningResult -> the reply text (HTML), in the user's language. Pure functions.

Every reply fits one phone screen and puts what to do first; the parts are small functions so
that each can change on its own (finding sentences, details, notices).
"""

from __future__ import annotations

from bot.i18n import Texts
from model.decision.exam import ExamResult
from model.decision.grader import Finding
from model.decision.triage import Began, Sudden, Tier
from model.labels import parse_label
from model.measures.asymmetry import MM_PER_IPD
from model.reasons import Reason
from model.result import ModelInfo, ScreeningResult


def asymmetry_sentences(t: Texts, finding: Finding | None) -> list[str]:
    """The measures model/ found outside the healthy range, in words and mm, naming the
    person's own side. Which ones are worth a sentence is decided in model.decision.grader."""
    if finding is None:
        return []
    return [
        t(f"asym.{o.measure}.{o.side}", mm=max(1, round(o.size_mm))) for o in finding.observations
    ]


def measured_even(finding: Finding | None) -> bool:
    """Measures were taken and none is past healthy variation."""
    return finding is not None and not finding.observations


def outcome_notices(t: Texts, model: ModelInfo | None) -> list[str]:
    """Closes every reply that carries an outcome (finding, no signs, unclear, onset answer)."""
    validated = model is not None and model.clinically_validated
    return [t("disclaimer")] if validated else [t("not_validated"), t("disclaimer")]


def emergency_header(t: Texts) -> list[str]:
    return [t("emergency.first"), ""]


def rejection(t: Texts, reason: Reason | None) -> str:
    """The photo could not be checked: why, and what to try."""
    tip = [t(f"reject.{reason.value}")] if reason else []
    return "\n".join([t("reject.title"), *tip, "", t("emergency.footer"), t("disclaimer")])


def unclear_text(t: Texts, result: ScreeningResult) -> str:
    """The photo was checked but gave no clear answer: say so, what to try, the number."""
    lines = [t("unclear.title"), t("reject.low_confidence"), "", t("emergency.footer")]
    return "\n".join([*lines, *outcome_notices(t, result.model)])


def finding_lines(t: Texts, result: ScreeningResult) -> list[str]:
    """What was seen: the finding in words, then the measured differences."""
    region, severity = parse_label(result.label or "")
    if region is None or severity is None:
        even = measured_even(result.finding)
        return [t("result.no_signs"), *([t("asym.even")] if even else [])]
    headline = t("result.finding", severity=t(f"severity.{severity}"), region=t(f"region.{region}"))
    return [headline, *asymmetry_sentences(t, result.finding)]


def result_text(t: Texts, result: ScreeningResult) -> str:
    """The whole reply for one photo: the action first, then what was seen, then details."""
    if result.reason is Reason.LOW_CONFIDENCE:
        return unclear_text(t, result)
    if result.tier is Tier.RETAKE or result.status != "ok" or not result.label:
        return rejection(t, result.reason)
    advice = t(f"tier.{result.tier.value}")
    found = finding_lines(t, result)
    if result.tier is Tier.EMERGENCY:
        lines = [*emergency_header(t), advice, "", *found, "", t("befast")]
    elif result.tier is Tier.NO_SIGNS:
        lines = [*found, "", advice]
    else:
        lines = [advice, "", *found]
    # No class percentages: they are the grader's internal scores (fitted with equal weight on
    # healthy and palsy), and a "no signs 30 %" beside "no signs" would only confuse. They stay
    # in the result log and palsy-check --json.
    lines += ["", *outcome_notices(t, result.model)]
    return "\n".join(lines)


def onset_when_text(t: Texts) -> str:
    """The second onset question; the number stays in sight while the person answers."""
    return "\n".join([t("onset.when"), "", t("emergency.footer")])


def onset_answer_text(
    t: Texts,
    tier: Tier,
    sudden: Sudden,
    began: Began | None,
    model: ModelInfo | None,
) -> str:
    """The answer once the onset questions are done, for the tier `model.decision.triage.onset_tier`
    gave: an emergency leads with the number and the stroke signs."""
    if tier is Tier.EMERGENCY:
        if sudden is Sudden.YES:
            why = [t("onset.answer_yes")]
        elif began is Began.HOURS:
            why = [t("onset.answer_recent")]
        else:
            why = [t("onset.answer_no")]
        lines = [*emergency_header(t), *why, "", t("befast")]
    elif tier is Tier.URGENT:
        lines = [t("onset.answer_today"), t("emergency.footer")]
    else:
        lines = [t("onset.answer_no")]
    return "\n".join([*lines, *outcome_notices(t, model)])


# Ask "did it start suddenly?" after any finding other than NO_SIGNS (a photo or a face test).
FINDING_TIERS = (Tier.SOON, Tier.URGENT, Tier.EMERGENCY)


def asks_onset(result: ScreeningResult) -> bool:
    return result.tier in FINDING_TIERS


def _mm(ipd: float) -> int:
    """A movement in whole mm; a corner that went down "rose" 0 mm."""
    return max(0, round(ipd * MM_PER_IPD))


def exam_seen(t: Texts, exam: ExamResult) -> list[str]:
    """What the face test measured: each side's movement in mm, then the pattern in words."""
    lines = [t("exam.title")]
    left, right = exam.left, exam.right
    if left is not None and right is not None:
        lines.append(t("exam.mouth", left=_mm(left.lift), right=_mm(right.lift)))
        if left.brow is not None and right.brow is not None:
            lines.append(t("exam.brows", left=_mm(left.brow), right=_mm(right.brow)))
    side = t(f"side.{exam.weak_side}") if exam.weak_side else ""
    lines.append(t(f"exam.pattern.{exam.pattern}", side=side))
    if exam.pattern == "lower_face":  # only when the brow step was skipped
        lines.append(t("exam.brows_skipped"))
    return lines


def exam_text(t: Texts, exam: ExamResult, model: ModelInfo | None) -> str:
    """The one reply to a finished face test: the action first, then what moved how much."""
    seen = exam_seen(t, exam)
    if exam.tier is Tier.EMERGENCY:
        lines = [*emergency_header(t), t("tier.emergency"), "", *seen]
    elif exam.tier is Tier.RETAKE:  # pattern "unclear": neither clearly even nor one-sided
        lines = [*seen, "", t("exam.again"), t("emergency.footer")]
    elif exam.tier is Tier.NO_SIGNS:
        lines = [*seen, "", t("tier.no_signs")]
    else:
        lines = [t(f"tier.{exam.tier.value}"), "", *seen]
    return "\n".join([*lines, "", t("befast"), *outcome_notices(t, model)])

"""ScreeningResult -> the reply text (HTML), in the user's language. Pure functions.

Every reply fits one phone screen and puts what to do first; the parts are small functions so
that each can change on its own (finding sentences, details, notices).
"""

from __future__ import annotations

from bot.i18n import Texts
from model.asymmetry import WEAKER_SIDE_MIN
from model.labels import parse_label
from model.reasons import Reason
from model.result import ModelInfo, ScreeningResult
from model.triage import Began, Sudden, Tier

# Asymmetry below this (inter-pupil distances, ~3 mm) is within healthy variation: no sentence.
MIN_ASYMMETRY = WEAKER_SIDE_MIN
ASYMMETRY_FEATURES = ("mouth", "eye", "brow")


def class_name(t: Texts, name: str) -> str:
    try:
        return t(f"class.{name}")
    except KeyError:  # a model with classes we have no words for: show its own name
        return name


def details_line(t: Texts, probabilities: dict[str, float]) -> str:
    """Every class's probability on one small line, best first (no bars: one screen)."""
    ranked = sorted(probabilities.items(), key=lambda item: item[1], reverse=True)
    parts = " · ".join(f"{class_name(t, name)} {p * 100:.0f}%" for name, p in ranked)
    return f"<i>{t('result.confidence')} {parts}</i>"


def asymmetry_sentences(t: Texts, asymmetry: dict[str, float | str]) -> list[str]:
    """Plain-words findings, naming the subject's side (see model.asymmetry)."""
    out = []
    for feature in ASYMMETRY_FEATURES:
        side = asymmetry.get(f"{feature}_lower_side")
        size = asymmetry.get(f"{feature}_asymmetry")
        if side in ("left", "right") and isinstance(size, float) and size >= MIN_ASYMMETRY:
            out.append(t(f"asym.{feature}.{side}"))
    return out


def measured_even(asymmetry: dict[str, float | str]) -> bool:
    """Measures were taken and none is past healthy variation."""
    sizes = [asymmetry.get(f"{feature}_asymmetry") for feature in ASYMMETRY_FEATURES]
    measured = [s for s in sizes if isinstance(s, float)]
    return bool(measured) and all(s < MIN_ASYMMETRY for s in measured)


def outcome_notices(t: Texts, model: ModelInfo | None) -> list[str]:
    """Closes every reply that carries an outcome (finding, no signs, unclear, onset answer)."""
    validated = model is not None and model.clinically_validated
    return [t("disclaimer")] if validated else [t("not_validated"), t("disclaimer")]


def emergency_header(t: Texts) -> list[str]:
    return [t("emergency.first"), ""]


def rejection(t: Texts, reason: Reason | None) -> str:
    """The photo could not be checked: why, and what to try."""
    tip = [t(f"reject.{reason.value}")] if reason else []
    return "\n".join([t("reject.title"), *tip, "", t("emergency.footer")])


def unclear_text(t: Texts, result: ScreeningResult) -> str:
    """The photo was checked but gave no clear answer: say so, what to try, the number."""
    lines = [t("unclear.title"), t("reject.low_confidence"), "", t("emergency.footer")]
    return "\n".join([*lines, *outcome_notices(t, result.model)])


def finding_lines(t: Texts, result: ScreeningResult) -> list[str]:
    """What was seen: the finding in words, then the measured differences."""
    region, severity = parse_label(result.label or "")
    if region is None or severity is None:
        even = measured_even(result.asymmetry)
        return [t("result.no_signs"), *([t("asym.even")] if even else [])]
    headline = t("result.finding", severity=t(f"severity.{severity}"), region=t(f"region.{region}"))
    return [headline, *asymmetry_sentences(t, result.asymmetry)]


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
    lines += ["", details_line(t, result.probabilities), *outcome_notices(t, result.model)]
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
    """The answer once the onset questions are done, for the tier `model.triage.onset_tier`
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


def asks_onset(result: ScreeningResult) -> bool:
    """Ask "did it start suddenly?" after any finding other than NO_SIGNS."""
    return result.tier in (Tier.SOON, Tier.URGENT, Tier.EMERGENCY)

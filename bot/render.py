"""ScreeningResult -> the reply text (HTML), in the user's language. Pure functions."""

from __future__ import annotations

from bot.i18n import Texts
from model.grader import Finding
from model.labels import parse_label
from model.reasons import Reason
from model.result import ScreeningResult
from model.triage import Tier

BAR_CELLS = 10


def bar(probability: float, cells: int = BAR_CELLS) -> str:
    filled = round(max(0.0, min(1.0, probability)) * cells)
    return "█" * filled + "░" * (cells - filled)


def confidence_lines(t: Texts, probabilities: dict[str, float]) -> list[str]:
    """One compact line per class, best first: `█████░░░░░  52% mild, eye`."""
    ranked = sorted(probabilities.items(), key=lambda item: item[1], reverse=True)
    return [f"<code>{bar(p)} {p * 100:3.0f}%</code> {class_name(t, name)}" for name, p in ranked]


def class_name(t: Texts, name: str) -> str:
    try:
        return t(f"class.{name}")
    except KeyError:  # a model with classes we have no words for: show its own name
        return name


def asymmetry_sentences(t: Texts, finding: Finding | None) -> list[str]:
    """The measures model/ found outside the healthy range, in words and mm, naming the
    person's own side. Which ones are worth a sentence is decided in model.grader."""
    if finding is None:
        return []
    return [
        t(f"asym.{o.measure}.{o.side}", mm=max(1, round(o.size_mm))) for o in finding.observations
    ]


def rejection(t: Texts, reason: Reason | None) -> str:
    reason = reason or Reason.LOW_CONFIDENCE
    return "\n".join(
        [t("reject.title"), t(f"reject.{reason.value}"), "", t("emergency.footer"), t("disclaimer")]
    )


def emergency_header(t: Texts) -> list[str]:
    return [t("emergency.first"), "", t("befast"), ""]


def result_text(t: Texts, result: ScreeningResult) -> str:
    """The whole reply for one screened photo."""
    if result.tier is Tier.RETAKE or result.status != "ok" or not result.label:
        return rejection(t, result.reason)
    lines: list[str] = emergency_header(t) if result.tier is Tier.EMERGENCY else []
    region, severity = parse_label(result.label)
    if region is None or severity is None:
        lines.append(t("result.no_signs"))
    else:
        lines.append(
            t("result.finding", severity=t(f"severity.{severity}"), region=t(f"region.{region}"))
        )
    lines += ["", t("result.confidence"), *confidence_lines(t, result.probabilities)]
    asym = asymmetry_sentences(t, result.finding)
    if asym:
        lines += ["", *asym]
    lines += ["", t(f"tier.{result.tier.value}")]
    if result.model is not None and not result.model.clinically_validated:
        lines.append(t("not_validated"))
    lines.append(t("disclaimer"))
    return "\n".join(lines)


def onset_answer_text(t: Texts, sudden: bool) -> str:
    """Any sudden facial droop is an emergency (BE-FAST): the number first, then the signs."""
    if sudden:
        return "\n".join([*emergency_header(t), t("onset.answer_yes"), t("disclaimer")])
    return "\n".join([t("onset.answer_no"), t("disclaimer")])


def asks_onset(result: ScreeningResult) -> bool:
    """Ask "did it start suddenly?" after any finding other than NO_SIGNS."""
    return result.tier in (Tier.SOON, Tier.URGENT, Tier.EMERGENCY)

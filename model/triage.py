"""Urgency tiers: a pure function of the finding and the user's onset answer."""

from __future__ import annotations

from enum import StrEnum

from model.labels import parse_label

# Below this top-class probability the finding is too uncertain to act on: ask for a retake.
# 0.5 means the model must favour one class over all others combined.
MIN_CONFIDENCE = 0.5


class Tier(StrEnum):
    EMERGENCY = "emergency"
    URGENT = "urgent"
    SOON = "soon"
    NO_SIGNS = "no_signs"
    RETAKE = "retake"


_BY_SEVERITY = {"severe": Tier.EMERGENCY, "moderate": Tier.URGENT, "mild": Tier.SOON}


def triage(
    label: str | None,
    top_probability: float | None,
    sudden_onset: bool | None = None,
    *,
    min_confidence: float = MIN_CONFIDENCE,
) -> Tier:
    """Map a finding to a tier.

    `label is None` means the photo failed decoding or the quality gate. A finding the user
    says started suddenly is an emergency whatever its severity (BE-FAST): only a confident
    `normal` stays NO_SIGNS, because there is then no finding to escalate.
    """
    if label is None or top_probability is None or top_probability < min_confidence:
        return Tier.RETAKE
    severity = parse_label(label).severity
    if severity is None:
        return Tier.NO_SIGNS
    if sudden_onset:
        return Tier.EMERGENCY
    return _BY_SEVERITY[severity]


class Sudden(StrEnum):
    """The answer to "did it start suddenly?"."""

    YES = "yes"
    NO = "no"
    UNSURE = "unsure"


class Began(StrEnum):
    """The answer to "when did it begin?"."""

    HOURS = "hours"  # in the last few hours
    DAYS = "days"  # today or yesterday
    LONGER = "longer"  # longer ago


# Most to least urgent; an onset answer can only move a finding up this list.
_ORDER = (Tier.EMERGENCY, Tier.URGENT, Tier.SOON, Tier.NO_SIGNS, Tier.RETAKE)


def _most_urgent(*tiers: Tier) -> Tier:
    return min(tiers, key=_ORDER.index)


def onset_tier(
    label: str | None,
    top_probability: float | None,
    sudden: Sudden,
    began: Began | None = None,
    *,
    min_confidence: float = MIN_CONFIDENCE,
) -> Tier:
    """The tier of a finding once the person has said how and when it began.

    Sudden and recent are separate questions: a stroke noticed the next morning is still a
    stroke. So "sudden" is an EMERGENCY whenever it began (BE-FAST). Weakness that is only
    hours old is one too, however it came on (people misjudge "sudden"; treatment windows are
    hours). "Not sure", or a start today or yesterday, is at least URGENT. Only a gradual start
    longer ago keeps the finding's own tier. No answer ever lowers a tier; without a finding
    (NO_SIGNS, RETAKE) there is nothing to escalate.
    """
    base = triage(label, top_probability, min_confidence=min_confidence)
    if base in (Tier.NO_SIGNS, Tier.RETAKE):
        return base
    if sudden is Sudden.YES or began is Began.HOURS:
        return Tier.EMERGENCY
    if sudden is Sudden.UNSURE or began is Began.DAYS:
        return _most_urgent(base, Tier.URGENT)
    return base

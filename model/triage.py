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

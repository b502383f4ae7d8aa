"""Urgency tiers: a pure function of the finding and the user's onset answer. The one place a
tier is decided."""

from __future__ import annotations

from enum import StrEnum

from model.labels import parse_label


class Tier(StrEnum):
    EMERGENCY = "emergency"
    URGENT = "urgent"
    SOON = "soon"
    NO_SIGNS = "no_signs"
    RETAKE = "retake"


_BY_SEVERITY = {"severe": Tier.EMERGENCY, "moderate": Tier.URGENT, "mild": Tier.SOON}


def triage(label: str | None, sudden_onset: bool | None = None) -> Tier:
    """Map the grader's label to a tier.

    `label is None` means no decision: the photo failed decoding or the quality gate, or the
    grader was torn (unclear). A finding the user says started suddenly is an emergency whatever
    its severity (BE-FAST): only `normal` stays NO_SIGNS, because there is then no finding to
    escalate.
    """
    if label is None:
        return Tier.RETAKE
    severity = parse_label(label).severity
    if severity is None:
        return Tier.NO_SIGNS
    if sudden_onset:
        return Tier.EMERGENCY
    return _BY_SEVERITY[severity]

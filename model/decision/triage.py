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


def triage(label: str | None, sudden_onset: bool | None = None, unclear: bool = False) -> Tier:
    """Map the grader's label to a tier.

    `label is None` means no decision: the photo failed decoding or the quality gate, or, with
    `unclear`, the grader was torn between "no signs" and a finding. A finding the user says
    started suddenly is an emergency whatever its severity (BE-FAST), and so is a face the
    grader could not clear: only `normal` stays NO_SIGNS, because there is then nothing to
    escalate.
    """
    if label is None:
        return Tier.EMERGENCY if unclear and sudden_onset else Tier.RETAKE
    severity = parse_label(label).severity
    if severity is None:
        return Tier.NO_SIGNS
    if sudden_onset:
        return Tier.EMERGENCY
    return _BY_SEVERITY[severity]


# Most to least urgent.
_ORDER = (Tier.EMERGENCY, Tier.URGENT, Tier.SOON, Tier.NO_SIGNS, Tier.RETAKE)


def _most_urgent(*tiers: Tier) -> Tier:
    return min(tiers, key=_ORDER.index)


def exam_tier(pattern: str, rest_label: str | None, sudden_onset: bool | None = None) -> Tier:
    """The FAST exam's tier: never below what the resting photo alone would say.

    A weak lower face is an emergency when the forehead moves on both sides (stroke-type) or was
    not tested; with the forehead weak too (Bell's-type) it is urgent, an emergency if sudden
    (some strokes look like Bell's palsy). `unclear`: the smile was neither clearly even nor
    clearly one-sided.
    """
    rest = triage(rest_label, sudden_onset)
    if pattern in ("stroke_type", "lower_face"):
        return Tier.EMERGENCY
    if pattern == "bells_type":
        return Tier.EMERGENCY if sudden_onset else _most_urgent(rest, Tier.URGENT)
    if rest in (Tier.EMERGENCY, Tier.URGENT, Tier.SOON):
        return rest
    if pattern == "unclear":
        return Tier.EMERGENCY if sudden_onset else Tier.RETAKE
    return Tier.NO_SIGNS

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


def onset_tier(label: str | None, sudden: Sudden, began: Began | None = None) -> Tier:
    """The tier of a finding once the person has said how and when it began.

    Sudden and recent are separate questions: a stroke noticed the next morning is still a
    stroke. So "sudden" is an EMERGENCY whenever it began (BE-FAST). Weakness that is only
    hours old is one too, however it came on (people misjudge "sudden"; treatment windows are
    hours). "Not sure", or a start today or yesterday, is at least URGENT. Only a gradual start
    longer ago keeps the finding's own tier. No answer ever lowers a tier; without a finding
    (NO_SIGNS, RETAKE) there is nothing to escalate.
    """
    return escalate(triage(label), sudden, began)


def escalate(base: Tier, sudden: Sudden, began: Began | None = None) -> Tier:
    """`onset_tier` from a tier already decided (a finding's, or the FAST exam's)."""
    if base in (Tier.NO_SIGNS, Tier.RETAKE):
        return base
    if sudden is Sudden.YES or began is Began.HOURS:
        return Tier.EMERGENCY
    if sudden is Sudden.UNSURE or began is Began.DAYS:
        return _most_urgent(base, Tier.URGENT)
    return base


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

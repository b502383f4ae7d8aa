"""The onset questions after a finding, and what each pair of answers means.

"Did it start suddenly?" (yes / no / not sure), then, unless yes, "when did you first notice
it?" (in the last few hours / today or yesterday / longer ago). A photo's or a face test's own
tier presumes the weakness may be new ("if this is new, it may be a stroke"); the answers settle
that. The table and its reasons, with sources, are in docs/onset.md:

- any sudden droop is an emergency, whenever it began (BE-FAST; clot removal can help up to
  24 hours after onset, clot-dissolving drugs within about 4.5 hours);
- new weakness that is not known to have come slowly ("not sure", hours old) is too;
- weakness that came slowly today or yesterday is the typical course of Bell's palsy (urgent:
  steroids work best within 72 hours), unless the face already showed an emergency;
- weakness that came slowly more than two days ago is not an emergency (an old asymmetry): a
  doctor should check it, sooner if the person is not sure how it began, and within a day or
  two if the droop is clear (moderate or strong): it may be a swollen face nerve still inside
  its 3 days, and an answer never takes a clear droop below "see a doctor today".

Each row names the sentence that repeats the answers back (catalog key `onset.said.<said>`), so
the advice always agrees with what the person said.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from model.decision.triage import Tier


class Sudden(StrEnum):
    """The answer to "did it start suddenly?"."""

    YES = "yes"
    NO = "no"
    UNSURE = "unsure"


class Began(StrEnum):
    """The answer to "when did you first notice it?"."""

    HOURS = "hours"  # in the last few hours
    DAYS = "days"  # today or yesterday
    LONGER = "longer"  # longer ago (two days or more)


@dataclass(frozen=True)
class OnsetAdvice:
    tier: Tier
    said: str  # which sentence repeats the answers back: catalog key "onset.said.<said>"


E, U, S = Tier.EMERGENCY, Tier.URGENT, Tier.SOON
# (sudden, began) -> (advice for a mild finding, for a clear one). A clear finding is an
# EMERGENCY; an URGENT one takes the second column too wherever the first would take it below
# URGENT (`onset_advice`).
# Written out, not computed: each row is a clinical statement (docs/onset.md).
TABLE: dict[tuple[Sudden, Began | None], tuple[OnsetAdvice, OnsetAdvice]] = {
    (Sudden.YES, None): (OnsetAdvice(E, "sudden"), OnsetAdvice(E, "sudden")),
    (Sudden.NO, Began.HOURS): (OnsetAdvice(E, "slow_hours"), OnsetAdvice(E, "slow_hours")),
    (Sudden.NO, Began.DAYS): (OnsetAdvice(U, "slow_days"), OnsetAdvice(E, "slow_days_strong")),
    (Sudden.NO, Began.LONGER): (
        OnsetAdvice(S, "slow_longer"),
        OnsetAdvice(U, "slow_longer_strong"),
    ),
    (Sudden.UNSURE, Began.HOURS): (OnsetAdvice(E, "unsure_hours"), OnsetAdvice(E, "unsure_hours")),
    (Sudden.UNSURE, Began.DAYS): (OnsetAdvice(E, "unsure_days"), OnsetAdvice(E, "unsure_days")),
    (Sudden.UNSURE, Began.LONGER): (
        OnsetAdvice(U, "unsure_longer"),
        OnsetAdvice(U, "unsure_longer"),
    ),
}

# Results with a finding ask how it began; "no signs" and "no clear answer" do not (their
# replies carry the emergency line for a sudden droop instead).
FINDING_TIERS = (Tier.SOON, Tier.URGENT, Tier.EMERGENCY)


def asks_onset(tier: Tier) -> bool:
    """Does a result (a photo's or a face test's) of this tier ask "did it start suddenly?"."""
    return tier in FINDING_TIERS


def asks_when(sudden: Sudden) -> bool:
    """Is "when did you first notice it?" asked after this answer? Not after "yes": a sudden
    droop is an emergency whenever it began, so that answer is given at once."""
    return sudden is not Sudden.YES


def onset_advice(base: Tier, sudden: Sudden, began: Began | None = None) -> OnsetAdvice:
    """The advice for a finding of tier `base` once the person has answered. `began` is
    ignored after "yes" and required otherwise."""
    if not asks_onset(base):
        raise ValueError(f"no onset question after a {base.value} result")
    key = (sudden, None) if sudden is Sudden.YES else (sudden, began)
    if key not in TABLE:
        raise ValueError(f"'{sudden.value}' needs the answer to 'when?'")
    below, clear = TABLE[key]
    if base is Tier.EMERGENCY or (base is Tier.URGENT and below.tier is Tier.SOON):
        return clear
    return below

"""What a reply offers next, and when the emergency must be said at once.

- The closer check (the FAST face test) is offered where it can still tell something and no
  emergency is being told: no clear answer, a mild finding, no signs. Never under an emergency
  (nothing may invite a delay) nor under an urgent finding (the advice is a doctor today).
- A message the bot cannot check (text, voice, a video note, a sticker, another file) is always
  answered with the emergency line; words of distress get the full emergency reply first.
- An unfinished face test says an emergency at once: the person may stop before the end. A
  resting photo with an emergency finding gets the full reply; a smile weak on one side gets the
  emergency line before the eyebrow step (with the eyebrows not yet tested, it is treated as a
  stroke; the eyebrows can only tell it apart from a face-nerve palsy, which is urgent too).
"""

from __future__ import annotations

from enum import StrEnum

from model.decision.exam import Pattern, Step
from model.decision.triage import Tier


class Alert(StrEnum):
    NONE = "none"
    LINE = "line"  # the emergency line (the numbers) in the reply
    FULL = "full"  # the full emergency reply, before anything else


def offers_closer_check(tier: Tier, unclear: bool) -> bool:
    """Does a single photo's reply offer the face test ("still worried? a closer check")?
    `unclear`: checked, but the grader was torn between "no signs" and a finding."""
    return unclear or tier in (Tier.SOON, Tier.NO_SIGNS)


def message_alert(distress: bool) -> Alert:
    """What a reply to a message that is not a photo must carry (see model.decision.distress)."""
    return Alert.FULL if distress else Alert.LINE


def partial_exam_alert(step: Step, step_tier: Tier, pattern: Pattern | None) -> Alert:
    """What is said at once after `step` of a face test that goes on: `step_tier` is that
    photo's own tier, `pattern` the exam's so far (None before the smile)."""
    if step == "rest":
        return Alert.FULL if step_tier is Tier.EMERGENCY else Alert.NONE
    if step == "smile" and pattern == "lower_face":
        return Alert.LINE
    return Alert.NONE

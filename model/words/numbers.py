"""The emergency numbers every reply carries, from the deployment's settings: the bot's
(bot.config) and `palsy-check`'s are the same two variables, read by the same rule."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

EMERGENCY = "PALSY_EMERGENCY_NUMBER"
AMBULANCE = "PALSY_AMBULANCE_NUMBER"
_PHONE = re.compile(r"^\+?[0-9][0-9 -]{1,18}$")


class BadNumber(ValueError):
    """A setting that is not a phone number (`setting` names it)."""

    def __init__(self, setting: str, value: str) -> None:
        super().__init__(f"not a phone number: {value!r}")
        self.setting = setting


@dataclass(frozen=True)
class Numbers:
    """What the texts' {emergency} and {ambulance} say (India's by default: 112, ambulance
    108)."""

    emergency: str = "112"
    ambulance: str = "108"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Numbers:
        """PALSY_EMERGENCY_NUMBER and PALSY_AMBULANCE_NUMBER, else the defaults; BadNumber for
        a value that is not a phone number."""
        defaults = cls()
        return cls(
            emergency=_number(env, EMERGENCY, defaults.emergency),
            ambulance=_number(env, AMBULANCE, defaults.ambulance),
        )


def _number(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip() or default
    if not _PHONE.match(value):
        raise BadNumber(name, value)
    return value

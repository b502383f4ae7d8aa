"""The words people read, for the bot and `palsy-check` alike: one catalog per language
(`locales/<code>.json`: advice, the conversation, commands), `Texts` (a catalog worded for the
reader, values filled in), `render` (results, onset answers and face tests put into words) and
the emergency numbers those words carry (`numbers`).

Here rather than in bot/ so that `palsy-check` says what the bot says, from the same catalog,
without model/ importing a sibling package. Pure Python: nothing here loads a model.
"""

from __future__ import annotations

from model.words.catalog import (
    LANGUAGES,
    PLURAL_FORMS,
    Texts,
    Who,
    catalog,
    distress_phrases,
    placeholders,
    plain,
)
from model.words.numbers import AMBULANCE, EMERGENCY, BadNumber, Numbers

__all__ = [
    "AMBULANCE",
    "EMERGENCY",
    "LANGUAGES",
    "PLURAL_FORMS",
    "BadNumber",
    "Numbers",
    "Texts",
    "Who",
    "catalog",
    "distress_phrases",
    "placeholders",
    "plain",
]
# `render` (results in words) is a sub-module, imported where used (`from model.words import
# render`): it loads the decision modules, which `palsy-bot --alive` does not need.

"""Words of distress in a message (its text or a photo's caption): the emergency reply first.

The phrases are a short list per language, kept in the bot's text catalogs; every language's
list is checked whatever the chat's language (people type in more than one). A phrase matches at
the start of a word and, unless it ends in "*", at a word's end too ("help" is not "helpful",
"paraly*" is "paralysed"). Case, punctuation and the spellings that vary in typed Hindi (with or
without the nukta dot, chandrabindu typed as anusvara) do not matter.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_WORD = re.compile(r"[\w\u0900-\u0963\u0966-\u097f']+")
_VARIANTS = str.maketrans({"\u093c": None, "\u0901": "\u0902", "\u2019": "'", "`": "'"})


def normalise(text: str) -> str:
    """Lower case, one space between words, no punctuation, Hindi spelling variants folded."""
    folded = unicodedata.normalize("NFC", text).casefold().translate(_VARIANTS)
    return " ".join(_WORD.findall(folded))


def mentions_distress(text: str | None, phrases: Iterable[str]) -> bool:
    if not text:
        return False
    words = f" {normalise(text)} "
    for phrase in phrases:
        prefix = phrase.endswith("*")
        wanted = normalise(phrase.rstrip("*"))
        if wanted and f" {wanted}{'' if prefix else ' '}" in words:
            return True
    return False


def phrase_list(text: str) -> list[str]:
    """A catalog's comma-separated list of phrases."""
    return [p.strip() for p in text.split(",") if p.strip()]

"""Text catalogs: one JSON file per language in bot/locales, str.format placeholders, HTML text.

Two kinds of variant, both resolved here so that no handler picks wording by hand:
- who the check is for: `key@self` ("your face") and `key@other` ("their face") stand in for
  `key` (written for either) once the person has said (`Texts(..., who=...)`);
- counts: `key.zero`, `key.one`, `key.other` for `t(key, count=n)` ("1 result", "5 results";
  "no results" where a language says it differently).
"""

from __future__ import annotations

import html
import json
import string
from enum import StrEnum
from functools import cache
from pathlib import Path

from bot.config import LANGUAGES
from model.decision.distress import phrase_list

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
PLURAL_FORMS = ("zero", "one", "other")


class Who(StrEnum):
    """Whom the check is for: the sender ("your") or someone else ("their")."""

    SELF = "self"
    OTHER = "other"


@cache
def catalog(language: str) -> dict[str, str]:
    with (LOCALES_DIR / f"{language}.json").open(encoding="utf-8") as file:
        return json.load(file)


@cache
def distress_phrases() -> tuple[str, ...]:
    """Every language's words of distress (key `distress.words`): people type in more than one
    language, whatever the chat's."""
    lists = (phrase_list(catalog(language)["distress.words"]) for language in LANGUAGES)
    return tuple(sorted({phrase for phrases in lists for phrase in phrases}))


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def plural_form(count: int) -> str:
    """English and Hindi alike: one for 1, other otherwise (zero where a catalog has it)."""
    return "zero" if count == 0 else "one" if count == 1 else "other"


# Telegram's language_code that says little about the person: most phones sold in India are
# set to English, so the deployment's default (an NGO's PALSY_DEFAULT_LANGUAGE) wins over it.
UNTELLING_CODES = frozenset({"en"})


def pick_language(stored: str | None, telegram_code: str | None, default: str) -> str:
    """The user's stored choice, else Telegram's language_code ("hi", "hi-IN") unless it is
    English, else the default."""
    if stored in LANGUAGES:
        return stored
    code = (telegram_code or "").split("-")[0].lower()
    return code if code in LANGUAGES and code not in UNTELLING_CODES else default


class Texts:
    """One language's catalog, worded for `who`; values substituted into a text are
    HTML-escaped."""

    def __init__(self, language: str, who: Who | None = None, **common: object) -> None:
        self.language = language
        self.who = who
        self._catalog = catalog(language)
        self._common = common  # emergency numbers, limits: filled wherever a text asks

    def with_who(self, who: Who | None) -> Texts:
        return Texts(self.language, who, **self._common)

    def with_language(self, language: str) -> Texts:
        return Texts(language, self.who, **self._common)

    def key(self, key: str, count: int | None = None) -> str:
        """The catalog key that holds the wording: the count's form, then who's variant."""
        if count is not None and key not in self._catalog:
            form = plural_form(count)
            key = f"{key}.{form}" if f"{key}.{form}" in self._catalog else f"{key}.other"
        if self.who is not None and f"{key}@{self.who.value}" in self._catalog:
            return f"{key}@{self.who.value}"
        return key

    def __call__(self, key: str, **values: object) -> str:
        count = values.get("count")
        text = self._catalog[self.key(key, count if isinstance(count, int) else None)]
        names = placeholders(text)
        if not names:
            return text
        merged = {**self._common, **values}
        return text.format(**{n: html.escape(str(merged[n]), quote=False) for n in names})
